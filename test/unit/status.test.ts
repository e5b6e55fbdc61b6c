import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectServerStatus } from '../../core/server/status.js';
import { formatPrometheus } from '../../core/server/prometheus.js';
import { writeLastRun } from '../../core/server/last-run.js';
import { parseServerConfig } from '../../core/config/server-store.js';
import { openRepository } from '../../core/storage/repository.js';

const NOW = new Date('2026-11-26T12:00:00Z');

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-status-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function snapshotAt(
  root: string,
  client: string,
  at: Date,
  bytes: number,
  linkFrom?: string,
) {
  const repo = openRepository(root, client, { backend: 'hardlink' });
  const lock = await repo.acquireLock();
  const run = await repo.prepareRun();
  if (linkFrom) linkSync(join(linkFrom, 'data'), join(run.dest, 'data'));
  else writeFileSync(join(run.dest, 'data'), Buffer.alloc(bytes, 1));
  const info = await repo.promote(
    {
      startedAt: at.toISOString(),
      finishedAt: at.toISOString(),
      durationMs: 4000,
      sources: ['/'],
      excludes: [],
      rsyncExit: 0,
      warnings: [],
      stats: {},
    },
    at,
  );
  await lock.release();
  return info;
}

test('status per client: last success and its age, last result, duration, count, size (hardlinks once)', async (t) => {
  const root = tempRoot(t);
  const first = await snapshotAt(root, 'alpha', new Date('2026-11-25T12:00:00Z'), 50_000);
  const newest = await snapshotAt(
    root,
    'alpha',
    new Date('2026-11-26T10:00:00Z'),
    50_000,
    first.path,
  );
  await writeLastRun(join(root, 'alpha'), {
    result: 'failed',
    startedAt: '2026-11-26T11:00:00.000Z',
    finishedAt: '2026-11-26T11:00:30.000Z',
    durationMs: 30_000,
    code: 'UNREACHABLE',
    message: 'no route to host',
  });
  mkdirSync(join(root, 'not a client'));
  const config = parseServerConfig({ storage: root, clients: { beta: {} } });
  const status = await collectServerStatus(config, { now: NOW });
  assert.deepEqual(
    status.clients.map((c) => c.client),
    ['alpha', 'beta'],
  );
  const alpha = status.clients[0]!;
  assert.equal(alpha.snapshots, 2);
  assert.equal(alpha.newestSnapshot, newest.id);
  assert.equal(alpha.lastSuccessAt, '2026-11-26T10:00:00.000Z');
  assert.equal(alpha.lastSuccessAgeSeconds, 7200);
  assert.equal(alpha.lastResult, 'failed');
  assert.deepEqual(alpha.lastError, { code: 'UNREACHABLE', message: 'no route to host' });
  assert.equal(alpha.lastDurationMs, 30_000);
  assert.equal(alpha.running, false);
  // Two snapshots of the same 50 kB file (a hardlink): counted once, plus dirs and metadata.
  assert.ok(alpha.sizeBytes! >= 50_000 && alpha.sizeBytes! < 100_000, `size ${alpha.sizeBytes}`);
  const beta = status.clients[1]!;
  assert.equal(beta.snapshots, 0);
  assert.equal(beta.lastResult, undefined);
});

test('the Prometheus text has HELP and TYPE for every metric and one sample per client and value', async (t) => {
  const root = tempRoot(t);
  await snapshotAt(root, 'alpha', new Date('2026-11-26T10:00:00Z'), 10);
  const text = formatPrometheus(
    await collectServerStatus(parseServerConfig({ storage: root, clients: { beta: {} } }), {
      now: NOW,
      sizes: false,
    }),
  );
  assert.match(text, /^pullback_last_success_timestamp_seconds\{client="alpha"\} 1795687200$/m);
  assert.match(text, /^pullback_last_run_success\{client="alpha"\} 1$/m);
  assert.match(text, /^pullback_last_run_duration_seconds\{client="alpha"\} 4$/m);
  assert.match(text, /^pullback_snapshots\{client="alpha"\} 1$/m);
  assert.match(text, /^pullback_running\{client="alpha"\} 0$/m);
  assert.doesNotMatch(
    text,
    /pullback_storage_bytes\{/,
    'no size sample when sizes were not measured',
  );
  assert.match(text, /^pullback_status_timestamp_seconds 1795694400$/m);
  for (const line of text.trim().split('\n')) {
    assert.match(
      line,
      /^(# (HELP|TYPE) pullback_\w+ .+|pullback_\w+(\{client="(?:[^"\\]|\\.)*"\})? -?[\d.e+]+)$/,
      line,
    );
  }
});

test('Prometheus label values are escaped', () => {
  const text = formatPrometheus({
    generatedAt: NOW.toISOString(),
    storage: '/srv',
    backend: 'auto',
    clients: [
      {
        client: 'a"b\\c',
        running: true,
        snapshots: 0,
        incomplete: false,
        damaged: [],
        leftovers: [],
      },
    ],
  });
  assert.match(text, /^pullback_snapshots\{client="a\\"b\\\\c"\} 0$/m);
});
