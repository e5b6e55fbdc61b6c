import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chownSync,
  existsSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  utimesSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startTestSshd,
  generateTestKey,
  pullCredentials,
  type TestSshd,
} from '../support/client-sshd.js';
import { assertTreesIdentical, restoreSnapshot } from '../support/tree-compare.js';
import { makeHostileTree } from '../support/sample-tree.js';
import { backupOnce, type BackupOnceOptions } from '../support/pull-harness.js';
import { openRepository, type ClientRepository } from '../../core/storage/repository.js';
import type { SnapshotInfo } from '../../core/storage/metadata.js';

/**
 * Real rsync over real ssh to a real sshd on 127.0.0.2 (the client's side), into a real
 * repository: what `pullback serve` does for one backup, without the handoff around it.
 */
const isRoot = process.getuid?.() === 0;
let sshd: TestSshd;
let work: string;
const key = generateTestKey('pullback-test-K');

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pullback-pull-'));
  sshd = await startTestSshd({ authorizedKeysLine: key.public });
});
after(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

function newRepo(): { repo: ClientRepository; src: string } {
  const dir = mkdtempSync(join(work, 'case-'));
  mkdirSync(join(dir, 'storage'));
  mkdirSync(join(dir, 'src'));
  return {
    repo: openRepository(join(dir, 'storage'), 'laptop', { backend: 'hardlink' }),
    src: join(dir, 'src'),
  };
}

function backup(repo: ClientRepository, o: Omit<BackupOnceOptions, 'remote'>) {
  return backupOnce(repo, {
    ...o,
    remote: { ...pullCredentials(sshd, key, work), bindAddress: '127.0.0.3' },
  });
}

test('a full pull then promotion gives a browsable snapshot mirroring absolute paths', async () => {
  const { repo, src } = newRepo();
  const home = join(src, 'home', 'u');
  mkdirSync(home, { recursive: true });
  makeHostileTree(home);
  writeFileSync(join(home, 'docs', 'scratch.tmp'), 'excluded');
  const dashed = join(src, '-dash source');
  mkdirSync(dashed);
  writeFileSync(join(dashed, 'x.txt'), 'x');

  const { outcome, info, progress } = await backup(repo, {
    sources: [home, dashed],
    excludes: ['*.tmp'],
  });
  assert.equal(outcome.error, undefined, outcome.error?.toLine());
  assert.equal(outcome.meaning, 'ok');
  assert.ok(info);
  // browsable: the client's absolute paths below the snapshot, plain files
  assert.equal(
    readFileSync(join(info.path, home, 'docs', 'report.txt'), 'utf8'),
    'quarterly numbers\n'.repeat(100),
  );
  assert.equal(readFileSync(join(info.path, dashed, 'x.txt'), 'utf8'), 'x');
  assert.equal(existsSync(join(info.path, home, 'docs', 'scratch.tmp')), false, 'excluded');
  assert.equal(readFileSync(join(repo.dir, 'latest', home, 'secret.key'), 'utf8'), 'private\n');
  // progress streamed, with the full file list known; stats parsed for the metadata
  assert.ok(progress.length > 0);
  assert.ok(progress.some((p) => p.filesTotal !== undefined && p.filesTotal > 10));
  assert.ok((outcome.stats.files ?? 0) > 10, JSON.stringify(outcome.stats));
  assert.ok(
    (outcome.stats.totalBytes ?? 0) > 8 * 1024 * 1024,
    'the sparse file counts with its apparent size',
  );
  assert.deepEqual(info.meta.stats, outcome.stats);
});

test('a restored snapshot is identical to the source: owners, modes, links, ACLs, xattrs, specials', async (t) => {
  if (!isRoot) return t.skip('needs root: files owned by other users and device-like specials');
  const { repo, src } = newRepo();
  const home = join(src, 'home', 'u');
  mkdirSync(home, { recursive: true });
  makeHostileTree(home);
  chownSync(join(home, 'secret.key'), 1234, 5678);
  chownSync(join(home, 'docs'), 4321, 4321);
  lchownSync(join(home, 'link-to-report'), 1111, 2222);

  const { outcome, info } = await backup(repo, { sources: [home] });
  assert.equal(outcome.meaning, 'ok', outcome.error?.toLine());
  // --fake-super kept the owner aside instead of applying it
  assert.equal(statSync(join(info!.path, home, 'secret.key')).uid, 0);
  const target = join(work, 'restored-' + randomBytes(3).toString('hex'));
  restoreSnapshot(join(info!.path, home), target);
  assertTreesIdentical(home, target);
});

test('a second backup hardlinks unchanged files to the previous snapshot (same inode) and stores a changed one anew', async () => {
  const { repo, src } = newRepo();
  writeFileSync(join(src, 'same.bin'), randomBytes(100_000));
  writeFileSync(join(src, 'changes.txt'), 'version 1\n');
  writeFileSync(join(src, 'private.txt'), 'mode 0600\n', { mode: 0o600 });
  if (isRoot) chownSync(join(src, 'private.txt'), 1234, 5678); // kept in xattrs: must still link

  const first = await backup(repo, { sources: [src] });
  assert.equal(first.outcome.meaning, 'ok', first.outcome.error?.toLine());
  writeFileSync(join(src, 'changes.txt'), 'version 2, longer\n');
  utimesSync(join(src, 'changes.txt'), new Date(), new Date(Date.now() + 5000));
  const second = await backup(repo, { sources: [src] });
  assert.equal(second.outcome.meaning, 'ok', second.outcome.error?.toLine());

  const inode = (s: SnapshotInfo | undefined, name: string) =>
    statSync(join(s!.path, src, name)).ino;
  assert.notEqual(first.info!.id, second.info!.id);
  assert.equal(inode(first.info, 'same.bin'), inode(second.info, 'same.bin'));
  assert.equal(inode(first.info, 'private.txt'), inode(second.info, 'private.txt'));
  assert.notEqual(inode(first.info, 'changes.txt'), inode(second.info, 'changes.txt'));
  assert.equal(readFileSync(join(first.info!.path, src, 'changes.txt'), 'utf8'), 'version 1\n');
  assert.equal(
    readFileSync(join(second.info!.path, src, 'changes.txt'), 'utf8'),
    'version 2, longer\n',
  );
  assert.ok(
    (second.outcome.stats.bytesTransferred ?? Infinity) < 50_000,
    'unchanged data did not travel again',
  );
});

test('rsync exit 24 (a file vanished during the pull) is a success with a warning', async () => {
  const { repo, src } = newRepo();
  writeFileSync(join(src, 'a-big.bin'), randomBytes(4 * 1024 * 1024));
  writeFileSync(join(src, 'zz-vanishes.txt'), 'here at the file list, gone when its turn comes\n');
  let removed = false;
  const { outcome, info } = await backup(repo, {
    sources: [src],
    bwlimitKiB: 1024,
    run: {
      // The first progress line comes after the (complete) file list, while a-big.bin is still
      // on its way: rsync then finds zz-vanishes.txt gone when it gets to it.
      onProgress: () => {
        if (!removed) unlinkSync(join(src, 'zz-vanishes.txt'));
        removed = true;
      },
    },
  });
  assert.equal(outcome.exitCode, 24, JSON.stringify(outcome));
  assert.equal(outcome.meaning, 'vanished');
  assert.ok(
    outcome.warnings.some((w) => /file has vanished: ".*zz-vanishes.txt"/.test(w)),
    outcome.warnings.join('\n'),
  );
  assert.ok(info, 'promoted');
  assert.deepEqual(info.meta.warnings, outcome.warnings);
  assert.equal(info.meta.rsyncExit, 24);
  assert.equal(existsSync(join(info.path, src, 'a-big.bin')), true);
});
