import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { acquireLock, currentLockOwner, processStartTime } from '../../core/storage/lock.js';
import { PullbackError } from '../../core/errors.js';

const LOCK_MODULE = new URL('../../core/storage/lock.js', import.meta.url).href;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function isBusy(err: unknown): boolean {
  return err instanceof PullbackError && err.code === 'BUSY';
}

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync('true');
  assert.equal(r.status, 0);
  assert.ok(r.pid);
  assert.equal(
    processStartTime(r.pid),
    undefined,
    'the pid of an exited process was reused at once',
  );
  return r.pid;
}

test('a second acquire of a held lock gets BUSY at once, and works again after release', async (t) => {
  const path = join(tempDir(t), '.lock');
  const lock = await acquireLock(path, 'a backup of laptop');
  const started = Date.now();
  await assert.rejects(
    acquireLock(path, 'a backup of laptop'),
    (err) => isBusy(err) && /already running by pid \d+/.test((err as Error).message),
  );
  assert.ok(Date.now() - started < 500, 'BUSY must not wait');
  await lock.release();
  assert.equal(existsSync(path), false);
  const again = await acquireLock(path, 'a backup of laptop');
  await again.release();
});

test('the lock file names its owner: pid, start time, host', async (t) => {
  const path = join(tempDir(t), '.lock');
  const lock = await acquireLock(path, 'x');
  const content = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(content.pid, process.pid);
  assert.equal(content.startTime, processStartTime(process.pid));
  assert.equal(content.hostname, hostname());
  await lock.release();
});

test('a stale lock whose pid is dead is taken over', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, '.lock');
  writeFileSync(
    path,
    JSON.stringify({
      pid: deadPid(),
      startTime: '12345',
      hostname: hostname(),
      createdAt: '2026-01-01T00:00:00.000Z',
    }),
  );
  const lock = await acquireLock(path, 'x');
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
  assert.deepEqual(readdirSync(dir), ['.lock'], 'no temp files left behind');
  await lock.release();
});

test('a lock whose pid is alive but with another start time (a reused pid) is stale', async (t) => {
  const path = join(tempDir(t), '.lock');
  const me = currentLockOwner();
  writeFileSync(path, JSON.stringify({ ...me, startTime: String(Number(me.startTime) - 1) }));
  const lock = await acquireLock(path, 'x');
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).startTime, me.startTime);
  await lock.release();
});

test("a lock held by another host's process is never taken over: BUSY, with the way out", async (t) => {
  const path = join(tempDir(t), '.lock');
  writeFileSync(
    path,
    JSON.stringify({
      pid: deadPid(),
      startTime: '1',
      hostname: 'other-host',
      createdAt: '2026-01-01T00:00:00.000Z',
    }),
  );
  await assert.rejects(
    acquireLock(path, 'x'),
    (err) => isBusy(err) && /other-host.*remove/.test((err as Error).message),
  );
});

test('a lock of another live process is BUSY; once that process is killed (-9), it is taken over', async (t) => {
  const path = join(tempDir(t), '.lock');
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { acquireLock } = await import(${JSON.stringify(LOCK_MODULE)});
       await acquireLock(${JSON.stringify(path)}, 'x');
       console.log('held');
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => child.kill('SIGKILL'));
  await once(child.stdout!, 'data');
  await assert.rejects(acquireLock(path, 'x'), isBusy);
  child.kill('SIGKILL');
  await once(child, 'exit');
  const lock = await acquireLock(path, 'x');
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
  await lock.release();
});

test('release never removes a lock that is no longer ours', async (t) => {
  const path = join(tempDir(t), '.lock');
  const lock = await acquireLock(path, 'x');
  rmSync(path);
  writeFileSync(path, 'someone else');
  await lock.release();
  assert.equal(readFileSync(path, 'utf8'), 'someone else');
});

test('an unreadable lock file is respected while fresh', async (t) => {
  const path = join(tempDir(t), '.lock');
  writeFileSync(path, 'garbage');
  await assert.rejects(acquireLock(path, 'x'), isBusy);
});
