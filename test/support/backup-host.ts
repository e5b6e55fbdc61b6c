import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { addAuthorizedClient } from '../../core/server/authorized-clients.js';
import { writeServerConfig, parseServerConfig } from '../../core/config/server-store.js';
import { writeClientConfig, parseClientConfig } from '../../core/config/client-store.js';
import type { ClientConfig } from '../../core/config/client-schema.js';
import { pullbackCommand } from '../../core/self-command.js';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { freePort } from './ports.js';

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

export function waitForPort(address: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = connect({ host: address, port });
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`${address}:${port} did not open in ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
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
  const port = await freePort(address);
  const user = userInfo().username;
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const sshdConfig = join(dir, 'sshd_config');
  writeFileSync(
    sshdConfig,
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
      'LogLevel VERBOSE',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  let sshd: ChildProcess | undefined;
  let log = '';
  const startSshd = async () => {
    const argv = ['/usr/sbin/sshd', '-D', '-e', '-f', sshdConfig];
    const [cmd, ...args] = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argv] : argv;
    const proc = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd = proc;
    // Ready means *this* sshd says it listens: a port probe could reach somebody else's.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backup host sshd not ready in 10 s: ${log}`)), 10_000);
      proc.stderr!.on('data', (d: Buffer) => {
        log = (log + d.toString()).slice(-200_000);
        if (log.includes(`Server listening on ${address} port ${port}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`backup host sshd exited (${code}): ${log}`));
      });
    });
  };
  const stopSshd = async () => {
    const proc = sshd;
    sshd = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  };
  await startSshd();
  return {
    address,
    port,
    user,
    get hostKey() {
      return hostKey;
    },
    dir,
    storage,
    configFile,
    authorizedKeys,
    addClient(name, publicKey) {
      addAuthorizedClient(authorizedKeys, name, publicKey, pullbackCommand('serve', '--client', name, '--config', configFile));
    },
    stopSshd,
    startSshd,
    async replaceHostKey() {
      await stopSshd();
      hostKey = generateHostKey(dir);
      await startSshd();
    },
    sshdLog: () => log,
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
  options: { sources: string[]; name?: string; excludes?: string[]; hostName?: string; localAddress?: string; extra?: Partial<ClientConfig> },
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
  writeFileSync(join(env.PULLBACK_CONFIG_DIR!, 'id_ed25519.pub'), pair.publicKey + '\n', { mode: 0o644 });
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

