import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { readOneLine } from '../../core/handoff/lines.js';

/** Everything the stream still gives once its writer is done. */
async function restOf(stream: PassThrough): Promise<string> {
  stream.end();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

test('readOneLine gives the line, and the bytes after it in the same chunk stay in the stream for its next reader', async () => {
  const stream = new PassThrough();
  const after = 'SSH-2.0-OpenSSH_9.2\r\n\x00\xff{"not":"a request"}\n';
  stream.write(Buffer.from(`{"v":1,"type":"tunnel"}\n${after}`, 'latin1'));
  assert.equal(await readOneLine(stream, 5_000), '{"v":1,"type":"tunnel"}');
  assert.equal(await restOf(stream), after);
});

test('readOneLine keeps a line cut between chunks whole, and nothing after it is invented', async () => {
  const stream = new PassThrough();
  stream.write('{"v":1,');
  setImmediate(() => stream.write('"type":"hello"}\n'));
  assert.equal(await readOneLine(stream, 5_000), '{"v":1,"type":"hello"}');
  assert.equal(await restOf(stream), '');
});

test('a request line too long, or cut short by the end of input, is BAD_REQUEST; none at all is TIMEOUT', async () => {
  const long = new PassThrough();
  long.write('x'.repeat(100));
  await assert.rejects(readOneLine(long, 5_000, 64), { code: 'BAD_REQUEST' });
  const cut = new PassThrough();
  cut.end('{"v":1');
  await assert.rejects(readOneLine(cut, 5_000), { code: 'BAD_REQUEST' });
  await assert.rejects(readOneLine(new PassThrough(), 50), { code: 'TIMEOUT' });
});

test('readOneLine: after the request line it stops listening, so the raw bytes of a tunnel that follow are never split into lines', async () => {
  const stream = new PassThrough();
  const line = readOneLine(stream, 5_000);
  stream.write('{"type":"tunnel"}\n');
  assert.equal(await line, '{"type":"tunnel"}');
  assert.equal(stream.listenerCount('data'), 0, 'a data listener is left on the stream');
  // what a tunnel carries next is read by whoever takes the stream over, whole
  const raw = Buffer.from('a\nb\nc\n'.repeat(1000));
  const received: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => received.push(chunk)).resume();
  stream.end(raw);
  await new Promise((resolve) => stream.once('end', resolve));
  assert.deepEqual(Buffer.concat(received), raw);
});
