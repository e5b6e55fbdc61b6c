import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startTestSshd,
  generateTestKey,
  pullCredentials,
  type TestSshd,
} from '../support/client-sshd.js';
import {
  backupOnce,
  interruptedBackupOnce,
  type BackupOnceOptions,
} from '../support/pull-harness.js';
import { noDacAuthorizedKeysLine, noDacRsync } from '../support/no-dac.js';
import { makeLoopFilesystem, type LoopFilesystem } from '../support/loop-fs.js';
import { fingerprintSnapshots } from './crash-harness.js';
import { openRepository, type ClientRepository } from '../../core/storage/repository.js';

/**
 * On btrfs, rsync --inplace rewrites files where they are, so an interrupted run leaves files
 * that mix old and new blocks in .incomplete. A resume that then ends with exit 23 (the file
 * became unreadable, or deletions were skipped) must not promote them. Real btrfs on a loop
 * device, real rsync over ssh, sender and receiver without root's permission-bypassing caps.
 */
const isRoot = process.getuid?.() === 0;
let fs: LoopFilesystem | undefined;
let sshd: TestSshd | undefined;
let work: string;
let receiver: string;
const key = generateTestKey('pullback-test-K');

before(async () => {
  if (!isRoot) return;
  work = mkdtempSync(join(tmpdir(), 'pullback-btrfs-resume-'));
  fs = makeLoopFilesystem('btrfs', 512);
  sshd = await startTestSshd({ authorizedKeysLine: noDacAuthorizedKeysLine(key.public) });
  receiver = noDacRsync(work);
});
after(async () => {
  await sshd?.stop();
  fs?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

function backup(repo: ClientRepository, o: Omit<BackupOnceOptions, 'remote' | 'rsyncPath'>) {
  return backupOnce(repo, {
    ...o,
    remote: pullCredentials(sshd!, key, work),
    rsyncPath: receiver,
  });
}

function killedBackup(repo: ClientRepository, src: string, afterBytes: number) {
  const remote = pullCredentials(sshd!, key, work);
  const o = { sources: [src], bwlimitKiB: 1024, remote, rsyncPath: receiver };
  return interruptedBackupOnce(repo, o, 'kill', afterBytes);
}

test('R: btrfs: a resumed run never promotes a file mixing old and new blocks, nor a cut-off new one; both are listed in the metadata', async (t) => {
  if (!isRoot) {
    t.skip('needs root: loop devices and mount (run the system tests as root)');
    return;
  }
  const storage = join(fs!.mountPoint, 'storage');
  mkdirSync(storage);
  const repo = openRepository(storage, 'laptop', { backend: 'btrfs' });
  const src = join(work, 'src');
  mkdirSync(src);
  const big = join(src, 'big.bin');
  const gone = join(src, 'gone.bin');
  writeFileSync(big, randomBytes(6 * 1024 * 1024));
  const first = await backup(repo, { sources: [src] });
  assert.equal(first.outcome.meaning, 'ok', first.outcome.error?.toLine());
  const previous = readFileSync(join(first.info!.path, big));
  const history = await fingerprintSnapshots(storage, 'laptop');

  // big.bin is rewritten and the run killed part way: .incomplete holds a mix.
  const rewritten = randomBytes(6 * 1024 * 1024);
  writeFileSync(big, rewritten);
  // rsync's quick check compares size and mtime in seconds: a rewrite in the same second as the
  // first backup would look unchanged and nothing would be transferred to interrupt
  const later = new Date(Date.now() + 60_000);
  utimesSync(big, later, later);
  await killedBackup(repo, src, 1024 * 1024);
  const mixed = readFileSync(join(repo.dir, '.incomplete', big));
  assert.ok(!mixed.equals(previous) && !mixed.equals(rewritten), 'precondition: a mixed file');

  chmodSync(big, 0o000);
  const unreadable = await backup(repo, { sources: [src] });
  assert.equal(unreadable.outcome.exitCode, 23, unreadable.outcome.warnings.join('\n'));
  assert.ok(unreadable.info);
  assert.deepEqual(readFileSync(join(unreadable.info.path, big)), previous, 'the previous version');
  const meta = JSON.parse(readFileSync(`${unreadable.info.path}.json`, 'utf8')) as {
    notCopied?: string[];
  };
  assert.deepEqual(meta.notCopied, [big]);

  // A new file cut off, then deleted by the client while big.bin is unreadable.
  writeFileSync(gone, randomBytes(6 * 1024 * 1024));
  await killedBackup(repo, src, 1024 * 1024);
  unlinkSync(gone);
  const deleted = await backup(repo, { sources: [src] });
  assert.equal(deleted.outcome.exitCode, 23, deleted.outcome.warnings.join('\n'));
  assert.ok(deleted.info);
  assert.equal(existsSync(join(deleted.info.path, gone)), false, 'no cut-off gone.bin');
  assert.deepEqual(readdirSync(join(deleted.info.path, src)), ['big.bin']);
  assert.deepEqual(readFileSync(join(deleted.info.path, big)), previous);
  chmodSync(big, 0o644);

  // and the first snapshot never changed
  const now = await fingerprintSnapshots(storage, 'laptop');
  for (const [id, print] of history) assert.equal(now.get(id), print, `${id} is unchanged`);
});
