import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { encodeHelperInput, readHelperInput } from '../../core/system/helper-stdin.js';
import { encodeFileList } from '../../core/change-index/compare.js';
import { PullbackError } from '../../core/errors.js';

const H = generateKeyPair('test-h').privateKey;
const SOURCES = ['/srv/a', '/srv/b'];

/** Feeds `bytes` to the helper's reader in chunks of `chunk` bytes, then (unless open) ends. */
function feed(bytes: Buffer, chunk = bytes.length, open = false) {
  const stream = new PassThrough();
  const read = readHelperInput(stream, SOURCES, 2_000);
  for (let at = 0; at < bytes.length; at += chunk) stream.write(bytes.subarray(at, at + chunk));
  if (!open) stream.end();
  return { read, stream };
}

test('helper stdin: H, the lists and the bytes after them arrive whole, however the pipe chunks them', async () => {
  const lists = [
    { tree: '/srv/b', data: encodeFileList(['x/y', 'z']) },
    { tree: '/srv/a', data: encodeFileList(['.']) },
  ];
  const tail = Buffer.from('SSH-2.0-tunnel bytes');
  for (const chunk of [1, 7, 4096, 1 << 20]) {
    const { read } = feed(Buffer.concat([encodeHelperInput(H, lists), tail]), chunk, true);
    const input = await read;
    assert.equal(input.hostKey, H.endsWith('\n') ? H : `${H}\n`);
    assert.deepEqual(input.lists, lists, `chunks of ${chunk}`);
    assert.deepEqual(input.rest, tail.subarray(0, input.rest.length));
  }
  const none = await feed(encodeHelperInput(H, []), 3, true).read;
  assert.deepEqual(none.lists, []);
});

test('helper stdin: lists for other trees, too many, oversized, garbled or cut short are one BAD_ARGS line', async () => {
  const key = Buffer.from(H.endsWith('\n') ? H : `${H}\n`);
  const frame = (header: string, body = '') =>
    Buffer.concat([key, Buffer.from(`${header}\n${body}`)]);
  const cases: [string, Buffer, RegExp][] = [
    [
      'a tree that is not a source',
      encodeHelperInput(H, [{ tree: '/etc', data: encodeFileList(['shadow']) }]),
      /not a --source/,
    ],
    [
      'a tree below a source',
      encodeHelperInput(H, [{ tree: '/srv/a/sub', data: encodeFileList(['x']) }]),
      /not a --source/,
    ],
    [
      'more lists than sources',
      frame(
        JSON.stringify({
          lists: ['/srv/a', '/srv/b', '/srv/a'].map((tree) => ({ tree, bytes: 2 })),
        }),
      ),
      /3 change lists for 2/,
    ],
    [
      'the same tree twice',
      encodeHelperInput(H, [
        { tree: '/srv/a', data: encodeFileList(['x']) },
        { tree: '/srv/a', data: encodeFileList(['y']) },
      ]),
      /two change lists/,
    ],
    [
      'an oversized list',
      frame(JSON.stringify({ lists: [{ tree: '/srv/a', bytes: 2 ** 30 }] })),
      /bytes/,
    ],
    ['a header that is not JSON', frame('lists: /srv/a'), /not JSON/],
    ['a header of another shape', frame(JSON.stringify({ lists: [], port: 22 })), /must be/],
    [
      'a header without its newline',
      Buffer.concat([key, Buffer.alloc(600 * 1024, 0x61)]),
      /too long/,
    ],
    [
      'a list naming a path outside its tree',
      encodeHelperInput(H, [{ tree: '/srv/a', data: encodeFileList(['../b/secret']) }]),
      /change list of \/srv\/a/,
    ],
    [
      'a list cut short',
      frame(JSON.stringify({ lists: [{ tree: '/srv/a', bytes: 100 }] }), 'x\0'),
      /closed before the change lists/,
    ],
    ['no header at all', key, /closed before the change lists/],
  ];
  for (const [name, bytes, reason] of cases) {
    await assert.rejects(
      feed(bytes, 4096).read,
      (err: unknown) =>
        err instanceof PullbackError &&
        err.code === 'BAD_ARGS' &&
        /^helper: /.test(err.message) &&
        !err.message.includes('\n') &&
        reason.test(err.message),
      name,
    );
  }
});

test('helper stdin: the stream is left paused after the lists, with nothing read past them lost', async () => {
  const { read, stream } = feed(encodeHelperInput(H, []), 4096, true);
  const input = await read;
  stream.write('later');
  stream.end();
  const after: Buffer[] = [input.rest];
  for await (const chunk of stream) after.push(chunk as Buffer);
  assert.equal(Buffer.concat(after).toString(), 'later');
});
