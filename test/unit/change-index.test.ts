import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
import { asIndexTree, compareWithIndex } from '../../core/change-index/compare.js';
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
  const changes = compareWithIndex(await scanTrees([root], []), before.trees.map(asIndexTree));
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
    const changes = compareWithIndex(await scanTrees([root], []), before.trees.map(asIndexTree))
      .trees[0]!;
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
  assert.deepEqual(back.trees[0]!.rels, [...scan.trees[0]!.entries.keys()]);
  assert.deepEqual(back.trees[0]!.fields, [...scan.trees[0]!.entries.values()]);
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
      const p = await planBackup({ indexFile: '/nonexistent/x.idx', sources: [${JSON.stringify(root)}], excludes: [], senderReadsMore: ${senderReadsMore} });
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

test('an unreadable directory is known as such (find gives way to the Node walk)', () => {
  // root reads every directory: the scan runs as nobody (uid 65534) when the tests run as root
  const root = tree();
  chmodSync(root, 0o755);
  chmodSync(join(root, 'd'), 0o000);
  const scan = new URL('../../core/change-index/scan.js', import.meta.url).href;
  const script = `const { scanTrees } = await import(${JSON.stringify(scan)});
    const s = await scanTrees([${JSON.stringify(root)}], []);
    process.stdout.write(JSON.stringify({ unreadable: s.unreadable, hasD: s.trees[0].entries.has('d') }));`;
  const asNobody =
    process.getuid?.() === 0
      ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']
      : [];
  try {
    const [command, ...args] = [...asNobody, process.execPath, '--input-type=module', '-e', script];
    const r = spawnSync(command!, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { unreadable: [join(root, 'd')], hasD: true });
  } finally {
    chmodSync(join(root, 'd'), 0o755);
  }
});

test('the comparison in find order finds the same changes as one by name, whatever moved', () => {
  // scans of a tree that lost, gained, changed and reordered entries, as a find may list them
  const entries = (pairs: [string, string][]) => new Map(pairs);
  const scanOf = (pairs: [string, string][]) => ({
    trees: [{ tree: '/t', entries: entries(pairs) }],
    lossyNames: 0,
    unreadable: [],
    entries: pairs.length,
    durationMs: 0,
  });
  const before: [string, string][] = [
    ['.', 'd 1'],
    ['a', 'f 1'],
    ['b', 'd 1'],
    ['b/x', 'f 1'],
    ['b/y', 'f 1'],
    ['c', 'f 1'],
    ['d', 'f 1'],
    ['e', 'f 1'],
  ];
  const after: [string, string][] = [
    ['.', 'd 2'],
    ['new1', 'f 1'],
    ['new2', 'f 1'],
    ['a', 'f 1'],
    ['b', 'd 1'],
    ['b/y', 'f 2'],
    ['e', 'f 1'],
    ['d', 'f 1'],
    ['c', 'd 9'],
    ['z', 'f 1'],
  ];
  const changes = compareWithIndex(scanOf(after), [
    { tree: '/t', rels: before.map(([r]) => r), fields: before.map(([, f]) => f) },
  ]).trees[0]!;
  assert.deepEqual(changes.changed, ['.', 'b/y', 'c', 'new1', 'new2', 'z']);
  assert.deepEqual(changes.deleted, ['b/x', 'c']);
});

test('the comparison in find order agrees with a comparison by name on random edits (seed 7)', () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const before: [string, string][] = [['.', 'd 0']];
    for (let k = 0; k < 1 + rnd(40); k++) before.push([`e${k}`, `f ${rnd(3)}`]);
    const after = before
      .filter(() => rnd(10) > 0)
      .map(([r, f]): [string, string] => {
        return [r, rnd(8) === 0 ? `f ${rnd(3) + 5}` : f];
      });
    for (let k = 0; k < rnd(6); k++)
      after.splice(rnd(after.length + 1), 0, [`n${round}-${k}`, 'f 1']);
    if (rnd(3) === 0 && after.length > 2) {
      const at = rnd(after.length - 1);
      after.push(...after.splice(at, 1 + rnd(after.length - at))); // a run of entries moves
    }
    const old = new Map(before);
    const expected = after
      .filter(([r, f]) => old.get(r) !== f)
      .map(([r]) => r)
      .sort();
    const now = new Map(after);
    // gone, or of another type now (a type change is deleted and changed)
    const gone = before.filter(([r, f]) => !now.has(r) || now.get(r)![0] !== f[0]).map(([r]) => r);
    const changes = compareWithIndex(
      {
        trees: [{ tree: '/t', entries: new Map(after) }],
        lossyNames: 0,
        unreadable: [],
        entries: after.length,
        durationMs: 0,
      },
      [{ tree: '/t', rels: before.map(([r]) => r), fields: before.map(([, f]) => f) }],
    ).trees[0]!;
    assert.deepEqual(changes.changed, expected, `round ${round}`);
    assert.deepEqual(changes.deleted, gone.sort(), `round ${round}`);
  }
});
