import { Client, type ConnectConfig } from 'ssh2';
import { lookup } from 'node:dns/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { PullbackError } from '../errors.js';
import type { HostConfig } from '../config/client-schema.js';
import { makeHostVerifier, publicKeyLineFromBlob } from '../ssh/hostkey-pin.js';
import { safeText } from '../safe-text.js';

/**
 * Algorithms both Node (OpenSSL) and Electron (BoringSSL) support: ed25519 keys, AES-GCM/CTR,
 * no chacha20-poly1305.
 */
export const SSH2_ALGORITHMS: NonNullable<ConnectConfig['algorithms']> = {
  kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256'],
  serverHostKey: ['ssh-ed25519'],
  cipher: ['aes256-gcm@openssh.com', 'aes128-gcm@openssh.com', 'aes256-ctr', 'aes128-ctr'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256'],
  compress: ['none'],
};

export interface HandoffConnection {
  ssh: Client;
  /** the address we connected from: the one-shot sshd listens here, the backup host connects back here */
  localAddress: string;
  /** the backup host's address: the only one the one-shot sshd accepts */
  remoteAddress: string;
  /** set when the connection broke after it was up (keepalives unanswered, reset): why */
  lost?: PullbackError;
  close(): void;
}

export interface ConnectOptions {
  timeoutMs?: number;
  /** pairing only: accept whatever key is shown and report it (trust on first use) */
  onHostKey?: (publicKeyLine: string) => boolean;
  /** stops the connecting (TCP or SSH handshake) at once: rejects with CANCELLED */
  signal?: AbortSignal;
}

const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 4;

const cancelled = () => new PullbackError('CANCELLED', 'cancelled while connecting');

async function resolveAddress(address: string): Promise<string> {
  try {
    return (await lookup(address)).address;
  } catch (err) {
    throw new PullbackError('UNREACHABLE', `cannot resolve ${address}: ${(err as Error).message}`);
  }
}

function openSocket(
  ip: string,
  port: number,
  localAddress: string | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ host: ip, port, localAddress });
    const onAbort = () => {
      clearTimeout(timer);
      sock.destroy();
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      reject(
        new PullbackError(
          'UNREACHABLE',
          `${ip}:${port} did not answer within ${timeoutMs / 1000} s`,
        ),
      );
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(new PullbackError('UNREACHABLE', `cannot connect to ${ip}:${port}: ${err.message}`));
    });
  });
}

/**
 * Opens an SSH connection to the backup host with its host key pinned (S6). Without a pinned
 * key (pairing), `onHostKey` decides. ssh2 accepts any host key unless hostVerifier says no.
 */
export async function connectToBackupHost(
  host: Pick<HostConfig, 'address' | 'port' | 'user' | 'hostKey' | 'localAddress'>,
  identityKey: string,
  options: ConnectOptions = {},
): Promise<HandoffConnection> {
  const { signal } = options;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const isPinned = options.onHostKey ? undefined : makeHostVerifier(host.hostKey);
  if (signal?.aborted) throw cancelled();
  const ip = await resolveAddress(host.address);
  if (signal?.aborted) throw cancelled();
  const sock = await openSocket(ip, host.port, host.localAddress, timeoutMs, signal);
  if (signal?.aborted) {
    sock.destroy();
    throw cancelled();
  }
  const localAddress = sock.localAddress ?? '';
  const remoteAddress = sock.remoteAddress ?? ip;
  const ssh = new Client();
  let hostKeyRejected: string | undefined;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      ssh.on('error', () => {}); // the handshake cut short may still say so
      sock.destroy();
      ssh.end();
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    ssh.once('ready', () => {
      signal?.removeEventListener('abort', onAbort);
      const conn: HandoffConnection = {
        ssh,
        localAddress,
        remoteAddress,
        close: () => ssh.end(),
      };
      // after the handshake an error means the link broke: whoever waits on a channel says so
      ssh.on('error', (err: Error & { level?: string }) => {
        conn.lost ??= new PullbackError(
          'UNREACHABLE',
          err.level === 'client-timeout'
            ? `lost the connection to ${host.address}: no answer for ${(KEEPALIVE_INTERVAL_MS * KEEPALIVE_COUNT_MAX) / 1000} s (the link went down?)`
            : `lost the connection to ${host.address}: ${safeText(err.message)}`,
        );
      });
      resolve(conn);
    });
    ssh.once('error', (err: Error & { level?: string }) => {
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      if (hostKeyRejected) {
        reject(new PullbackError('HOST_KEY_MISMATCH', hostKeyRejected));
      } else if (err.level === 'client-authentication') {
        reject(
          new PullbackError(
            'AUTH_FAILED',
            `${host.user}@${host.address} refused our key; has "pullback server add-client" been run there?`,
          ),
        );
      } else if (err.level === 'client-timeout') {
        reject(new PullbackError('UNREACHABLE', `${host.address}: SSH handshake timed out`));
      } else {
        // ssh2 passes on the server's disconnect reason: the peer's words
        reject(new PullbackError('UNREACHABLE', `${host.address}: ${safeText(err.message)}`));
      }
    });
    ssh.connect({
      sock,
      username: host.user,
      privateKey: identityKey,
      algorithms: SSH2_ALGORITHMS,
      readyTimeout: timeoutMs,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      hostVerifier: (blob: Buffer) => {
        const shown = publicKeyLineFromBlob(blob);
        if (options.onHostKey) {
          if (options.onHostKey(shown)) return true;
          hostKeyRejected = 'host key not accepted';
          return false;
        }
        if (isPinned?.(blob)) return true;
        hostKeyRejected = `${host.address} presented a different host key than the one pinned at pairing: possible interception, or the backup host was reinstalled; re-pair only if you know why`;
        return false;
      },
    });
  });
}

/**
 * The host key a backup host presents, read during the handshake and before any login (no
 * key is offered, so the backup host logs no failed authentication). Pairing shows it to pin
 * it; the agent compares it with the pinned one to tell "home" from elsewhere.
 */
export async function peekHostKey(
  target: Pick<HostConfig, 'address' | 'port' | 'user' | 'localAddress'>,
  timeoutMs?: number,
): Promise<string> {
  let shown: string | undefined;
  try {
    const conn = await connectToBackupHost({ ...target, hostKey: '' }, '', {
      timeoutMs,
      onHostKey: (key) => {
        shown = key;
        return false;
      },
    });
    conn.close();
  } catch (err) {
    if (shown === undefined) throw err;
  }
  if (shown === undefined)
    throw new PullbackError('PROTOCOL', `${target.address} presented no host key`);
  return shown;
}
