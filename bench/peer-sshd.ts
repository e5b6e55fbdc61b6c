import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { PullbackError } from '../core/errors.js';
import { generateKeyPair } from '../core/ssh/keys.js';
import { freePort } from '../test/support/ports.js';

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
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  let log = '';
  // a free port can be taken before sshd binds it: wait for sshd's own "listening" line
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort(address);
    writeFileSync(join(dir, 'sshd_config'), config({ port, address, dir, user }));
    const proc: ChildProcess = spawn(
      '/usr/sbin/sshd',
      ['-D', '-e', '-f', join(dir, 'sshd_config')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const listening = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      proc.stderr!.on('data', (d: Buffer) => {
        log = (log + d.toString()).slice(-20_000);
        if (log.includes(`Server listening on ${address} port ${port}`)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!listening) {
      proc.kill('SIGKILL');
      continue;
    }
    const publicKey = hostKey.publicKey.split(' ').slice(0, 2).join(' ');
    return {
      address,
      port,
      user,
      knownHostsLine: `[${address}]:${port} ${publicKey}`,
      async stop() {
        if (proc.exitCode === null && proc.signalCode === null) {
          await new Promise<void>((resolve) => {
            proc.once('exit', () => resolve());
            proc.kill('SIGTERM');
          });
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new PullbackError('INTERNAL', `the benchmark's sshd did not start on ${address}: ${log}`);
}
