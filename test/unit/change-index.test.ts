import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
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
  const before = scanTrees([root], []);
  const st = statSync(join(root, 'a.txt'));
  await new Promise((r) => setTimeout(r, 20));
  writeFileSync(join(root, 'a.txt'), 'BBBB');
  utimesSync(join(root, 'a.txt'), st.atime, st.mtime);
  const changes = compareWithIndex(scanTrees([root], []), before.trees);
  assert.deepEqual(changes.trees[0]!.changed, ['a.txt']);
  assert.deepEqual(changes.trees[0]!.deleted, []);
});

test('deletions are listed once per deleted subtree; a type change is deleted and changed', () => {
  const root = tree();
  const before = scanTrees([root], []);
  // replace d/ (with d/e/f) by a file
  const fs = { rm: (p: string) => import('node:fs').then((m) => m.rmSync(p, { recursive: true })) };
  return fs.rm(join(root, 'd')).then(() => {
    writeFileSync(join(root, 'd'), 'now a file');
    const changes = compareWithIndex(scanTrees([root], []), before.trees).trees[0]!;
    assert.deepEqual(changes.deleted, ['d']);
    assert.ok(changes.changed.includes('d'));
    assert.ok(changes.changed.includes('.'), 'the tree root changed (an entry replaced)');
  });
});

test('excludes: anchored, unanchored, directory-only and wildcards, as the tree rsync gets them', () => {
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
  const scan = scanTrees([root], [`${root}/.cache/`]);
  assert.ok(![...scan.trees[0]!.entries.keys()].some((k) => k.startsWith('.cache')));
});

test('the index file round-trips, is 0600, and a damaged one is refused, not trusted', () => {
  const root = tree();
  const scan = scanTrees([root], []);
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

test('system mode: a directory this account cannot read (the sender can) makes the run a full pass; user mode does not care', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: runs the scan as another account');
  const root = mkdtempSync(join(tmpdir(), 'pullback-index-hidden-'));
  chmodSync(root, 0o755);
  mkdirSync(join(root, 'private'), { mode: 0o700 });
  writeFileSync(join(root, 'private', 'secret'), 'x');
  writeFileSync(join(root, 'open.txt'), 'y');
  const plan = new URL('../../core/change-index/plan.js', import.meta.url).href;
  const reasonAsNobody = (senderReadsMore: boolean) => {
    const script = `const { planBackup } = await import(${JSON.stringify(plan)});
      const p = planBackup({ indexFile: '/nonexistent/x.idx', sources: [${JSON.stringify(root)}], excludes: [], senderReadsMore: ${senderReadsMore} });
      process.stdout.write(p.fullBecause ?? '');`;
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--',
        process.execPath,
        '--input-type=module',
        '-e',
        script,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  assert.match(
    reasonAsNobody(true),
    /cannot read 1 directory system mode backs up \(.*\/private\)/,
  );
  assert.match(reasonAsNobody(false), /change index/, 'user mode: only the missing index decides');
});
