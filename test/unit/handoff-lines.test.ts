import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { readOneLine } from '../../core/handoff/lines.js';

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
