import type { ServerConfig } from '../config/server-schema.js';

/** The retention spec that applies to `client`: its own, or the server's. */
export function retentionFor(config: ServerConfig, client: string): string {
  return config.clients[client]?.retention ?? config.retention;
}
