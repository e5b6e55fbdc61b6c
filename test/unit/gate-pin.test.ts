import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PullbackError } from '../../core/errors.js';
import { pinTree } from '../../core/gate/pin.js';
import { sourceTrees, normaliseTree } from '../../core/gate/trees.js';
import { treeSwapReason, type PathComponent } from '../../core/system/tree-ownership.js';

const root = mkdtempSync(join(tmpdir(), 'pullback-pin-'));
after(() => rmSync(root, { recursive: true, force: true }));
const me = process.getuid?.() ?? 0;

function refused(fn: () => unknown, reason: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PullbackError, String(err));
    assert.equal(err.code, 'REFUSED');
    assert.match(err.message, reason);
    return true;
  });
}

test('S3: a pinned tree stays the same directory when its name is swapped afterwards', () => {
  const tree = join(root, 'swap', 'd');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'f'), 'pinned\n');
  const pinned = pinTree(tree, [me]);
  try {
    assert.equal(pinned.realPath, tree);
    renameSync(tree, `${tree}.orig`);
    mkdirSync(join(root, 'elsewhere'), { recursive: true });
    writeFileSync(join(root, 'elsewhere', 'f'), 'elsewhere\n');
    symlinkSync(join(root, 'elsewhere'), tree);
    assert.equal(readFileSync(`/proc/self/fd/${pinned.fd}/f`, 'utf8'), 'pinned\n');
  } finally {
    closeSync(pinned.fd);
  }
});

test("S3: the pin follows root's and our own symlinks, and says where it really is", () => {
  const real = join(root, 'real');
  mkdirSync(join(real, 'sub'), { recursive: true });
  symlinkSync(real, join(root, 'own-link'));
  symlinkSync('real/sub', join(root, 'relative-link'));
  for (const [path, expected] of [
    [join(root, 'own-link'), real],
    [join(root, 'own-link', 'sub'), join(real, 'sub')],
    [join(root, 'relative-link'), join(real, 'sub')],
  ] as const) {
    const pinned = pinTree(path, [me]);
    closeSync(pinned.fd);
    assert.equal(pinned.realPath, expected);
  }
});

test('S3: the pin refuses a symlink another account owns, a missing tree and a file', (t) => {
  writeFileSync(join(root, 'a-file'), 'x');
  refused(() => pinTree(join(root, 'missing'), [me]), /does not exist/);
  refused(() => pinTree(join(root, 'a-file'), [me]), /is not a directory/);
  if (me !== 0) return t.skip('needs root to give a symlink to another account');
  const planted = join(root, 'planted');
  symlinkSync('/etc', planted);
  lchownSync(planted, 65534, 65534);
  refused(() => pinTree(planted, [me]), /symlink owned by uid 65534/);
  refused(() => pinTree(join(planted, 'ssh'), [me]), /symlink owned by uid 65534/);
});

test('the trees of a pull: normalised, each once, nested ones left to the outer tree', () => {
  assert.deepEqual(sourceTrees(['/home/u/docs/', '/etc', '/home/u/docs', '/home/u', '/homex']), [
    '/etc',
    '/home/u',
    '/homex',
  ]);
  assert.deepEqual(sourceTrees(['/', '/etc']), ['/']);
  assert.throws(() => normaliseTree('/a//b'), /normalised/);
  assert.throws(() => normaliseTree('/a/./b'), /normalised/);
});

const dir = (path: string, uid: number, mode: number): PathComponent => ({
  path,
  uid,
  mode: 0o040000 | mode,
  isDirectory: true,
  isSymbolicLink: false,
});

test('S4: system mode refuses a tree with an ancestor a non-root user could swap', () => {
  const slash = dir('/', 0, 0o755);
  assert.equal(
    treeSwapReason([slash, dir('/home', 0, 0o755), dir('/home/alice', 1000, 0o700)]),
    undefined,
  );
  assert.match(
    treeSwapReason([
      slash,
      dir('/home', 0, 0o755),
      dir('/home/alice', 1000, 0o700),
      dir('/home/alice/Documents', 1000, 0o755),
    ]) ?? '',
    /\/home\/alice is owned by uid 1000, who could swap \/home\/alice\/Documents/,
  );
  assert.match(
    treeSwapReason([slash, dir('/srv', 0, 0o775), dir('/srv/x', 0, 0o755)]) ?? '',
    /writable by group or others/,
  );
  // sticky /tmp: only the entry's owner may rename it, so a root-owned entry is safe there
  assert.equal(treeSwapReason([slash, dir('/tmp', 0, 0o1777), dir('/tmp/t', 0, 0o700)]), undefined);
  assert.match(
    treeSwapReason([slash, dir('/tmp', 0, 0o1777), dir('/tmp/t', 1000, 0o700)]) ?? '',
    /inside the sticky \/tmp/,
  );
  assert.match(
    treeSwapReason([
      slash,
      { ...dir('/data', 0, 0o777), isDirectory: false, isSymbolicLink: true },
    ]) ?? '',
    /is a symlink/,
  );
});
