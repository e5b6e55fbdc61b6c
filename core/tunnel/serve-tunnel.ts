import { connect } from 'node:net';
import { join } from 'node:path';
import { PullbackError } from '../errors.js';
import { PROTOCOL_VERSION, type TunnelRequest } from '../handoff/messages.js';
import type { ServeContext } from '../handoff/serve-context.js';
import { defaultRuntimeBase } from '../ssh/oneshot.js';
import { readFirstLine } from './first-line.js';
import { JOIN_ACCEPTED, TUNNEL_SOCKET, type TunnelJoin } from './relay.js';
import { splice } from '../splice.js';

const JOIN_TIMEOUT_MS = 10_000;

/** The same words whatever went wrong: the peer learns nothing about other runs (S7). */
function refused(): PullbackError {
  return new PullbackError('REFUSED', 'no such tunnel, or it is taken');
}

function joinRelay(path: string, join: TunnelJoin) {
  return new Promise<import('node:net').Socket>((resolve, reject) => {
    const socket = connect({ path });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', () => reject(refused()));
  }).then(async (socket) => {
    socket.on('error', () => {});
    socket.write(`${JSON.stringify(join)}\n`);
    try {
      const { line, rest } = await readFirstLine(socket, 64, JOIN_TIMEOUT_MS);
      if (line !== JOIN_ACCEPTED) throw refused();
      return { socket, rest };
    } catch {
      socket.destroy();
      throw refused();
    }
  });
}

/**
 * A `tunnel` request: the client's second channel asks to carry the pull of its running backup.
 * This serve is the same client (NAME from the forced command) on the same SSH connection
 * (SSH_CONNECTION), and says so to the backup's relay along with the ticket's token; the relay
 * decides (relay.ts). Once admitted, `tunnel-open` is the last line: from then on this channel
 * carries the pull's SSH bytes, and this serve only copies them, until either side closes.
 */
export async function serveTunnel(request: TunnelRequest, ctx: ServeContext): Promise<void> {
  const path = join(defaultRuntimeBase(), request.ticket.id, TUNNEL_SOCKET);
  const { socket, rest } = await joinRelay(path, {
    token: request.ticket.token,
    client: ctx.client,
    connection: ctx.connection.id,
  });
  ctx.signal.throwIfAborted();
  ctx.send({ v: PROTOCOL_VERSION, type: 'tunnel-open' });
  const { Duplex } = await import('node:stream');
  const channel = Duplex.from({ readable: ctx.input, writable: ctx.output });
  const stop = () => channel.destroy();
  ctx.signal.addEventListener('abort', stop, { once: true });
  await splice(socket, channel, rest);
  ctx.signal.removeEventListener('abort', stop);
}
