import type { Readable } from 'node:stream';
import { PullbackError, type ErrorCode } from '../errors.js';

/**
 * Reads the first line of a stream that then turns into raw bytes (a tunnel's opening words):
 * resolves with the line and whatever came after it in the same read, and leaves the stream
 * paused with none of our listeners on it. A line longer than `maxBytes`, a stream that ends
 * first (both with `fault`: whose fault it is), or no line within `timeoutMs` rejects.
 */
export function readFirstLine(
  stream: Readable,
  maxBytes: number,
  timeoutMs: number,
  fault: ErrorCode = 'PROTOCOL',
): Promise<{ line: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
      stream.pause();
    };
    const fail = (err: PullbackError) => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer | string) => {
      buffered = Buffer.concat([buffered, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      const nl = buffered.indexOf(0x0a);
      if (nl === -1) {
        if (buffered.length > maxBytes)
          fail(new PullbackError(fault, `line longer than ${maxBytes} bytes`));
        return;
      }
      if (nl > maxBytes)
        return fail(new PullbackError(fault, `line longer than ${maxBytes} bytes`));
      cleanup();
      resolve({ line: buffered.subarray(0, nl).toString('utf8'), rest: buffered.subarray(nl + 1) });
    };
    const onEnd = () => fail(new PullbackError(fault, 'the stream ended before a full line'));
    const onError = (err: Error) => fail(new PullbackError('PROTOCOL', err.message));
    const timer = setTimeout(
      () => fail(new PullbackError('TIMEOUT', `no answer within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onError);
  });
}
