import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { startSshdDaemon, type SshdDaemon } from './sshd-daemon.js';

/**
 * A throwaway OpenSSH sshd standing in for a client's sshd: a real `sshd -D -e` as the current
 * user, on a random port of `address` (127.0.0.2 by default), with its own host key and
 * authorized_keys in a temp dir. Unlike the one-shot sshd it serves any number of connections.
 */
export interface TestSshd {
  address: string;
  port: number;
  user: string;
  /** `ssh-ed25519 AAAA…` */
  hostPublicKey: string;
  /** a known_hosts line pinning this sshd */
  knownHostsLine: string;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

export interface TestSshdOptions {
  address?: string;
  /** one authorized_keys line (options allowed) */
  authorizedKeysLine: string;
  /** an OpenSSH private host key; generated when absent */
  hostKey?: { private: string; public: string };
}

export interface TestKeyPair {
  /** OpenSSH private key */
  private: string;
  /** `ssh-ed25519 AAAA… comment` */
  public: string;
}

export function generateTestKey(comment = 'pullback-test'): TestKeyPair {
  // core's generator: it redraws the rare key that ssh2 encodes malformed
  const pair = generateKeyPair(comment);
  return { private: pair.privateKey, public: pair.publicKey };
}

/** Writes a private key 0600 where ssh -i accepts it. */
export function writePrivateKey(path: string, key: TestKeyPair): string {
  writeFileSync(path, key.private.endsWith('\n') ? key.private : key.private + '\n', {
    mode: 0o600,
  });
  return path;
}

function sshdConfig(o: {
  port: number;
  address: string;
  hostKeyFile: string;
  authorizedKeys: string;
  user: string;
}): string {
  return [
    `Port ${o.port}`,
    `ListenAddress ${o.address}`,
    `HostKey ${o.hostKeyFile}`,
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    'PidFile none',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // as root (CI): keys only, any command (the tests run rsync senders through it)
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    `AllowUsers ${o.user}`,
    'MaxStartups 64',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

export async function startTestSshd(options: TestSshdOptions): Promise<TestSshd> {
  const address = options.address ?? '127.0.0.2';
  const dir = mkdtempSync(join(tmpdir(), 'pullback-client-sshd-'));
  chmodSync(dir, 0o700);
  const hostKey = options.hostKey ?? generateTestKey('pullback-test-client-host');
  const hostKeyFile = writePrivateKey(join(dir, 'host_key'), hostKey);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, options.authorizedKeysLine.trim() + '\n', { mode: 0o600 });
  const user = userInfo().username;
  const config = join(dir, 'sshd_config');
  let daemon: SshdDaemon;
  try {
    daemon = await startSshdDaemon({
      address,
      configFile: config,
      render: (port) => sshdConfig({ port, address, hostKeyFile, authorizedKeys, user }),
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const port = daemon.port;
  const hostPublicKey = hostKey.public.split(' ').slice(0, 2).join(' ');
  return {
    address,
    port,
    user,
    hostPublicKey,
    knownHostsLine: `[${address}]:${port} ${hostPublicKey}`,
    dir,
    log: daemon.log,
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What the backup host holds for one pull from `sshd`: the client key K and a known_hosts file
 * pinning the sshd's host key, 0600 in `dir`. Returns the `remote` part of buildPullArgv's options.
 */
export function pullCredentials(sshd: TestSshd, key: TestKeyPair, dir: string) {
  const identityFile = writePrivateKey(join(dir, 'client_key'), key);
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, sshd.knownHostsLine + '\n', { mode: 0o600 });
  return { user: sshd.user, host: sshd.address, port: sshd.port, identityFile, knownHostsFile };
}
