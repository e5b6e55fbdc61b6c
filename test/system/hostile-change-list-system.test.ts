import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PullbackError } from '../../core/errors.js';
import { launcherFor } from '../../core/handoff/launchers.js';
import { encodeFileList } from '../../core/change-index/compare.js';
import { hostilePull as pullWith, treeText, writeDelaySsh } from '../support/hostile-receiver.js';
import {
  installSystemModeForTests,
  IS_ROOT,
  NEEDS_ROOT,
  oneShotDirs,
  type SystemModeSession,
} from './system-mode-fixture.js';

/*
 * test/integration/hostile-change-list.test.ts against system mode: the helper (root) writes
 * the client's change lists into the one-shot directory, and the rsync copy behind the gate
 * reads anything (CAP_DAC_READ_SEARCH). A hostile backup host (stock rsync 3.5.0) must still
 * get nothing outside the sources and nothing the client did not list. Under the system lock.
 */
const SECRET = 'ROOT-SECRET-5c1e';
let session: SystemModeSession | undefined;
let work: string;
let tree: string;
let secretDir: string;
let delaySsh: string;
const SHADOW = IS_ROOT ? readFileSync('/etc/shadow', 'utf8').split('\n')[0]! : '';

before(async () => {
  if (!IS_ROOT) return;
  session = await installSystemModeForTests();
  work = mkdtempSync(join(tmpdir(), 'pullback-hostile-list-system-'));
  chmodSync(work, 0o755);
  tree = join(work, 'tree');
  mkdirSync(join(tree, 'sub'), { recursive: true, mode: 0o700 });
  chmodSync(tree, 0o700);
  for (const name of ['alpha', 'beta', 'sub/gamma'])
    writeFileSync(join(tree, name), `${name}\n`, { mode: 0o600 });
  secretDir = join(work, 'secret');
  mkdirSync(secretDir, { mode: 0o700 });
  writeFileSync(join(secretDir, 'inner.txt'), `${SECRET}\n`, { mode: 0o600 });
  writeFileSync(join(secretDir, 'names'), 'inner.txt\0', { mode: 0o600 });
  writeFileSync(join(work, 'words'), 'alpha\ngamma\n', { mode: 0o600 });
  delaySsh = writeDelaySsh(work);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  session?.restore();
});

const LIST = ['--files-from=:pullback-list', '--from0'];
const listOf = (...names: string[]) => [{ tree, data: encodeFileList(names) }];
const hostilePull = (
  o: Omit<Parameters<typeof pullWith>[0], 'launcher' | 'work' | 'delaySsh' | 'sources'>,
) => pullWith({ ...o, launcher: launcherFor('system'), work, delaySsh, sources: [tree] });

function assertNothingLeaked(r: { dest: string; stdout: string; stderr: string }): void {
  const got = treeText(r.dest) + r.stdout + r.stderr;
  assert.ok(!got.includes(SECRET), 'a root-only file outside the tree arrived');
  assert.ok(!got.includes(SHADOW), '/etc/shadow arrived');
}

test('S3 (system mode): "use the list" sends exactly the root-only entries the client listed, nothing else', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const r = await hostilePull({ path: `${tree}/`, args: LIST, lists: listOf('sub/gamma') });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(r.dest, 'sub', 'gamma'), 'utf8'), 'sub/gamma\n');
  assert.equal(existsSync(join(r.dest, 'alpha')), false, 'an entry the client did not list came');
  assert.equal(existsSync(join(r.dest, 'beta')), false);
  assert.deepEqual(oneShotDirs(), [], 'the one-shot directory and its list are gone');
});

test('S3 (system mode): the backup host cannot name its own list, nor point the list elsewhere', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const attempts: { path: string; args: string[] }[] = [
    { path: `${tree}/`, args: [`--files-from=:${join(secretDir, 'names')}`, '--from0'] },
    { path: `${tree}/`, args: ['--files-from=:/etc/shadow'] },
    { path: `${tree}/`, args: [`--files-from=${join(work, 'words')}`] },
    ...[`${tree}/sub/`, `${tree}/../`, `${secretDir}/`, `${tree}/../secret/`, '/etc/'].map(
      (path) => ({ path, args: LIST }),
    ),
  ];
  for (const { path, args } of attempts) {
    const r = await hostilePull({ path, args, lists: listOf('alpha') });
    const what = `${path} ${args.join(' ')}`;
    assert.notEqual(r.code, 0, `${what} was served`);
    assert.equal(treeText(r.dest), '', `${what} sent something`);
    assertNothingLeaked(r);
  }
});

test('S3 (system mode): a list with a name leaving the tree never reaches the gate: the helper refuses it and starts nothing', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  for (const bad of ['../secret/inner.txt', '/etc/shadow', 'sub/../../secret/inner.txt']) {
    await assert.rejects(
      hostilePull({ path: `${tree}/`, args: LIST, lists: listOf('alpha', bad) }),
      (err: unknown) =>
        err instanceof PullbackError &&
        err.code === 'HELPER_FAILED' &&
        /change list of/.test(err.message) &&
        !err.message.includes('\n'),
      bad,
    );
    assert.deepEqual(oneShotDirs(), [], `${bad}: no one-shot directory`);
  }
  // a list for a tree the request does not serve is refused the same way
  await assert.rejects(
    hostilePull({
      path: `${tree}/`,
      args: LIST,
      lists: [{ tree: secretDir, data: encodeFileList(['inner.txt']) }],
    }),
    /not a --source/,
  );
});

test('S3 (system mode): a dir-merge sent with the list reads no root-only rules from outside the tree', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const r = await hostilePull({
    path: `${tree}/`,
    args: [...LIST, `--filter=:-ws ${join(work, 'words')}`],
    lists: listOf('alpha', 'sub/gamma'),
  });
  assert.equal(r.code, 0, r.stderr);
  assertNothingLeaked(r);
  for (const name of ['alpha', 'sub/gamma'])
    assert.ok(existsSync(join(r.dest, name)), `${name} was excluded: the sender read the rules`);
});
