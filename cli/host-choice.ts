import type { ClientConfig, HostConfig } from '../core/config/client-schema.js';
import { PullbackError } from '../core/errors.js';

/** `--host NAME`, or the only/first paired host; `chosen` says which when it was not named. */
export function chooseHost(
  config: ClientConfig,
  name: string | undefined,
): {
  host: HostConfig;
  byDefault: boolean;
} {
  if (config.hosts.length === 0)
    throw new PullbackError(
      'NOT_PAIRED',
      'no backup host paired yet; run "pullback pair USER@HOST"',
    );
  if (name === undefined) return { host: config.hosts[0]!, byDefault: true };
  const host = config.hosts.find((h) => h.name === name);
  if (!host) throw new PullbackError('BAD_ARGS', `no paired backup host is called "${name}"`);
  return { host, byDefault: false };
}

/**
 * Says which host a command chose when there were several and none was named (on stderr, so
 * stdout stays data; with one host the results name it, and a refusal stays one line).
 */
export function sayDefaultHost(config: ClientConfig, host: HostConfig): void {
  if (config.hosts.length > 1)
    console.error(
      `backup host: ${host.name} (the first of ${config.hosts.length}; --host NAME for another)`,
    );
}
