import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropStaleTrees, ensureTreeDir, realTreeDir } from '../../core/pull/tree-dirs.js';

const root = mkdtempSync(join(tmpdir(), 'pullback-tree-dirs-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('S7: a tree that is no longer a source does not linger in a resumed .incomplete', () => {
  const inc = join(root, 'inc');
  for (const d of ['home/u/docs/a', 'home/u/old', 'home/v', 'etc/x', 'srv'])
    mkdirSync(join(inc, d), { recursive: true });
  writeFileSync(join(inc, 'home', 'u', 'stray.txt'), 'x');
  const removed = dropStaleTrees(inc, ['/home/u/docs', '/etc']).sort();
  assert.deepEqual(
    removed,
    ['home/u/old', 'home/u/stray.txt', 'home/v', 'srv'].map((p) => join(inc, p)).sort(),
  );
  assert.ok(existsSync(join(inc, 'home', 'u', 'docs', 'a')));
  assert.ok(existsSync(join(inc, 'etc', 'x')));
  assert.deepEqual(dropStaleTrees(inc, ['/']), [], 'the whole filesystem keeps everything');
});

test("S7: a symlink on the way to a tree's place is replaced, never followed", () => {
  const inc = join(root, 'inc2');
  mkdirSync(join(inc, 'home'), { recursive: true });
  mkdirSync(join(root, 'outside'));
  symlinkSync(join(root, 'outside'), join(inc, 'home', 'u'));
  assert.equal(realTreeDir(inc, '/home/u/docs'), undefined, 'not a --link-dest');
  const place = ensureTreeDir(inc, '/home/u/docs');
  assert.equal(place, join(inc, 'home', 'u', 'docs'));
  assert.ok(lstatSync(join(inc, 'home', 'u')).isDirectory());
  assert.equal(existsSync(join(root, 'outside', 'docs')), false, 'nothing made outside');
  assert.equal(realTreeDir(inc, '/home/u/docs'), place);
});
