import type { Readable } from 'node:stream';
import { PullbackError } from '../errors.js';
import { MAX_LINE_BYTES } from './messages.js';

/**
 * Splits a byte stream into lines, refusing any line longer than the protocol allows, so a
 * hostile peer cannot make us buffer without bound. Returns the function that stops listening.
 */
export function onLines(
  stream: Readable,
  onLine: (line: string) => void,
  onError: (err: PullbackError) => void,
  maxBytes = MAX_LINE_BYTES,
): () => void {
  let buffered: Buffer[] = [];
  let size = 0;
  let failed = false;
  const onData = (chunk: Buffer | string) => {
    if (failed) return;
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (data.length > 0) {
      const nl = data.indexOf(0x0a);
      const part = nl === -1 ? data : data.subarray(0, nl);
      size += part.length;
      if (size > maxBytes) {
        failed = true;
        onError(new PullbackError('BAD_REQUEST', `line longer than ${maxBytes} bytes`));
        return;
      }
      buffered.push(part);
      if (nl === -1) return;
      const line = Buffer.concat(buffered).toString('utf8');
      buffered = [];
      size = 0;
      data = data.subarray(nl + 1);
      onLine(line);
    }
  };
  stream.on('data', onData);
  return () => stream.off('data', onData);
}

/** Reads exactly one line with a size limit and a deadline (the request of a handoff). */
export function readOneLine(
  stream: Readable,
  timeoutMs: number,
  maxBytes = MAX_LINE_BYTES,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // a tunnel's stream carries raw bytes after the request: splitting those into lines
      // cost the backup host's serve ~20 CPU seconds per GiB
      stopLines();
      stream.pause();
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(new PullbackError('TIMEOUT', `no request within ${timeoutMs / 1000} s`)),
        ),
      timeoutMs,
    );
    const stopLines = onLines(
      stream,
      (line) => finish(() => resolve(line)),
      (err) => finish(() => reject(err)),
      maxBytes,
    );
    stream.on('end', () =>
      finish(() =>
        reject(new PullbackError('BAD_REQUEST', 'the request ended before a full line')),
      ),
    );
    stream.on('error', (err) => finish(() => reject(new PullbackError('PROTOCOL', err.message))));
  });
}
