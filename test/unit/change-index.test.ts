import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanTrees } from '../../core/change-index/scan.js';
import { compareWithIndex } from '../../core/change-index/compare.js';
import { treeExcludeMatcher } from '../../core/change-index/excludes.js';
import {
  readChangeIndex,
  sourcesKey,
  writeChangeIndex,
} from '../../core/change-index/index-file.js';

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'pullback-index-'));
  mkdirSync(join(root, 'd', 'e'), { recursive: true });
  writeFileSync(join(root, 'a.txt'), 'AAAA');
  writeFileSync(join(root, 'd', 'e', 'f'), 'f');
  mkdirSync(join(root, '.cache', 'x'), { recursive: true });
  writeFileSync(join(root, '.cache', 'x', 'big'), 'cache');
  return root;
}

test('the scan sees a same-size rewrite with the mtime set back (ctime differs)', async () => {
  const root = tree();
  const before = await scanTrees([root], []);
  const st = statSync(join(root, 'a.txt'));
  await new Promise((r) => setTimeout(r, 20));
  writeFileSync(join(root, 'a.txt'), 'BBBB');
  utimesSync(join(root, 'a.txt'), st.atime, st.mtime);
  const changes = compareWithIndex(await scanTrees([root], []), before.trees);
  assert.deepEqual(changes.trees[0]!.changed, ['a.txt']);
  assert.deepEqual(changes.trees[0]!.deleted, []);
});

test('deletions are listed once per deleted subtree; a type change is deleted and changed', async () => {
  const root = tree();
  const before = await scanTrees([root], []);
  // replace d/ (with d/e/f) by a file
  const fs = { rm: (p: string) => import('node:fs').then((m) => m.rmSync(p, { recursive: true })) };
  return fs.rm(join(root, 'd')).then(async () => {
    writeFileSync(join(root, 'd'), 'now a file');
    const changes = compareWithIndex(await scanTrees([root], []), before.trees).trees[0]!;
    assert.deepEqual(changes.deleted, ['d']);
    assert.ok(changes.changed.includes('d'));
    assert.ok(changes.changed.includes('.'), 'the tree root changed (an entry replaced)');
  });
});

test('excludes: anchored, unanchored, directory-only and wildcards, as the tree rsync gets them', async () => {
  const m = treeExcludeMatcher('/home/u', [
    '/home/u/.cache/',
    '*.tmp',
    'build/',
    'a/*/c',
    '/other/x',
  ]);
  assert.equal(m.excludes('.cache', true), true);
  assert.equal(m.excludes('.cache', false), false, 'a trailing "/" matches directories only');
  assert.equal(m.excludes('x/.cache', true), false, 'anchored at the tree root');
  assert.equal(m.excludes('deep/file.tmp', false), true);
  assert.equal(m.excludes('deep/build', true), true);
  assert.equal(m.excludes('z/a/b/c', false), true);
  assert.equal(m.excludes('a/b/d/c', false), false, '"*" stops at "/"');
  assert.equal(m.excludes('other/x', false), false, 'anchored in another tree');
  const root = tree();
  const scan = await scanTrees([root], [`${root}/.cache/`]);
  assert.ok(![...scan.trees[0]!.entries.keys()].some((k) => k.startsWith('.cache')));
});

test('the index file round-trips, is 0600, and a damaged one is refused, not trusted', async () => {
  const root = tree();
  const scan = await scanTrees([root], []);
  const file = join(mkdtempSync(join(tmpdir(), 'pullback-index-file-')), 'idx', 'home.idx');
  const header = {
    host: 'home',
    snapshot: '2026-12-02T180000Z',
    sourcesKey: sourcesKey([root], []),
    fullPassAt: new Date().toISOString(),
  };
  writeChangeIndex(file, header, scan.trees);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(file, '..')).mode & 0o777, 0o700);
  const back = readChangeIndex(file);
  assert.ok(typeof back !== 'string');
  assert.deepEqual([...back.trees[0]!.entries], [...scan.trees[0]!.entries]);
  assert.equal(back.header.snapshot, header.snapshot);
  const data = readFileSync(file);
  writeFileSync(file, data.subarray(0, data.length - 5));
  assert.match(String(readChangeIndex(file)), /damaged/);
  data[data.length - 2] = 0x41;
  writeFileSync(file, data);
  assert.match(String(readChangeIndex(file)), /damaged/);
  assert.match(String(readChangeIndex(join(file, '..', 'none.idx'))), /no change index/);
});

test('find and the Node walk give the same entries (types, modes, excludes, pruned rules)', async () => {
  const root = tree();
  symlinkSync('d/e', join(root, 'link'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  writeFileSync(join(root, 'suid'), 'x');
  chmodSync(join(root, 'suid'), 0o4751);
  mkdirSync(join(root, 'keep', 'build'), { recursive: true });
  writeFileSync(join(root, 'keep', 'build', 'o'), 'o');
  writeFileSync(join(root, 'keep', 'x.tmp'), 't');
  writeFileSync(join(root, 'build'), 'a file named like an excluded directory');
  for (const excludes of [[], [`${root}/.cache/`, '*.tmp', 'build/', 'd/e'], ['*']]) {
    const byFind = (await scanTrees([root], excludes, { walker: 'find' })).trees[0]!.entries;
    const byNode = (await scanTrees([root], excludes, { walker: 'node' })).trees[0]!.entries;
    assert.deepEqual([...byFind].sort(), [...byNode].sort(), JSON.stringify(excludes));
  }
  const pruned = (await scanTrees([root], ['build/'], { walker: 'find' })).trees[0]!.entries;
  assert.ok(pruned.has('build'), 'a file is not pruned by a directory-only rule');
  assert.ok(!pruned.has('keep/build') && !pruned.has('keep/build/o'));
  const st = statSync(join(root, 'suid'));
  assert.match(
    pruned.get('suid')!,
    new RegExp(`^f \\d+ ${st.ino} 1 \\d+\\.\\d{10} \\d+\\.\\d{10} 4751 `),
  );
});

test('an unreadable directory is known as such (find gives way to the Node walk)', async (t) => {
  if (process.getuid?.() === 0) {
    t.skip('root reads every directory');
    return;
  }
  const root = tree();
  chmodSync(join(root, 'd'), 0o000);
  try {
    const scan = await scanTrees([root], []);
    assert.deepEqual(scan.unreadable, [join(root, 'd')]);
    assert.ok(scan.trees[0]!.entries.has('d'));
  } finally {
    chmodSync(join(root, 'd'), 0o755);
  }
});
