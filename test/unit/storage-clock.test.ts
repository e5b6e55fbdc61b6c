import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository, type ClientRepository } from '../../core/storage/repository.js';
import type { SnapshotMetaInput } from '../../core/storage/metadata.js';
import { pruneRepository } from '../../core/storage/prune.js';
import { collectServerStatus } from '../../core/server/status.js';
import { parseServerConfig } from '../../core/config/server-store.js';
import * as doctorChecks from '../../core/doctor.js';
import * as ids from '../../core/storage/snapshot-id.js';

/**
 * A clock that was once ahead (an injected clock here): ids stay ordered and unique without
 * ever refusing a run, retention judges later snapshots by when they were made, and status and
 * doctor say what is wrong.
 */
const HOUR = 3_600_000;
const REAL = new Date('2026-11-26T12:00:00Z');
const AHEAD = new Date(REAL.getTime() + 48 * HOUR);

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-clock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function meta(at: Date): SnapshotMetaInput {
  return {
    startedAt: new Date(at.getTime() - 1000).toISOString(),
    finishedAt: at.toISOString(),
    durationMs: 1000,
    sources: ['/home/u'],
    excludes: [],
    rsyncExit: 0,
    warnings: [],
    stats: {},
  };
}

/** One run whose clock reads `at` (the repository takes the clock as an argument). */
async function backupAt(repo: ClientRepository, at: Date, content = 'x') {
  const lock = await repo.acquireLock();
  try {
    const run = await repo.prepareRun();
    writeFileSync(join(run.dest, 'f'), content);
    return await repo.promote(meta(at), at);
  } finally {
    await lock.release();
  }
}

test('R: after a snapshot dated two days ahead, every later run still gets an id, in order, past -9', async (t) => {
  const repo = openRepository(tempRoot(t), 'laptop', { backend: 'hardlink' });
  const future = await backupAt(repo, AHEAD);
  const later = [];
  for (let i = 1; i <= 14; i++)
    later.push(await backupAt(repo, new Date(REAL.getTime() + i * HOUR)));
  assert.deepEqual(
    later.map((s) => s.id),
    later.map((_, i) => `${future.id}-${i + 1}`),
  );
  const listed = (await repo.listSnapshots()).map((s) => s.id);
  assert.deepEqual(listed, [future.id, ...later.map((s) => s.id)], 'numeric order: -9 < -10');
  assert.equal((await repo.latest())?.id, `${future.id}-14`);
  assert.ok(ids.compareSnapshotIds(`${future.id}-9`, `${future.id}-10`) < 0);
  assert.equal(
    ids.snapshotIdTime(`${future.id}-14`).getTime(),
    ids.snapshotIdTime(future.id).getTime(),
  );
  // the later ones record when they were really made
  assert.equal(later[0]!.meta.madeAt, new Date(REAL.getTime() + HOUR).toISOString());
  assert.equal(future.meta.madeAt, undefined);
  // once the clock passes the future id, ids are plain times again
  const caughtUp = await backupAt(repo, new Date(AHEAD.getTime() + HOUR));
  assert.equal(caughtUp.id, ids.formatSnapshotTime(new Date(AHEAD.getTime() + HOUR)));
});

test('R: retention after a clock that was once ahead thins later snapshots by when they were made, and never removes the newest', async (t) => {
  const repo = openRepository(tempRoot(t), 'laptop', { backend: 'hardlink' });
  const future = await backupAt(repo, AHEAD);
  // hourly for 40 hours, all before the clock reaches the future id: ids `<future>-1` … `-40`
  for (let h = 1; h <= 40; h++) await backupAt(repo, new Date(REAL.getTime() + h * HOUR));
  const all = (await repo.listSnapshots()).map((s) => s.id);
  assert.equal(all[all.length - 1], `${future.id}-40`);
  const now = new Date(AHEAD.getTime() + 3 * 24 * HOUR);
  const result = await pruneRepository(repo, '24h:all,30d:daily', { now, dryRun: true });
  // Judged by when they were made: the oldest of each real day (11-26 13:00 is -1, 11-27 00:00
  // is -12, 11-28 00:00 is -36), the newest by id (-40) and the newest by date (the future
  // one). Judged by their ids all 41 fall into the future one's day and are thinned to one.
  assert.deepEqual(result.kept, [future.id, ...[1, 12, 36, 40].map((n) => `${future.id}-${n}`)]);
  // a spec that removes everything keeps the newest by id (and retention's newest by date)
  const harsh = await pruneRepository(repo, '1h:none', { now });
  assert.deepEqual(
    (await repo.listSnapshots()).map((s) => s.id),
    [future.id, `${future.id}-40`],
  );
  assert.equal(harsh.removed.length, all.length - 2);
});

test('R: server status and doctor warn when the newest snapshot is dated in the future', async (t) => {
  const root = tempRoot(t);
  const repo = openRepository(root, 'laptop', { backend: 'hardlink' });
  await backupAt(repo, AHEAD);
  await backupAt(repo, new Date(REAL.getTime() + HOUR));
  await backupAt(openRepository(root, 'desktop', { backend: 'hardlink' }), REAL);
  const config = parseServerConfig({ storage: root });
  const status = await collectServerStatus(config, {
    now: new Date(REAL.getTime() + 2 * HOUR),
    sizes: false,
  });
  const laptop = status.clients.find((c) => c.client === 'laptop')!;
  assert.match(laptop.clockWarning ?? '', /dated 46\.0 h after this host's clock/);
  assert.equal(status.clients.find((c) => c.client === 'desktop')!.clockWarning, undefined);
  const doctor = doctorChecks.checkSnapshotClock(root, new Date(REAL.getTime() + 2 * HOUR));
  assert.equal(doctor.length, 1);
  assert.match(doctor[0]!, /^laptop: snapshot .* is dated 46\.0 h after/);
  assert.deepEqual(doctorChecks.checkSnapshotClock(root, new Date(AHEAD.getTime() + HOUR)), []);
});
