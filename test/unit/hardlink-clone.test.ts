import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hardlinkClone } from '../../core/storage/hardlink-clone.js';

const hasXattrTools = spawnSync('setfattr', ['--version']).status === 0;

/** Each non-directory's path, type and inode: a clone shares every file with its snapshot. */
function files(root: string): string[] {
  return execFileSync(
    'find',
    [root, '-mindepth', '1', '!', '-type', 'd', '-printf', '%P %y %i\\n'],
    {
      encoding: 'utf8',
    },
  )
    .split('\n')
    .sort();
}

/**
 * What rsync (with --fake-super, as the pull reads a snapshot) finds different between two
 * trees: modes, owners, times, ACLs and xattrs of every entry but the run directory itself.
 */
function differences(a: string, b: string): string[] {
  return execFileSync(
    'rsync',
    ['-naiHAXS', '--fake-super', '--numeric-ids', '--delete', `${a}/`, `${b}/`],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter((line) => line !== '' && !line.endsWith(' ./'));
}

test('the clone in lanes equals one `cp -a --link`: directories with their attributes, files shared', async (t) => {
  if (!hasXattrTools) {
    t.skip('setfattr/getfattr (attr) not installed');
    return;
  }
  const snapshot = mkdtempSync(join(tmpdir(), 'pullback-clone-'));
  // the chain that mirrors the tree's absolute path, the tree with xattrs like --fake-super's
  const tree = join(snapshot, 'home', 'u');
  for (const dir of ['a/b', 'c', 'd/e/f']) mkdirSync(join(tree, dir), { recursive: true });
  for (let i = 0; i < 30; i++) writeFileSync(join(tree, i % 2 ? 'a/b' : 'c', `f${i}`), `${i}`);
  writeFileSync(join(tree, 'top.txt'), 'top');
  for (const [path, value] of [
    [join(snapshot, 'home'), '40755 0,0 0:0'],
    [tree, '40700 0,0 1000:1000'],
    [join(tree, 'a'), '40750 0,0 1000:100'],
  ] as const)
    execFileSync('setfattr', ['-n', 'user.rsync.%stat', '-v', value, path]);
  execFileSync('setfattr', ['-n', 'user.note', '-v', 'kept', tree]);
  chmodSync(join(tree, 'a'), 0o750);
  for (const [i, dir] of [snapshot, join(snapshot, 'home'), tree, join(tree, 'a')].entries())
    utimesSync(dir, new Date(2001, 0, 1 + i), new Date(2001, 0, 1 + i));

  const byCp = join(mkdtempSync(join(tmpdir(), 'pullback-clone-cp-')), 'run');
  execFileSync('cp', ['-a', '--link', '--', snapshot, byCp]);
  const byLanes = join(mkdtempSync(join(tmpdir(), 'pullback-clone-lanes-')), 'run');
  assert.equal(await hardlinkClone(snapshot, byLanes), 'lanes');
  assert.deepEqual(files(byLanes), files(byCp));
  assert.deepEqual(differences(byLanes, byCp), []);
  // the test can fail: a directory of the chain without its attributes is a difference
  execFileSync('setfattr', ['-x', 'user.note', join(byLanes, 'home', 'u')]);
  assert.notDeepEqual(differences(byLanes, byCp), []);
});
