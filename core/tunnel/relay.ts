import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { basename, join } from 'node:path';
import { PullbackError } from '../errors.js';
import type { TunnelTicket } from '../handoff/messages.js';
import { readFirstLine } from './first-line.js';
import { splice } from '../splice.js';

/*
 * The backup host's half of a tunnel, held by the `serve` that runs the backup. It listens on
 * two unix sockets in the run's 0700 one-time directory: `tunnel.sock`, which the client's
 * second channel (another `serve --client NAME`, see serve-tunnel.ts) joins with the ticket's
 * token, and `pull.sock`, which the pull's ssh reaches through its ProxyCommand (proxy.ts).
 * Each accepts exactly one connection and is then closed; the two are spliced together.
 */

export const TUNNEL_SOCKET = 'tunnel.sock';
export const PULL_SOCKET = 'pull.sock';
/** what the joining serve says first: who it is, from the forced command and sshd's environment */
export interface TunnelJoin {
  token: string;
  client: string;
  connection: string;
}
export const JOIN_ACCEPTED = 'ok';
const JOIN_LINE_MAX = 1024;
const JOIN_LINE_TIMEOUT_MS = 5_000;
/** the client opens its tunnel channel right after `accepted` */
export const DEFAULT_JOIN_TIMEOUT_MS = 30_000;
/** sun_path holds 108 bytes on Linux, the terminating NUL included */
const MAX_SOCKET_PATH = 107;

export interface TunnelRelay {
  ticket: TunnelTicket;
  /** the socket the pull's ssh reaches through its ProxyCommand */
  pullSocket: string;
  /** resolves once the client's tunnel channel has joined; rejects on timeout or abort */
  joined: Promise<void>;
  close(): void;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function listenUnix(server: Server, path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
    throw new PullbackError(
      'INTERNAL',
      `the tunnel socket path ${path} is too long for a unix socket: use a shorter runtime directory`,
    );
  return new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(new PullbackError('INTERNAL', `cannot listen on ${path}: ${err.message}`)),
    );
    server.listen({ path, exclusive: true }, () => resolve());
  });
}

/** Ends a server for good: no later connection, no socket file left behind. */
function shut(server: Server, path: string): void {
  server.close();
  rmSync(path, { force: true });
}

/** Is this the run's own client, on the handoff's own connection, with the ticket's token? */
function admits(line: string, expected: TunnelJoin): boolean {
  let join: Partial<TunnelJoin>;
  try {
    join = JSON.parse(line) as Partial<TunnelJoin>;
  } catch {
    return false;
  }
  return (
    typeof join.token === 'string' &&
    sameSecret(join.token, expected.token) &&
    join.client === expected.client &&
    join.connection === expected.connection
  );
}

/**
 * Opens the relay of one backup run in `dir` (the run's 0700 one-time directory, whose name is
 * the ticket's id). Only a serve of the same client over the same SSH connection (sshd's
 * SSH_CONNECTION, ports included), presenting the token, joins; anything else is dropped
 * unanswered and does not use up the tunnel.
 */
export async function openTunnelRelay(o: {
  dir: string;
  client: string;
  /** SshConnectionInfo.id of the handoff */
  connection: string;
  signal: AbortSignal;
  joinTimeoutMs?: number;
}): Promise<TunnelRelay> {
  const ticket: TunnelTicket = { id: basename(o.dir), token: randomBytes(32).toString('hex') };
  const expected: TunnelJoin = { token: ticket.token, client: o.client, connection: o.connection };
  const tunnelPath = join(o.dir, TUNNEL_SOCKET);
  const pullPath = join(o.dir, PULL_SOCKET);
  const tunnelServer = createServer();
  const pullServer = createServer();
  const sockets = new Set<Socket>();
  let joinedSocket: { socket: Socket; rest: Buffer } | undefined;
  let closed = false;
  let onJoined!: () => void;
  let onJoinFailed!: (err: PullbackError) => void;
  const joined = new Promise<void>((resolve, reject) => {
    onJoined = resolve;
    onJoinFailed = reject;
  });
  joined.catch(() => {}); // the caller may be gone before it looks
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    shut(tunnelServer, tunnelPath);
    shut(pullServer, pullPath);
    for (const s of sockets) s.destroy();
    o.signal.removeEventListener('abort', onAbort);
    onJoinFailed(new PullbackError('CANCELLED', 'the tunnel was closed before the client joined'));
  };
  const onAbort = () => close();
  const timeoutMs = o.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
  const timer = setTimeout(() => {
    if (joinedSocket) return;
    onJoinFailed(
      new PullbackError(
        'UNREACHABLE',
        `the client did not open its tunnel within ${timeoutMs / 1000} s`,
      ),
    );
    close();
  }, timeoutMs);

  tunnelServer.on('connection', (socket) => {
    if (joinedSocket || closed) return socket.destroy();
    sockets.add(socket);
    socket.on('error', () => {});
    readFirstLine(socket, JOIN_LINE_MAX, JOIN_LINE_TIMEOUT_MS).then(
      ({ line, rest }) => {
        if (joinedSocket || closed || !admits(line, expected)) return socket.destroy();
        joinedSocket = { socket, rest };
        shut(tunnelServer, tunnelPath); // the one join is taken
        socket.write(`${JOIN_ACCEPTED}\n`);
        onJoined();
      },
      () => socket.destroy(),
    );
  });
  pullServer.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    if (!joinedSocket || closed || pullServer.listening === false) return socket.destroy();
    shut(pullServer, pullPath); // the pull's one connection is taken
    const { socket: tunnel, rest } = joinedSocket;
    void splice(tunnel, socket, rest);
  });
  try {
    await listenUnix(tunnelServer, tunnelPath);
    await listenUnix(pullServer, pullPath);
  } catch (err) {
    close();
    throw err;
  }
  if (o.signal.aborted) close();
  o.signal.addEventListener('abort', onAbort, { once: true });
  return { ticket, pullSocket: pullPath, joined, close };
}
