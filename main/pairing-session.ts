import { defaultClientName } from '../core/config/default-client-name.js';
import { hostSchema, type HostConfig } from '../core/config/client-schema.js';
import { ensureIdentityKey, readIdentityKey } from '../core/config/identity.js';
import { zodToPullbackError } from '../core/config/zod-error.js';
import { PullbackError, asPullbackError } from '../core/errors.js';
import { helloBackupHost } from '../core/handoff/backup-client.js';
import { fetchHostKey, parseUserAtHost, serverAddClientLine } from '../core/handoff/pairing.js';
import { fingerprint } from '../core/ssh/keys.js';
import type { PairingCheck, PairingOffer } from '../preload/api.js';
import type { SettingsStore } from './settings-store.js';

/**
 * The pairing wizard's steps, the same as `pullback pair`: read the host key without logging
 * in (start), pin it once the user compared the fingerprint (confirm), then ask the backup
 * host whether it lets us in yet (check).
 */
export interface PairingSession {
  start(userAtHost: string): Promise<PairingOffer>;
  confirm(): Promise<HostConfig>;
  check(): Promise<PairingCheck>;
}

export function createPairingSession(deps: {
  env: NodeJS.ProcessEnv;
  settings: SettingsStore;
  /** connect from this address (tests, multi-homed machines) */
  localAddress?: string;
}): PairingSession {
  let offered: HostConfig | undefined;
  let pinned: HostConfig | undefined;

  /** A fresh machine gets its default name (hostname + machine suffix) and an identity key on first pairing. */
  function identity() {
    let config = deps.settings.read();
    if (config.name === 'this-machine') {
      config = { ...config, name: defaultClientName() };
      deps.settings.write(config);
    }
    return { config, key: ensureIdentityKey(config.name, deps.env) };
  }

  return {
    async start(userAtHost) {
      const target = parseUserAtHost(userAtHost.trim());
      const { config, key } = identity();
      const hostKey = await fetchHostKey({
        ...target,
        ...(deps.localAddress && { localAddress: deps.localAddress }),
      });
      const parsed = hostSchema.safeParse({
        name: target.address.replace(/[^A-Za-z0-9._-]/g, '-'),
        ...target,
        hostKey,
        ...(deps.localAddress && { localAddress: deps.localAddress }),
      });
      if (!parsed.success) throw zodToPullbackError('BAD_ARGS', 'pair', parsed.error);
      offered = parsed.data;
      pinned = undefined;
      return {
        fingerprint: fingerprint(hostKey),
        hostKey,
        serverLine: serverAddClientLine(config.name, key.publicKey),
        name: offered.name,
      };
    },

    async confirm() {
      if (!offered) throw new PullbackError('BAD_REQUEST', 'pair: no host key shown yet');
      const host = offered;
      const config = deps.settings.read();
      deps.settings.write({
        ...config,
        hosts: [...config.hosts.filter((h) => h.name !== host.name), host],
      });
      pinned = host;
      return host;
    },

    async check() {
      if (!pinned) throw new PullbackError('BAD_REQUEST', 'pair: confirm the fingerprint first');
      try {
        const welcome = await helloBackupHost(pinned, readIdentityKey(deps.env).privateKey);
        return { status: 'ok', client: welcome.client, snapshots: welcome.snapshots };
      } catch (err) {
        const error = asPullbackError(err);
        if (error.code === 'AUTH_FAILED') return { status: 'waiting' };
        return { status: 'error', code: error.code, message: error.message };
      }
    },
  };
}
