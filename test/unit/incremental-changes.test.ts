import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyIncrementalChanges } from '../../core/storage/incremental-changes.js';

/*
 * A client's change list names paths the backup host applies inside its run directory. A
 * symlink in the clone (the client backed one up) must never carry a deletion, an unlink or a
 * stored-ACL removal outside it. /var/tmp, not /tmp: the xattrs need a filesystem that keeps them.
 */
function runWithEscape() {
  const work = mkdtempSync(join('/var/tmp', 'pullback-changes-'));
  const outside = join(work, 'outside');
  mkdirSync(outside);
  for (const name of ['victim', 'file']) {
    writeFileSync(join(outside, name), 'not the snapshot\n');
    assert.equal(
      spawnSync('setfattr', ['-n', 'user.rsync.%aacl', '-v', '1', join(outside, name)]).status,
      0,
    );
  }
  const run = join(work, 'run');
  const tree = join(run, 'home', 'u');
  mkdirSync(join(tree, 'real'), { recursive: true });
  writeFileSync(join(tree, 'real', 'changed.txt'), 'x');
  symlinkSync(outside, join(tree, 'link'));
  const list = {
    tree: '/home/u',
    changed: ['link/file', 'link/victim', 'real/changed.txt'],
    deleted: ['link/victim'],
  };
  const intact = () => {
    for (const name of ['victim', 'file']) {
      assert.ok(existsSync(join(outside, name)), `${name} outside the run is still there`);
      const r = spawnSync(
        'getfattr',
        ['--only-values', '-n', 'user.rsync.%aacl', join(outside, name)],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(r.stdout, '1', `${name}'s xattr outside the run is untouched`);
    }
  };
  return { run, tree, list, intact };
}

test('a change list cannot delete or unlink through a symlink in a hardlink clone', async () => {
  const { run, tree, list, intact } = runWithEscape();
  const applied = await applyIncrementalChanges(run, [list], true);
  intact();
  assert.equal(existsSync(join(tree, 'real', 'changed.txt')), false, 'the listed file is unlinked');
  assert.deepEqual(applied, { deleted: 0, unlinked: 1 });
});

test("a change list cannot remove stored ACLs through a symlink in a btrfs run's snapshot", async () => {
  const { run, tree, list, intact } = runWithEscape();
  writeFileSync(join(tree, 'real', 'changed.txt'), 'x');
  assert.equal(
    spawnSync('setfattr', ['-n', 'user.rsync.%aacl', '-v', '1', join(tree, 'real', 'changed.txt')])
      .status,
    0,
  );
  await applyIncrementalChanges(run, [list], false);
  intact();
  const listed = spawnSync('getfattr', ['-d', '-m', '', join(tree, 'real', 'changed.txt')], {
    encoding: 'utf8',
  });
  assert.doesNotMatch(listed.stdout, /%aacl/, 'the listed entry inside forgets its stored ACL');
});
