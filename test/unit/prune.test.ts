import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository, type ClientRepository } from '../../core/storage/repository.js';
import type { SnapshotMetaInput } from '../../core/storage/metadata.js';
import { pruneRepository } from '../../core/storage/prune.js';
import { PullbackError } from '../../core/errors.js';

/** Retention applied to a real repository on disk (the plan itself is tested in retention's tests). */
const NOW = new Date('2026-11-26T12:00:00Z');
const HOUR = 3_600_000;

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-prune-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function meta(at: Date): SnapshotMetaInput {
  return {
    startedAt: at.toISOString(),
    finishedAt: at.toISOString(),
    durationMs: 1000,
    sources: ['/home/u'],
    excludes: [],
    rsyncExit: 0,
    warnings: [],
    stats: {},
  };
}

/** Snapshots at the given ages (hours before NOW), oldest first, each with one file. */
async function repositoryWith(t: { after: (fn: () => void) => void }, agesInHours: number[]) {
  const repo = openRepository(tempRoot(t), 'laptop', { backend: 'hardlink' });
  const ids: string[] = [];
  for (const age of [...agesInHours].sort((a, b) => b - a)) {
    const lock = await repo.acquireLock();
    const run = await repo.prepareRun();
    writeFileSync(join(run.dest, 'file.txt'), `age ${age}\n`);
    const at = new Date(NOW.getTime() - age * HOUR);
    ids.push((await repo.promote(meta(at), at)).id);
    await lock.release();
  }
  return { repo, ids };
}

const ids = async (repo: ClientRepository) => (await repo.listSnapshots()).map((s) => s.id);

test('prune deletes what retention plans, keeps the rest, and pruning twice changes nothing', async (t) => {
  // 3 within 24 h, 3 on one day 5 days ago, 2 in one week 60 days ago
  const { repo, ids: all } = await repositoryWith(t, [
    1,
    5,
    20,
    24 * 5 + 1,
    24 * 5 + 2,
    24 * 5 + 3,
    24 * 60,
    24 * 61,
  ]);
  const first = await pruneRepository(repo, '24h:all,30d:daily,52w:weekly,*:monthly', { now: NOW });
  assert.equal(first.removed.length, 3, JSON.stringify(first));
  assert.deepEqual(await ids(repo), first.kept);
  assert.deepEqual([...first.kept, ...first.removed].sort(), [...all].sort());
  for (const id of first.removed) {
    assert.ok(!existsSync(join(repo.dir, 'snapshots', id)), `${id} is gone`);
    assert.ok(!existsSync(join(repo.dir, 'snapshots', `${id}.json`)), `${id}.json is gone`);
  }
  const second = await pruneRepository(repo, '24h:all,30d:daily,52w:weekly,*:monthly', {
    now: NOW,
  });
  assert.deepEqual(second.removed, [], 'the second prune removes nothing');
  assert.deepEqual(second.kept, first.kept);
});

test('a dry run deletes nothing and reports what would go', async (t) => {
  const { repo, ids: all } = await repositoryWith(t, [24 * 40, 24 * 10, 1]);
  const plan = await pruneRepository(repo, '24h:all,*:none', { now: NOW, dryRun: true });
  assert.equal(plan.dryRun, true);
  assert.deepEqual(plan.removed, all.slice(0, 2));
  assert.deepEqual(await ids(repo), all, 'nothing deleted');
});

test('prune never removes the newest complete snapshot, even when the spec removes everything', async (t) => {
  const { repo, ids: all } = await repositoryWith(t, [24 * 400, 24 * 300]);
  const result = await pruneRepository(repo, '1h:all,*:none', { now: NOW });
  assert.deepEqual(result.kept, [all[1]]);
  assert.deepEqual(await ids(repo), [all[1]]);
});

test('prune never touches .incomplete, and an orphan directory without metadata is left alone', async (t) => {
  const { repo } = await repositoryWith(t, [24 * 400, 24 * 300, 1]);
  mkdirSync(join(repo.dir, '.incomplete'));
  writeFileSync(join(repo.dir, '.incomplete', 'half.bin'), 'half');
  mkdirSync(join(repo.dir, 'snapshots', '2020-01-01T000000Z'));
  const result = await pruneRepository(repo, '24h:all,*:none', { now: NOW });
  assert.equal(result.removed.length, 2);
  assert.ok(existsSync(join(repo.dir, '.incomplete', 'half.bin')), '.incomplete untouched');
  assert.ok(
    readdirSync(join(repo.dir, 'snapshots')).includes('2020-01-01T000000Z'),
    'unknown dir untouched',
  );
});

test('prune while a backup of the client holds its lock is BUSY and deletes nothing', async (t) => {
  const { repo, ids: all } = await repositoryWith(t, [24 * 400, 1]);
  const running = openRepository(join(repo.dir, '..'), 'laptop', { backend: 'hardlink' });
  const lock = await running.acquireLock();
  await assert.rejects(
    pruneRepository(repo, '24h:all,*:none', { now: NOW }),
    (err: unknown) => err instanceof PullbackError && err.code === 'BUSY',
  );
  await lock.release();
  assert.deepEqual(await ids(repo), all);
});

test('a bad retention spec is refused before anything is deleted', async (t) => {
  const { repo, ids: all } = await repositoryWith(t, [24 * 400, 1]);
  await assert.rejects(
    pruneRepository(repo, '30d:daily,24h:all', { now: NOW }),
    (err: unknown) => err instanceof PullbackError && err.code === 'BAD_CONFIG',
  );
  assert.deepEqual(await ids(repo), all);
});
