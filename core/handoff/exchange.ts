import type { ClientChannel } from 'ssh2';
import { PullbackError, isErrorCode } from '../errors.js';
import type { HandoffConnection } from './connect.js';
import { responseSchema, type HandoffRequest, type HandoffResponse } from './messages.js';
import { onLines } from './lines.js';
import { safeStrings, safeText } from '../safe-text.js';

/**
 * Sends one request over a fresh exec channel and hands each validated response to
 * `onResponse`. Resolves with the final response (done, welcome, snapshots); rejects with the
 * server's `error` as a PullbackError, or PROTOCOL when the server breaks the protocol.
 * Every string the backup host sent is passed through safeText before anyone sees it.
 * The command we ask for is irrelevant: the forced command on the backup host is what runs.
 */
export function exchange(
  conn: HandoffConnection,
  request: HandoffRequest,
  onResponse: (response: HandoffResponse) => void = () => {},
  signal?: AbortSignal,
): Promise<HandoffResponse> {
  return new Promise((resolve, reject) => {
    conn.ssh.exec('pullback serve', (err: Error | undefined, channel: ClientChannel) => {
      if (err)
        return reject(
          new PullbackError(
            'PROTOCOL',
            `cannot open the handoff channel: ${safeText(err.message)}`,
          ),
        );
      // a cancel that came while the channel was opening: no request goes out
      if (signal?.aborted) {
        channel.close();
        return reject(new PullbackError('CANCELLED', 'cancelled by the user'));
      }
      let final: HandoffResponse | undefined;
      let failure: PullbackError | undefined;
      const stderr: string[] = [];
      const abort = () => {
        failure = new PullbackError('CANCELLED', 'cancelled by the user');
        channel.close();
      };
      signal?.addEventListener('abort', abort, { once: true });
      channel.stderr.on('data', (d: Buffer) => {
        if (stderr.join('').length < 4096) stderr.push(d.toString('utf8'));
      });
      onLines(
        channel,
        (line) => {
          if (failure || final) return;
          let json: unknown;
          try {
            json = JSON.parse(line);
          } catch {
            failure = new PullbackError(
              'PROTOCOL',
              `the backup host sent a line that is not JSON: ${safeText(line.slice(0, 120))}`,
            );
            return;
          }
          const parsed = responseSchema.safeParse(json);
          if (!parsed.success) {
            failure = new PullbackError(
              'PROTOCOL',
              `unexpected message from the backup host: ${safeText(line.slice(0, 200))}`,
            );
            return;
          }
          // Every string in it is the backup host's word: no control character gets through.
          const response = safeStrings(parsed.data);
          if (response.type === 'error') {
            failure = new PullbackError(
              isErrorCode(response.code) ? response.code : 'INTERNAL',
              response.message,
            );
            return;
          }
          if (
            response.type === 'done' ||
            response.type === 'welcome' ||
            response.type === 'snapshots' ||
            response.type === 'listed' ||
            response.type === 'versions' ||
            response.type === 'plan'
          ) {
            final = response;
          }
          onResponse(response);
        },
        (e) => {
          failure = new PullbackError('PROTOCOL', `backup host: ${e.message}`);
          channel.close();
        },
      );
      channel.on('close', () => {
        signal?.removeEventListener('abort', abort);
        if (failure) return reject(failure);
        if (final) return resolve(final);
        if (conn.lost) return reject(conn.lost);
        const detail = safeText(stderr.join('').trim().split('\n').pop() ?? '');
        reject(
          new PullbackError(
            'PROTOCOL',
            `the backup host closed the handoff without an answer${detail ? `: ${detail}` : ''}`,
          ),
        );
      });
      // Keep our side open: the server takes end-of-input as "the client went away" and stops.
      channel.write(JSON.stringify(request) + '\n');
    });
  });
}
