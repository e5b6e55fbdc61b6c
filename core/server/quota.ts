import type { BackendName } from '../storage/backend.js';
import type { ServerClientConfig } from '../config/server-schema.js';
import { formatBytes } from '../format.js';
import { clientDirSize } from './client-size.js';

/**
 * A client's `quota` (bytes, in the server config) caps the disk it may fill: a backup is
 * refused before anything is pulled while the client's directory already takes that much.
 * One run may still go past it (it is measured before the run, not during), so set it one
 * backup's worth below what you can spare. The size is measured as `server status` does.
 */
export function quotaProblem(
  clientDir: string,
  backend: BackendName,
  client: string,
  settings: ServerClientConfig | undefined,
): string | undefined {
  const quota = settings?.quota;
  if (quota === undefined) return undefined;
  // unmeasurable (du failed) counts as empty: a backup matters more than the cap
  const used = clientDirSize(clientDir, backend) ?? 0;
  if (used < quota) return undefined;
  return `client ${client} already uses ${formatBytes(used)} of its quota of ${formatBytes(quota)} on the backup host; nothing was pulled (the backup host's admin can prune or raise "quota")`;
}
