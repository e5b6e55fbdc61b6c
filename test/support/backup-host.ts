import { mkdtempSync, mkdirSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { addAuthorizedClient } from '../../core/server/authorized-clients.js';
import { writeServerConfig, parseServerConfig } from '../../core/config/server-store.js';
import { writeClientConfig, parseClientConfig } from '../../core/config/client-store.js';
import type { ClientConfig } from '../../core/config/client-schema.js';
import { pullbackCommand } from '../../core/self-command.js';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { startSshdDaemon, type SshdDaemon } from './sshd-daemon.js';

/**
 * A throwaway backup host on loopback: a real OpenSSH sshd on 127.0.0.3 (by default), running
 * as the current user, whose authorized_keys gets the restricted `pullback serve` entries.
 * Used by integration tests, the demo and the benchmarks.
 */
export interface BackupHost {
  address: string;
  port: number;
  user: string;
  /** the backup host's public host key, `ssh-ed25519 AAAA…` */
  hostKey: string;
  dir: string;
  storage: string;
  configFile: string;
  authorizedKeys: string;
  addClient(name: string, publicKey: string): void;
  stopSshd(): Promise<void>;
  startSshd(): Promise<void>;
  /** a new host key: what an impostor or a reinstall looks like to the client */
  replaceHostKey(): Promise<void>;
  sshdLog(): string;
  stop(): Promise<void>;
}

export interface BackupHostOptions {
  address?: string;
  storage?: string;
  backend?: 'auto' | 'hardlink' | 'btrfs';
  maxParallel?: number;
  retention?: string;
  /** run sshd inside this network namespace (ip netns exec) */
  netns?: string;
}

function generateHostKey(dir: string): string {
  const pair = generateKeyPair('pullback-test-backup-host');
  writeFileSync(join(dir, 'host_key'), pair.privateKey, { mode: 0o600 });
  writeFileSync(join(dir, 'host_key.pub'), pair.publicKey + '\n', { mode: 0o644 });
  return pair.publicKey.split(' ').slice(0, 2).join(' ');
}

export async function startBackupHost(options: BackupHostOptions = {}): Promise<BackupHost> {
  const address = options.address ?? '127.0.0.3';
  const dir = mkdtempSync(join(tmpdir(), 'pullback-backup-host-'));
  chmodSync(dir, 0o700);
  const storage = options.storage ?? join(dir, 'storage');
  mkdirSync(storage, { recursive: true });
  const configFile = join(dir, 'server.json');
  writeServerConfig(
    configFile,
    parseServerConfig({
      storage,
      backend: options.backend ?? 'hardlink',
      maxParallel: options.maxParallel ?? 4,
      ...(options.retention ? { retention: options.retention } : {}),
    }),
  );
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, '', { mode: 0o600 });
  let hostKey = generateHostKey(dir);
  const user = userInfo().username;
  const sshdConfig = join(dir, 'sshd_config');
  const render = (port: number) =>
    [
      `Port ${port}`,
      `ListenAddress ${address}`,
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile none`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitRootLogin forced-commands-only',
      'StrictModes no',
      `AllowUsers ${user}`,
      'MaxStartups 64',
      // no forwarding of any kind: tunnel mode relays through serve itself (core/tunnel/)
      'DisableForwarding yes',
      'LogLevel VERBOSE',
      // stands for the documented account with /bin/sh (docs/server.md): tests and the bench
      // run as root, whose bash would read ~/.bashrc before every `pullback serve`
      'SetEnv SHLVL=1',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n');
  let sshd: SshdDaemon | undefined;
  let port = 0;
  let lastLog = '';
  const startSshd = async () => {
    sshd = await startSshdDaemon({
      address,
      configFile: sshdConfig,
      render,
      port: port || undefined,
      netns: options.netns,
    });
    port = sshd.port;
  };
  const stopSshd = async () => {
    const running = sshd;
    sshd = undefined;
    if (!running) return;
    lastLog = running.log();
    await running.stop();
  };
  await startSshd();
  return {
    address,
    get port() {
      return port;
    },
    user,
    get hostKey() {
      return hostKey;
    },
    dir,
    storage,
    configFile,
    authorizedKeys,
    addClient(name, publicKey) {
      addAuthorizedClient(
        authorizedKeys,
        name,
        publicKey,
        pullbackCommand('serve', '--client', name, '--config', configFile),
      );
    },
    stopSshd,
    startSshd,
    async replaceHostKey() {
      await stopSshd();
      hostKey = generateHostKey(dir);
      await startSshd();
    },
    sshdLog: () => sshd?.log() ?? lastLog,
    async stop() {
      await stopSshd();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestClient {
  env: NodeJS.ProcessEnv;
  identityKey: string;
  publicKey: string;
  config: ClientConfig;
  name: string;
  dir: string;
}

/** A paired client: its own config and state dirs, identity key, the host pinned and authorized. */
export async function makeTestClient(
  host: BackupHost,
  options: {
    sources: string[];
    name?: string;
    excludes?: string[];
    hostName?: string;
    localAddress?: string;
    extra?: Partial<ClientConfig>;
  },
): Promise<TestClient> {
  const name = options.name ?? `client-${Math.random().toString(36).slice(2, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), `pullback-client-${name}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULLBACK_CONFIG_DIR: join(dir, 'config'),
    PULLBACK_STATE_DIR: join(dir, 'state'),
  };
  mkdirSync(env.PULLBACK_CONFIG_DIR!, { recursive: true, mode: 0o700 });
  const pair = generateKeyPair(`pullback-${name}`);
  writeFileSync(join(env.PULLBACK_CONFIG_DIR!, 'id_ed25519'), pair.privateKey, { mode: 0o600 });
  writeFileSync(join(env.PULLBACK_CONFIG_DIR!, 'id_ed25519.pub'), pair.publicKey + '\n', {
    mode: 0o644,
  });
  const config = parseClientConfig({
    name,
    sources: options.sources,
    excludes: options.excludes ?? [],
    hosts: [
      {
        name: options.hostName ?? 'home',
        user: host.user,
        address: host.address,
        port: host.port,
        hostKey: host.hostKey,
        localAddress: options.localAddress ?? '127.0.0.2',
      },
    ],
    ...options.extra,
  });
  writeClientConfig(config, env);
  host.addClient(name, pair.publicKey);
  return { env, identityKey: pair.privateKey, publicKey: pair.publicKey, config, name, dir };
}
