import type { ClientChannel } from 'ssh2';
import { PullbackError, isErrorCode } from '../errors.js';
import type { HandoffConnection } from '../handoff/connect.js';
import {
  MAX_LINE_BYTES,
  PROTOCOL_VERSION,
  responseSchema,
  type TunnelTicket,
} from '../handoff/messages.js';
import { safeText } from '../safe-text.js';
import type { LaunchedOneShot } from '../handoff/oneshot-launcher.js';
import { readFirstLine } from './first-line.js';

const OPEN_TIMEOUT_MS = 20_000;

/**
 * The client's half of a tunnel: a second exec channel of the handoff connection (the forced
 * command makes it another `serve --client NAME`), asking with the ticket of our `accepted`
 * answer. Resolves with the channel once the backup host says `tunnel-open` (and any bytes that
 * followed that line): from then on it carries only the pull's SSH connection.
 */
export function openTunnel(
  conn: HandoffConnection,
  ticket: TunnelTicket,
): Promise<{ channel: ClientChannel; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    conn.ssh.exec('pullback serve', (err: Error | undefined, channel: ClientChannel) => {
      if (err)
        return reject(
          new PullbackError('PROTOCOL', `cannot open the tunnel channel: ${safeText(err.message)}`),
        );
      channel.stderr.resume();
      channel.write(`${JSON.stringify({ v: PROTOCOL_VERSION, type: 'tunnel', ticket })}\n`);
      readFirstLine(channel, MAX_LINE_BYTES, OPEN_TIMEOUT_MS).then(
        ({ line, rest }) => {
          let parsed;
          try {
            parsed = responseSchema.safeParse(JSON.parse(line));
          } catch {
            parsed = undefined;
          }
          if (parsed?.success && parsed.data.type === 'tunnel-open')
            return resolve({ channel, rest });
          channel.close();
          if (parsed?.success && parsed.data.type === 'error') {
            const { code, message } = parsed.data;
            return reject(
              new PullbackError(
                isErrorCode(code) ? code : 'INTERNAL',
                `tunnel: ${safeText(message)}`,
              ),
            );
          }
          reject(
            new PullbackError(
              'PROTOCOL',
              `the backup host did not open the tunnel: ${safeText(line.slice(0, 120))}`,
            ),
          );
        },
        (e: PullbackError) => {
          channel.close();
          reject(new PullbackError(e.code, `tunnel: ${e.message}`));
        },
      );
    });
  });
}

/**
 * On the backup host's `accepted`: opens the tunnel it named and runs the one-shot's `sshd -i`
 * on it. Rejects when either fails; the backup host then times the run out on its side.
 */
export async function carryPullThroughTunnel(
  conn: HandoffConnection,
  ticket: TunnelTicket | undefined,
  oneShot: LaunchedOneShot,
): Promise<void> {
  if (!ticket)
    throw new PullbackError(
      'PROTOCOL',
      'the backup host accepted a tunnelled backup without a tunnel',
    );
  if (!oneShot.attachTunnel)
    throw new PullbackError('INTERNAL', 'this one-shot was not started for a tunnel');
  const { channel, rest } = await openTunnel(conn, ticket);
  oneShot.attachTunnel(channel, rest);
}
