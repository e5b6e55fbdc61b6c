import type { ServerConfig } from '../config/server-schema.js';
import { readServerConfig } from '../config/server-store.js';
import { PullbackError, asPullbackError } from '../errors.js';
import { parseRetentionSpec } from '../storage/retention.js';

/**
 * The server config as every server command needs it: the schema (server-store.ts), plus the
 * retention specs parsed, so a typo fails at once with the field named, not at the first prune.
 */
export function loadServerConfig(file: string): ServerConfig {
  const config = readServerConfig(file);
  checkRetentionSpec(config.retention, `${file}: retention`);
  for (const [name, client] of Object.entries(config.clients)) {
    if (client.retention !== undefined)
      checkRetentionSpec(client.retention, `${file}: clients.${name}.retention`);
  }
  return config;
}

function checkRetentionSpec(spec: string, field: string): void {
  try {
    parseRetentionSpec(spec);
  } catch (err) {
    throw new PullbackError(
      'BAD_CONFIG',
      `${field}: ${asPullbackError(err).message.replace(/^retention: /, '')}`,
    );
  }
}

/** The retention spec that applies to `client`: its own, or the server's. */
export function retentionFor(config: ServerConfig, client: string): string {
  return config.clients[client]?.retention ?? config.retention;
}
