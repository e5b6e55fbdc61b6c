import type { Readable } from 'node:stream';
import { PullbackError } from '../errors.js';
import { MAX_LINE_BYTES } from './messages.js';
import { readFirstLine } from '../tunnel/first-line.js';

/**
 * Splits a byte stream into lines, refusing any line longer than the protocol allows, so a
 * hostile peer cannot make us buffer without bound.
 */
export function onLines(
  stream: Readable,
  onLine: (line: string) => void,
  onError: (err: PullbackError) => void,
  maxBytes = MAX_LINE_BYTES,
): void {
  let buffered: Buffer[] = [];
  let size = 0;
  let failed = false;
  stream.on('data', (chunk: Buffer | string) => {
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
  });
}

/**
 * Reads exactly one line with a size limit and a deadline (the request of a handoff). What came
 * after the line in the same read is put back at the front of the stream, for whoever reads it
 * next (a tunnel's bytes): none is lost. A line too long or cut short is the client's
 * BAD_REQUEST.
 */
export async function readOneLine(
  stream: Readable,
  timeoutMs: number,
  maxBytes = MAX_LINE_BYTES,
): Promise<string> {
  const { line, rest } = await readFirstLine(stream, maxBytes, timeoutMs, 'BAD_REQUEST');
  if (rest.length > 0) stream.unshift(rest);
  return line;
}
