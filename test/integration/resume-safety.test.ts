import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
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
import { fingerprintSnapshots } from '../system/crash-harness.js';
import { openRepository, type ClientRepository } from '../../core/storage/repository.js';

/**
 * A resumed hardlink run (real rsync over real ssh, sender and receiver without the root
 * capabilities that bypass file permissions, as the real accounts are): it never changes an
 * older snapshot, never promotes a cut-off file, and never promotes garbage it could not delete.
 */
let sshd: TestSshd;
let work: string;
let receiver: string;
const key = generateTestKey('pullback-test-K');
const isRoot = process.getuid?.() === 0;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pullback-resume-safety-'));
  if (!isRoot) return;
  sshd = await startTestSshd({ authorizedKeysLine: noDacAuthorizedKeysLine(key.public) });
  receiver = noDacRsync(work);
});
after(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

function skipUnlessRoot(t: { skip: (m: string) => void }): boolean {
  if (isRoot) return false;
  t.skip('needs root: runs sender and receiver without CAP_DAC_OVERRIDE (setpriv)');
  return true;
}

function newCase(): { repo: ClientRepository; src: string } {
  const dir = mkdtempSync(join(work, 'case-'));
  mkdirSync(join(dir, 'storage'));
  mkdirSync(join(dir, 'src', 'data'), { recursive: true });
  return {
    repo: openRepository(join(dir, 'storage'), 'laptop', { backend: 'hardlink' }),
    src: join(dir, 'src', 'data'),
  };
}

function backup(repo: ClientRepository, o: Omit<BackupOnceOptions, 'remote' | 'rsyncPath'>) {
  return backupOnce(repo, { ...o, remote: pullCredentials(sshd, key, work), rsyncPath: receiver });
}

function run(cmd: string, ...args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}

function interruptedBackup(
  repo: ClientRepository,
  src: string,
  how: 'kill' | 'cancel',
  afterBytes: number,
) {
  const remote = pullCredentials(sshd, key, work);
  const o = { sources: [src], bwlimitKiB: 1024, remote, rsyncPath: receiver };
  return interruptedBackupOnce(repo, o, how, afterBytes);
}

function metaOf(path: string): { notCopied?: string[]; rsyncExit: number; warnings: string[] } {
  return JSON.parse(readFileSync(`${path}.json`, 'utf8')) as {
    notCopied?: string[];
    rsyncExit: number;
    warnings: string[];
  };
}

test('S7: a resumed run never changes an older snapshot: mode, setuid, xattrs, ACL and content changed on the client between the interrupted run and its resume', async (t) => {
  if (skipUnlessRoot(t)) return;
  const { repo, src } = newCase();
  for (let i = 0; i < 8; i++) {
    writeFileSync(join(src, `a-${i}.txt`), `unchanged ${i}\n`.repeat(100));
    run('setfattr', '-n', 'user.note', '-v', `note ${i}`, join(src, `a-${i}.txt`));
  }
  const first = await backup(repo, { sources: [src] });
  assert.equal(first.outcome.meaning, 'ok', first.outcome.error?.toLine());
  const second = await backup(repo, { sources: [src] });
  assert.equal(second.outcome.meaning, 'ok', second.outcome.error?.toLine());
  const history = await fingerprintSnapshots(join(repo.dir, '..'), 'laptop');
  assert.equal(history.size, 2);

  // New data after the unchanged files (file-list order), and the run is killed part way:
  // by then .incomplete holds the a-* files as hardlinks into both snapshots.
  for (let i = 0; i < 4; i++) writeFileSync(join(src, `n-${i}.bin`), randomBytes(1024 * 1024));
  await interruptedBackup(repo, src, 'kill', 2.5 * 1024 * 1024);
  const shared = join(repo.dir, '.incomplete', src, 'a-0.txt');
  assert.ok(lstatSync(shared).nlink >= 3, 'precondition: .incomplete shares inodes with history');

  // The client changes the linked files, honestly or not.
  const f = (i: number) => join(src, `a-${i}.txt`);
  chmodSync(f(0), 0o4755); // a setuid bit planted into user.rsync.%stat
  chmodSync(f(1), 0o600);
  run('setfattr', '-n', 'user.note', '-v', 'changed', f(2));
  run('setfattr', '-n', 'user.planted', '-v', 'x', f(3));
  run('setfacl', '-m', 'u:65534:rwx', f(4));
  const st = statSync(f(5)); // same size and times, other content: rsync's quick check passes
  writeFileSync(f(5), readFileSync(f(5), 'utf8').replace('unchanged', 'UNCHANGED'));
  utimesSync(f(5), st.atime, st.mtime);
  writeFileSync(f(6), 'rewritten\n');

  const resumed = await backup(repo, { sources: [src] });
  assert.equal(resumed.resumed, true);
  assert.equal(resumed.outcome.meaning, 'ok', resumed.outcome.error?.toLine());
  const after = await fingerprintSnapshots(join(repo.dir, '..'), 'laptop');
  for (const [id, print] of history)
    assert.equal(after.get(id), print, `the older snapshot ${id} is byte-identical`);
  // and the new snapshot has the new attributes
  const mode = spawnSync(
    'getfattr',
    ['-n', 'user.rsync.%stat', '--only-values', join(resumed.info!.path, src, 'a-0.txt')],
    { encoding: 'utf8' },
  ).stdout;
  assert.match(mode, /^104755 /, 'the new snapshot records the setuid bit');
  assert.equal(readFileSync(join(resumed.info!.path, src, 'a-6.txt'), 'utf8'), 'rewritten\n');
});

test('R: a resumed run never promotes a cut-off file: one the client made unreadable comes back as its previous version, one it deleted is absent, and both are in the metadata', async (t) => {
  if (skipUnlessRoot(t)) return;
  const { repo, src } = newCase();
  const keep = join(src, 'keep.bin');
  const gone = join(src, 'gone.bin');
  writeFileSync(keep, randomBytes(64 * 1024));
  const first = await backup(repo, { sources: [src] });
  assert.equal(first.outcome.meaning, 'ok', first.outcome.error?.toLine());
  const previous = readFileSync(join(first.info!.path, keep));

  // keep.bin changes and is cut off part way (a cancel: rsync keeps the partial data).
  writeFileSync(keep, randomBytes(6 * 1024 * 1024));
  await interruptedBackup(repo, src, 'cancel', 1024 * 1024);

  // Next run: keep.bin became unreadable, and rsync exits 23.
  chmodSync(keep, 0o000);
  const unreadable = await backup(repo, { sources: [src] });
  assert.equal(unreadable.outcome.exitCode, 23, unreadable.outcome.warnings.join('\n'));
  assert.ok(unreadable.info, 'exit 23 is promoted');
  const snapKeep = join(unreadable.info.path, keep);
  assert.deepEqual(readFileSync(snapKeep), previous, 'keep.bin is the previous version, whole');
  const meta = metaOf(unreadable.info.path);
  assert.deepEqual(meta.notCopied, [keep]);
  assert.doesNotMatch(meta.warnings.join('\n'), /previous snapshots still hold/);

  // gone.bin is new and cut off; then the client deletes it while keep.bin is unreadable
  // (rsync then skips every deletion).
  writeFileSync(gone, randomBytes(6 * 1024 * 1024));
  await interruptedBackup(repo, src, 'cancel', 1024 * 1024);
  unlinkSync(gone);
  const deleted = await backup(repo, { sources: [src] });
  assert.equal(deleted.outcome.exitCode, 23, deleted.outcome.warnings.join('\n'));
  assert.ok(deleted.info);
  assert.equal(existsSync(join(deleted.info.path, gone)), false, 'no cut-off gone.bin');
  assert.deepEqual(
    readdirSync(join(deleted.info.path, src)).sort(),
    ['keep.bin'],
    'nothing the client does not have (no partial or temp file either)',
  );
  assert.deepEqual(readFileSync(join(deleted.info.path, keep)), previous);
  chmodSync(keep, 0o644);
});

test('R: garbage in a directory of .incomplete the storage account cannot write is not promoted', async (t) => {
  if (skipUnlessRoot(t)) return;
  const { repo, src } = newCase();
  mkdirSync(join(src, 'sub'));
  writeFileSync(join(src, 'sub', 'real.txt'), 'real\n');
  writeFileSync(join(src, 'big.bin'), randomBytes(4 * 1024 * 1024));
  await interruptedBackup(repo, src, 'kill', 1024 * 1024);
  // What is left in .incomplete: a directory the client never had, made 0555, with a file.
  const old = join(repo.dir, '.incomplete', src, 'old');
  mkdirSync(old, { recursive: true });
  writeFileSync(join(old, 'garbage.txt'), 'not from the client\n');
  chmodSync(old, 0o555);

  const resumed = await backup(repo, { sources: [src] });
  assert.ok(resumed.info, resumed.outcome.error?.toLine());
  assert.deepEqual(readdirSync(join(resumed.info.path, src)).sort(), ['big.bin', 'sub']);
  assert.deepEqual(readdirSync(join(resumed.info.path, src, 'sub')), ['real.txt']);
  assert.equal(resumed.outcome.exitCode, 0, resumed.outcome.warnings.join('\n'));
});

test('S7: error lines a hostile client prints never make the backup host touch anything outside .incomplete', async (t) => {
  if (skipUnlessRoot(t)) return;
  const { repo, src } = newCase();
  writeFileSync(join(src, 'f.txt'), 'mine\n');
  // Another client's snapshot, which the hostile client tries to make us delete or replace.
  const victim = join(repo.dir, '..', 'victim', 'snapshots', '2026-11-26T000000Z');
  mkdirSync(join(victim, 'home'), { recursive: true });
  writeFileSync(join(victim, 'home', 'secret'), 'victim data\n');
  const first = await backup(repo, { sources: [src] });
  assert.equal(first.outcome.meaning, 'ok', first.outcome.error?.toLine());
  // A symlink in its own tree (rsync stores it as a symlink) pointing at the victim.
  symlinkSync(victim, join(src, 'link'));
  const names = [
    join(src, 'link', 'home', 'secret'),
    join(src, 'link'),
    `${src}/../../../../../../victim/snapshots/2026-11-26T000000Z/home/secret`,
    '/../victim',
    `${victim}/home/secret`,
  ];
  const script = join(work, 'hostile-sender.sh');
  writeFileSync(
    script,
    '#!/bin/sh\n' +
      names
        .map(
          (n) =>
            `echo 'rsync: [sender] send_files failed to open "${n}": Permission denied (13)' >&2\n`,
        )
        .join('') +
      'exec sh -c "$SSH_ORIGINAL_COMMAND"\n',
    { mode: 0o755 },
  );
  const hostile = await startTestSshd({ authorizedKeysLine: `command="${script}" ${key.public}` });
  try {
    const result = await backupOnce(repo, {
      sources: [src],
      remote: pullCredentials(hostile, key, work),
      rsyncPath: receiver,
    });
    assert.ok(result.info, result.outcome.error?.toLine());
    assert.equal(readFileSync(join(victim, 'home', 'secret'), 'utf8'), 'victim data\n');
    // The one name that is really below .incomplete is put back as the previous snapshot had
    // it (not at all); the rest name paths outside, or through the symlink, and are ignored.
    assert.equal(existsSync(join(result.info.path, src, 'link')), false);
    assert.deepEqual(metaOf(result.info.path).notCopied, [join(src, 'link')]);
    assert.equal(readFileSync(join(result.info.path, src, 'f.txt'), 'utf8'), 'mine\n');
  } finally {
    await hostile.stop();
  }
});
