import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  startTestSshd,
  generateTestKey,
  pullCredentials,
  type TestSshd,
} from '../support/client-sshd.js';
import { assertTreesIdentical, restoreSnapshot } from '../support/tree-compare.js';
import { backupOnce, type BackupOnceOptions } from '../support/pull-harness.js';
import { openRepository, type ClientRepository } from '../../core/storage/repository.js';

/**
 * A pull that dies (killed, cancelled, raced) must never touch earlier snapshots, and the next
 * run picks up where it stopped. Real rsync over real ssh to a real sshd on 127.0.0.2.
 */
const REPOSITORY_MODULE = new URL('../../core/storage/repository.js', import.meta.url).href;
let sshd: TestSshd;
let work: string;
const key = generateTestKey('pullback-test-K');

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pullback-pull-resume-'));
  sshd = await startTestSshd({ authorizedKeysLine: key.public });
});
after(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

function newCase(): { root: string; repo: ClientRepository; src: string } {
  const dir = mkdtempSync(join(work, 'case-'));
  mkdirSync(join(dir, 'storage'));
  mkdirSync(join(dir, 'src', 'data'), { recursive: true });
  const root = join(dir, 'storage');
  return {
    root,
    repo: openRepository(root, 'laptop', { backend: 'hardlink' }),
    src: join(dir, 'src', 'data'),
  };
}

function backup(repo: ClientRepository, o: Omit<BackupOnceOptions, 'remote'>) {
  return backupOnce(repo, { ...o, remote: pullCredentials(sshd, key, work) });
}

/** Everything that could change in a snapshot: names, inodes, modes, sizes, times, content, xattrs. */
function fingerprint(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const sum = st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : '-';
      lines.push(
        `${relative(dir, p)} ino=${st.ino} mode=${st.mode.toString(8)} size=${st.size} mtime=${st.mtimeMs} ${sum}`,
      );
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  const xattrs = spawnSync('getfattr', ['-R', '-d', '-m', '-', '-h', '.'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(xattrs.status, 0, xattrs.stderr);
  return lines.join('\n') + '\n' + xattrs.stdout;
}

test('killing the pull mid-transfer leaves previous snapshots identical and the next run resumes into .incomplete and completes', async () => {
  const { repo, src } = newCase();
  for (let i = 0; i < 3; i++) writeFileSync(join(src, `old-${i}.bin`), randomBytes(1024 * 1024));
  writeFileSync(join(src, 'notes.txt'), 'first\n');
  const first = await backup(repo, { sources: [src] });
  assert.equal(first.outcome.meaning, 'ok', first.outcome.error?.toLine());
  const before = fingerprint(first.info!.path);

  // New data, slow link, and the pull is killed hard (SIGKILL) part way.
  for (let i = 0; i < 4; i++)
    writeFileSync(join(src, `new-${i}.bin`), randomBytes(2 * 1024 * 1024));
  writeFileSync(join(src, 'notes.txt'), 'second, changed\n');
  let rsyncPid = 0;
  let killedAt = 0;
  const killed = await backup(repo, {
    sources: [src],
    bwlimitKiB: 2048,
    run: {
      onSpawn: (pid) => (rsyncPid = pid),
      onProgress: (p) => {
        if (!killedAt && p.bytes > 2 * 1024 * 1024) {
          killedAt = p.bytes;
          process.kill(rsyncPid, 'SIGKILL');
        }
      },
    },
  });
  assert.ok(killedAt > 0, 'the pull was killed mid-transfer');
  assert.equal(killed.outcome.meaning, 'failed');
  assert.equal(killed.outcome.error?.code, 'RSYNC_FAILED');
  assert.match(killed.outcome.error!.message, /killed by SIGKILL/);
  assert.equal(killed.info, undefined, 'nothing promoted');
  assert.ok(existsSync(join(repo.dir, '.incomplete', src)), '.incomplete kept for the next run');
  assert.deepEqual(
    (await repo.listSnapshots()).map((s) => s.id),
    [first.info!.id],
  );
  assert.equal(fingerprint(first.info!.path), before, 'the previous snapshot is untouched');

  const resumed = await backup(repo, { sources: [src] });
  assert.equal(resumed.resumed, true);
  assert.equal(resumed.outcome.meaning, 'ok', resumed.outcome.error?.toLine());
  assert.ok(resumed.info);
  assert.ok(
    (resumed.outcome.stats.bytesTransferred ?? Infinity) < 8 * 1024 * 1024,
    `what arrived before the kill was not sent again (${resumed.outcome.stats.bytesTransferred} bytes)`,
  );
  assert.equal(existsSync(join(repo.dir, '.incomplete')), false);
  assert.equal(fingerprint(first.info!.path), before, 'the previous snapshot is still untouched');
  assert.deepEqual(
    (await repo.listSnapshots()).map((s) => s.id),
    [first.info!.id, resumed.info.id],
  );
  // complete and exact: no temp files of the killed run, nothing missing
  const restored = join(work, 'restored-' + randomBytes(3).toString('hex'));
  restoreSnapshot(join(resumed.info.path, src), restored);
  assertTreesIdentical(src, restored);
});

test('a second run for the same client while one runs gets BUSY at once; cancelling the first stops rsync', async () => {
  const { root, repo, src } = newCase();
  writeFileSync(join(src, 'big.bin'), randomBytes(4 * 1024 * 1024));
  const cancel = new AbortController();
  let contender: { code: string; ms: number } | undefined;
  const running = backup(repo, {
    sources: [src],
    bwlimitKiB: 512,
    run: {
      signal: cancel.signal,
      onProgress: () => {
        if (contender !== undefined || cancel.signal.aborted) return;
        contender = { code: 'pending', ms: 0 };
        // Another process (as a second `pullback serve` would be) asks for the same client.
        const child = spawn(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const { openRepository } = await import(${JSON.stringify(REPOSITORY_MODULE)});
             const started = Date.now();
             try { await openRepository(${JSON.stringify(root)}, 'laptop', { backend: 'hardlink' }).acquireLock(); console.log('ACQUIRED 0'); }
             catch (e) { console.log(e.code + ' ' + (Date.now() - started)); }`,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.once('close', () => {
          const [code, ms] = out.trim().split(' ');
          contender = { code: code ?? out, ms: Number(ms) };
          cancel.abort();
        });
      },
    },
  });
  const result = await running;
  assert.deepEqual(contender?.code, 'BUSY');
  assert.ok(contender.ms < 500, `BUSY came after ${contender.ms} ms`);
  assert.equal(result.outcome.error?.code, 'CANCELLED', result.outcome.error?.toLine());
  assert.equal(result.info, undefined);
  assert.equal(
    existsSync(join(repo.dir, '.lock')),
    false,
    'the lock is released after the cancelled run',
  );
});
