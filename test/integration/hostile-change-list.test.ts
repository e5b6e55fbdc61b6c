import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { encodeFileList } from '../../core/change-index/compare.js';
import { hostilePull as pullWith, treeText, writeDelaySsh } from '../support/hostile-receiver.js';

/*
 * The change list of an incremental, attacked by a hostile backup host with stock rsync 3.5.0
 * against the real gate behind the real one-shot sshd (user mode). The host may only say "use
 * the list" (--files-from=:pullback-list); it must not get the sender to read anything outside
 * the tree, nor anything the client did not list.
 */
const SECRET = 'SECRET-CONTENT-77ad';

let work: string;
let tree: string;
let secretDir: string;
let delaySsh: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pullback-hostile-list-'));
  chmodSync(work, 0o755);
  tree = join(work, 'tree');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  for (const name of ['alpha', 'beta', 'sub/gamma']) writeFileSync(join(tree, name), `${name}\n`);
  secretDir = join(work, 'secret');
  mkdirSync(secretDir, { mode: 0o700 });
  writeFileSync(join(secretDir, 'inner.txt'), `${SECRET}\n`, { mode: 0o600 });
  writeFileSync(join(work, 'names'), '../secret/inner.txt\n/etc/hostname\n');
  writeFileSync(join(work, 'words'), 'alpha\ngamma\n', { mode: 0o600 });
  delaySsh = writeDelaySsh(work);
});
after(() => rmSync(work, { recursive: true, force: true }));

const LIST = ['--files-from=:pullback-list', '--from0'];
const listOf = (...names: string[]) => [{ tree, data: encodeFileList(names) }];
const hostilePull = (
  o: Omit<Parameters<typeof pullWith>[0], 'launcher' | 'work' | 'delaySsh' | 'sources'>,
) => pullWith({ ...o, launcher: launchUserOneShot, work, delaySsh, sources: [tree] });

function assertNothingLeaked(r: { dest: string; stdout: string; stderr: string }): void {
  assert.doesNotMatch(treeText(r.dest), new RegExp(SECRET));
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
}

test('S3: "use the list" sends exactly what the client listed, nothing else of the tree', async () => {
  const r = await hostilePull({ path: `${tree}/`, args: LIST, lists: listOf('sub/gamma') });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(r.dest, 'sub', 'gamma')));
  assert.equal(existsSync(join(r.dest, 'alpha')), false, 'an entry the client did not list came');
  assert.equal(existsSync(join(r.dest, 'beta')), false);
});

test('S3: the backup host cannot name its own list: a remote file, its own local list, stdin', async () => {
  for (const args of [
    [`--files-from=:${join(work, 'names')}`, '--from0'],
    [`--files-from=:${join(secretDir, 'inner.txt')}`],
    [`--files-from=${join(work, 'names')}`],
    ['--files-from=:-', '--from0'],
  ]) {
    const r = await hostilePull({ path: `${tree}/`, args, lists: listOf('alpha') });
    assert.notEqual(r.code, 0, `${args.join(' ')} was served`);
    assert.equal(treeText(r.dest), '', `${args.join(' ')} sent something`);
    assertNothingLeaked(r);
    assert.match(r.refusals.join('\n'), /files-from|from0|-R/, args.join(' '));
  }
});

test('S3: the list cannot be pointed at another tree, a path below the tree, or "../"', async () => {
  for (const path of [`${tree}/sub/`, `${tree}/../`, `${secretDir}/`, `${tree}/../secret/`]) {
    const r = await hostilePull({ path, args: LIST, lists: listOf('alpha') });
    assert.notEqual(r.code, 0, `${path} was served`);
    assert.equal(treeText(r.dest), '');
    assertNothingLeaked(r);
  }
});

test('S3: a list with a name leaving the tree is refused by the gate, whoever wrote it', async () => {
  for (const bad of ['../secret/inner.txt', '/etc/hostname', 'sub/../../secret/inner.txt']) {
    const r = await hostilePull({ path: `${tree}/`, args: LIST, lists: listOf('alpha', bad) });
    assert.notEqual(r.code, 0, `${bad} was served`);
    assert.equal(treeText(r.dest), '');
    assertNothingLeaked(r);
    assert.match(r.refusals.join('\n'), /file list/);
  }
});

test('S3: "use the list" without a list is refused; -R without the list too', async () => {
  const none = await hostilePull({ path: `${tree}/`, args: LIST });
  assert.notEqual(none.code, 0);
  assert.equal(treeText(none.dest), '');
  assert.match(none.refusals.join('\n'), /no change list/);
  const relative = await hostilePull({ path: `${tree}/`, args: ['-R'], lists: listOf('alpha') });
  assert.notEqual(relative.code, 0);
  assert.equal(treeText(relative.dest), '');
});

test('S3: a dir-merge sent with the list reads no rules from outside the tree', async () => {
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
