import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';

import { join } from 'node:path';
import {
  decodeGetfattrName,
  forgetStoredAcls,
  storedAclHolders,
} from '../../core/storage/stored-acls.js';

test("getfattr's escaped names come back as the raw bytes: backslash, newline, invalid UTF-8", () => {
  assert.deepEqual(
    decodeGetfattrName(Buffer.from('/s/back\\134slash x\\012y \\377', 'latin1')),
    Buffer.from('/s/back\\slash x\ny \xff', 'latin1'),
  );
});

test('the stored ACLs of odd names are found and forgotten, other xattrs stay', () => {
  // /var/tmp, not /tmp: it must hold user xattrs
  const dir = mkdtempSync(join('/var/tmp', 'pullback-acls-'));
  const names = ['plain', 'a b', 'x\ny', 'back\\slash', '-dash'];
  for (const name of names) {
    const path = join(dir, name);
    writeFileSync(path, 'x');
    for (const attr of ['user.rsync.%aacl', 'user.keep'])
      assert.equal(spawnSync('setfattr', ['-n', attr, '-v', '1', '--', path]).status, 0);
  }
  writeFileSync(join(dir, 'none'), 'x');
  const holders = storedAclHolders(dir).map((b) => b.toString());
  assert.deepEqual(holders.sort(), names.map((n) => join(dir, n)).sort());
  forgetStoredAcls(holders);
  assert.deepEqual(storedAclHolders(dir), []);
  const kept = spawnSync('getfattr', ['--only-values', '-n', 'user.keep', join(dir, 'x\ny')], {
    encoding: 'utf8',
  });
  assert.equal(kept.stdout, '1', 'other xattrs stay');
});
