import { PullbackError } from '../errors.js';
import type { ClientConfig, HostConfig } from './client-schema.js';

/** NOT_FOUND for a host name that is not paired, listing the ones that are. */
export function notPaired(config: Pick<ClientConfig, 'hosts'>, name: string): PullbackError {
  return new PullbackError(
    'NOT_FOUND',
    `no paired backup host "${name}" (paired: ${config.hosts.map((h) => h.name).join(', ') || 'none'})`,
  );
}

/** `config set-reach NAME REACH`: the config with that host's reach set, the rest as it was. */
export function setHostReach<C extends Pick<ClientConfig, 'hosts'>>(
  config: C,
  name: string,
  reach: NonNullable<HostConfig['reach']>,
): C {
  if (!config.hosts.some((h) => h.name === name)) throw notPaired(config, name);
  return { ...config, hosts: config.hosts.map((h) => (h.name === name ? { ...h, reach } : h)) };
}
