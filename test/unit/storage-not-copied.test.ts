import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notCopiedEntry } from '../../core/pull/not-copied.js';
import { restoreNotCopied } from '../../core/storage/not-copied.js';

test('R: the entries rsync names as not copied are read from its error lines, escapes decoded', () => {
  const cases: [string, string | undefined][] = [
    ['rsync: [sender] send_files failed to open "/home/u/x": Permission denied (13)', '/home/u/x'],
    ['rsync: [sender] opendir "/home/u/d" failed: Permission denied (13)', '/home/u/d'],
    ['rsync: [sender] read errors mapping "/home/u/big": Input/output error (5)', '/home/u/big'],
    [
      'rsync: [sender] failed to read xattr user.a for "/home/u/x": Permission denied (13)',
      '/home/u/x',
    ],
    [
      'rsync: [sender] send_files failed to open "/home/u/a\\#012b": Permission denied (13)',
      '/home/u/a\nb',
    ],
    ['ERROR: home/u/x failed verification -- update discarded.', 'home/u/x'],
    ['WARNING: home/u/x failed verification -- update discarded (will try again).', undefined],
    [
      'rsync error: some files/attrs were not transferred (see previous errors) (code 23)',
      undefined,
    ],
    ['file has vanished: "/home/u/tmp"', undefined],
    [
      'rsync: [generator] delete_file: unlink(old/garbage) failed: Permission denied (13)',
      undefined,
    ],
  ];
  for (const [line, entry] of cases) assert.equal(notCopiedEntry(line), entry, line);
});

test("R: a not-copied entry becomes the previous snapshot's version or absent, and a name never reaches outside the run directory", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-not-copied-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const previous = join(dir, 'previous');
  const incomplete = join(dir, 'incomplete');
  const outside = join(dir, 'outside');
  for (const d of [join(previous, 'h', 'd'), join(incomplete, 'h', 'd'), outside])
    mkdirSync(d, { recursive: true });
  writeFileSync(join(previous, 'h', 'old.txt'), 'old');
  writeFileSync(join(previous, 'h', 'd', 'a'), 'prev a');
  writeFileSync(join(incomplete, 'h', 'old.txt'), 'cut off');
  writeFileSync(join(incomplete, 'h', 'new.txt'), 'cut off new');
  writeFileSync(join(incomplete, 'h', 'd', 'a'), 'half');
  writeFileSync(join(incomplete, 'h', 'd', 'b'), 'stale');
  writeFileSync(join(outside, 'keep'), 'keep');
  symlinkSync(outside, join(incomplete, 'h', 'link'));
  const copies: string[] = [];
  const done = await restoreNotCopied(
    incomplete,
    previous,
    [
      '/h/old.txt',
      '/h/new.txt',
      '/h/d',
      '/h/d/a',
      '/h/link/keep',
      '/../outside/keep',
      'h/../../outside',
      '/h/./old.txt',
    ],
    async (from, to) => {
      copies.push(from);
      cpSync(from, to, { recursive: true });
    },
  );
  assert.deepEqual(done, ['/h/d', '/h/new.txt', '/h/old.txt']);
  assert.equal(readFileSync(join(incomplete, 'h', 'old.txt'), 'utf8'), 'old');
  assert.equal(existsSync(join(incomplete, 'h', 'new.txt')), false, 'new and not copied: absent');
  assert.equal(readFileSync(join(incomplete, 'h', 'd', 'a'), 'utf8'), 'prev a');
  assert.equal(existsSync(join(incomplete, 'h', 'd', 'b')), false, 'the directory as it was');
  assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'keep', 'nothing outside is touched');
  assert.deepEqual(copies.sort(), [join(previous, 'h', 'd'), join(previous, 'h', 'old.txt')]);
});
