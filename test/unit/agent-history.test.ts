import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendHistory, historyFile, readHistory } from '../../core/agent/history.js';
import { readHostRecords, statusFile, writeHostRecords } from '../../core/agent/status-store.js';
import type { HistoryEntry } from '../../core/agent/types.js';

const entry = (host: string, n: number): HistoryEntry => ({
  host,
  startedAt: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(),
  finishedAt: new Date(Date.UTC(2026, 10, 1, 0, n, 30)).toISOString(),
  result: n % 2 ? 'success' : 'failed',
  trigger: 'automatic',
  durationMs: 30_000,
});

test('history is newest first, filterable by host and limit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-state-'));
  for (let n = 0; n < 5; n++) appendHistory(dir, entry(n < 3 ? 'home' : 'office', n));
  const all = await readHistory(dir);
  assert.equal(all.length, 5);
  assert.equal(all[0]!.startedAt, entry('office', 4).startedAt);
  assert.equal((await readHistory(dir, { host: 'home' })).length, 3);
  assert.equal((await readHistory(dir, { limit: 2 })).length, 2);
  assert.equal(statSync(historyFile(dir)).mode & 0o777, 0o600);
});

test('a torn or foreign line in the history is skipped, the rest survives', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-state-'));
  appendHistory(dir, entry('home', 1));
  appendFileSync(historyFile(dir), '{"host":"home","startedAt":"2026-\n');
  appendFileSync(historyFile(dir), '{"something":"else"}\nnot json at all\n');
  appendHistory(dir, entry('home', 3));
  const got = await readHistory(dir);
  assert.deepEqual(
    got.map((e) => e.startedAt),
    [entry('home', 3).startedAt, entry('home', 1).startedAt],
  );
});

test('history is capped at the newest entries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-state-'));
  for (let n = 0; n < 40; n++) appendHistory(dir, entry('home', n), 20);
  const lines = readFileSync(historyFile(dir), 'utf8').trim().split('\n');
  assert.ok(lines.length <= 22, `history has ${lines.length} lines`);
  const got = await readHistory(dir);
  assert.equal(got[0]!.startedAt, entry('home', 39).startedAt);
});

test('no history file means an empty history', async () => {
  assert.deepEqual(await readHistory(join(tmpdir(), 'pullback-no-such-dir')), []);
});

test('host records survive a round trip; a broken status file gives none, a broken host is dropped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-state-'));
  assert.deepEqual(readHostRecords(dir), {});
  const records = {
    home: {
      trackedSince: '2026-11-01T00:00:00.000Z',
      lastSuccess: '2026-11-02T00:00:00.000Z',
      failures: 0,
      overdueWarnedAt: '2026-11-09T00:00:00.000Z',
    },
  };
  writeHostRecords(dir, records);
  assert.deepEqual(readHostRecords(dir), records);
  assert.equal(statSync(statusFile(dir)).mode & 0o777, 0o600);
  const raw = JSON.parse(readFileSync(statusFile(dir), 'utf8'));
  raw.hosts.broken = { failures: 'many' };
  writeFileSync(statusFile(dir), JSON.stringify(raw));
  assert.deepEqual(Object.keys(readHostRecords(dir)), ['home']);
  writeFileSync(statusFile(dir), '{ half');
  assert.deepEqual(readHostRecords(dir), {});
});
