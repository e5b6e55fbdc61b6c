import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { PullbackError } from '../core/errors.js';
import { generateKeyPair } from '../core/ssh/keys.js';
import { startSshdDaemon, type SshdDaemon } from '../test/support/sshd-daemon.js';

/**
 * A plain OpenSSH sshd for the peers (bare rsync, restic's sftp, borg serve): any command, an
 * sftp subsystem, one authorized key. It offers the same key exchange, ciphers and MACs as
 * Pullback's one-shot sshd (core/ssh/sshd-config.ts), so every tool pays the same for
 * encryption and the comparison measures the tools, not the cipher.
 */
export interface PeerSshd {
  address: string;
  port: number;
  user: string;
  /** a known_hosts line pinning this sshd */
  knownHostsLine: string;
  stop(): Promise<void>;
}

function config(o: { port: number; address: string; dir: string; user: string }): string {
  return [
    `Port ${o.port}`,
    `ListenAddress ${o.address}`,
    `HostKey ${join(o.dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(o.dir, 'authorized_keys')}`,
    'PidFile none',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    `AllowUsers ${o.user}`,
    'MaxStartups 64',
    'UseDNS no',
    'Compression no',
    'KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org',
    'Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes128-ctr',
    'MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com',
    // no ~/.bashrc before each command (borg serve, rsync --server), as for Pullback's sshds
    'SetEnv SHLVL=1',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

export async function startPeerSshd(address: string, authorizedKey: string): Promise<PeerSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-bench-sshd-'));
  chmodSync(dir, 0o700);
  const hostKey = generateKeyPair('pullback-bench-peer');
  writeFileSync(join(dir, 'host_key'), hostKey.privateKey + '\n', { mode: 0o600 });
  writeFileSync(join(dir, 'authorized_keys'), authorizedKey.trim() + '\n', { mode: 0o600 });
  const user = userInfo().username;
  let daemon: SshdDaemon;
  try {
    daemon = await startSshdDaemon({
      address,
      configFile: join(dir, 'sshd_config'),
      render: (port) => config({ port, address, dir, user }),
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new PullbackError(
      'INTERNAL',
      `the benchmark's sshd did not start on ${address}: ${(err as Error).message}`,
    );
  }
  const publicKey = hostKey.publicKey.split(' ').slice(0, 2).join(' ');
  return {
    address,
    port: daemon.port,
    user,
    knownHostsLine: `[${address}]:${daemon.port} ${publicKey}`,
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
