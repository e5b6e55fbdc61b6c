import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { PullbackError } from '../core/errors.js';
import { SSH2_ALGORITHMS } from '../core/handoff/connect.js';
import { execTool, timed } from './exec.js';
import type { PeerLogin } from './peer-login.js';
import { loadSince, sampleLoad } from './system-load.js';

/**
 * What encryption costs on this machine, for the tunnel's two layers: the primitives alone
 * (`openssl speed`: the libcrypto OpenSSH, Node and ssh2's binding use), a whole OpenSSH connection per
 * cipher (the inner layer, the pull's ssh), and a whole ssh2 connection (the outer layer, the
 * handoff channel the client writes into).
 */
export interface CipherRate {
  layer: 'primitive' | 'openssh' | 'ssh2';
  /** the cipher, and for OpenSSH and ssh2 the MAC it negotiated */
  name: string;
  mibPerSecond: number;
  /** CPU of the bench's process tree per GiB moved (connections only) */
  cpuSecondsPerGiB?: number;
}

const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;
const SINK = 'dd of=/dev/null bs=256k status=none';

/** `openssl speed` on 16 KiB blocks for one second: the libcrypto both OpenSSH and Node use. */
async function primitive(name: string, args: string[]): Promise<CipherRate> {
  const { stdout } = await execTool('openssl', [
    'speed',
    '-elapsed',
    '-seconds',
    '1',
    '-bytes',
    '16384',
    ...args,
  ]);
  // the last line: `AES-128-GCM    3240017.92k` (thousands of bytes per second)
  const k = Number(/([\d.]+)k\s*$/.exec(stdout.trim())?.[1]);
  return { layer: 'primitive', name, mibPerSecond: (k * 1000) / MiB };
}

/** The constructions the two layers can choose, the MAC of the CTR one apart. */
async function primitives(): Promise<CipherRate[]> {
  const rates: CipherRate[] = [];
  for (const alg of ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305', 'aes-128-ctr'])
    rates.push(await primitive(alg, ['-evp', alg]));
  rates.push(await primitive('hmac-sha256 (the MAC aes128-ctr needs)', ['-hmac', 'sha256']));
  return rates;
}

function negotiated(stderr: string): string {
  const m = /kex: client->server cipher: (\S+) MAC: (\S+)/.exec(stderr);
  if (!m) return 'unknown cipher';
  return m[2] === '<implicit>' ? m[1]! : `${m[1]} + ${m[2]}`;
}

/** `head -c N /dev/zero | ssh … dd of=/dev/null`: wall time and its processes' CPU. */
function sshPipe(words: string[], bytes: number) {
  return new Promise<{ stderr: string }>((resolve, reject) => {
    const head = spawn('head', ['-c', String(bytes), '/dev/zero'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [ssh, ...args] = words;
    const child = spawn(ssh!, ['-v', ...args, SINK], { stdio: [head.stdout, 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-50_000)));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve({ stderr })
        : reject(new PullbackError('INTERNAL', `ssh to the bench's sshd exited ${code}`)),
    );
  });
}

/** One OpenSSH connection moving `bytes`, its login (the same with 0 bytes) taken off. */
async function openssh(peer: PeerLogin, cipher: string | undefined, bytes: number, work: string) {
  const { user, host } = peer.remote;
  const words = [...peer.sshWords, ...(cipher ? ['-c', cipher] : []), `${user}@${host}`];
  const login = (await timed(() => sshPipe(words, 0))).seconds;
  const before = sampleLoad(work);
  const { seconds, value } = await timed(() => sshPipe(words, bytes));
  const cpu = loadSince(before, work).toolCpuSeconds;
  const name = negotiated(value.stderr) + (cipher ? '' : ' (as the pull negotiates)');
  const rate: CipherRate = {
    layer: 'openssh',
    name,
    mibPerSecond: bytes / MiB / Math.max(seconds - login, 1e-3),
    cpuSecondsPerGiB: (cpu * 1024 * MiB) / bytes,
  };
  return rate;
}

/** The outer layer alone: ssh2 (as the handoff connects) writing `bytes` into one exec channel. */
async function ssh2Rate(peer: PeerLogin, bytes: number, work: string): Promise<CipherRate> {
  const conn = new Client();
  let cipher = 'unknown cipher';
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve());
    conn.once('error', reject);
    conn.on('handshake', (n: { cs: { cipher: string; mac: string } }) => {
      cipher = n.cs.mac ? `${n.cs.cipher} + ${n.cs.mac}` : n.cs.cipher;
    });
    conn.connect({
      host: peer.remote.host,
      port: peer.remote.port,
      username: peer.remote.user,
      privateKey: readFileSync(peer.remote.identityFile),
      algorithms: SSH2_ALGORITHMS,
    });
  });
  try {
    const before = sampleLoad(work);
    const { seconds } = await timed(
      () =>
        new Promise<void>((resolve, reject) => {
          conn.exec(SINK, (err, channel) => {
            if (err) return reject(err);
            const chunk = Buffer.alloc(CHUNK);
            let sent = 0;
            const pump = (): void => {
              while (sent < bytes) {
                sent += CHUNK;
                if (!channel.write(chunk)) return void channel.once('drain', pump);
              }
              channel.end();
            };
            channel.once('close', () => resolve());
            channel.resume();
            pump();
          });
        }),
    );
    const cpu = loadSince(before, work).toolCpuSeconds;
    return {
      layer: 'ssh2',
      name: `${cipher} (as the handoff connects)`,
      mibPerSecond: bytes / MiB / seconds,
      cpuSecondsPerGiB: (cpu * 1024 * MiB) / bytes,
    };
  } finally {
    conn.end();
  }
}

/** The ciphers the pull's ssh may pick from the one-shot sshd, the way it picks today, and ssh2. */
export async function measureCipherRates(
  peer: PeerLogin,
  bytes: number,
  work: string,
): Promise<CipherRate[]> {
  const rates = await primitives();
  for (const cipher of [
    undefined,
    'aes128-gcm@openssh.com',
    'aes256-gcm@openssh.com',
    'aes128-ctr',
  ])
    rates.push(await openssh(peer, cipher, bytes, work));
  rates.push(await ssh2Rate(peer, bytes, work));
  return rates;
}
