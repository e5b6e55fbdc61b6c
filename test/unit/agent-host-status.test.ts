import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveHostStatus, phaseOf, type HostFacts } from '../../core/agent/host-status.js';
import type { HostRecord } from '../../core/agent/status-store.js';
import { fingerprint, generateKeyPair } from '../../core/ssh/keys.js';

const now = Date.parse('2026-11-26T18:00:00Z');
const DAY = 24 * 3600_000;
const ago = (ms: number) => new Date(now - ms).toISOString();
const fresh: HostRecord = { trackedSince: ago(DAY), failures: 0 };
const ok: HostRecord = { ...fresh, lastSuccess: ago(3600_000), lastResult: 'success' };
const failed: HostRecord = {
  ...ok,
  lastResult: 'failed',
  failures: 1,
  lastError: { code: 'UNREACHABLE', message: 'gone', hint: 'check' },
  retryAt: new Date(now + 60_000).toISOString(),
};
const reachable: HostFacts = { reachable: 'reachable' };
const progress = {
  stage: 'transferring' as const,
  percent: 40,
  bytes: 1,
  bytesPerSecond: 1,
  etaSeconds: 3,
  files: 1,
};
const schedule = { intervalHours: 24, overdueDays: 7 };
const pinnedKey = generateKeyPair('pinned').publicKey;
const presentedKey = generateKeyPair('presented').publicKey;
const host = { name: 'home', address: '127.0.0.3', hostKey: pinnedKey };

test('phase: a never-backed-up host with nothing in the way is idle', () => {
  assert.equal(phaseOf(fresh, reachable, false), 'idle');
});

test('phase: waiting when due and something is in the way', () => {
  assert.equal(
    phaseOf(fresh, { reachable: 'unreachable', waitingFor: 'on battery' }, false),
    'waiting',
  );
});

test('phase: running beats everything', () => {
  assert.equal(phaseOf(failed, { reachable: 'host-key-changed', progress }, true), 'running');
});

test('phase: a changed host key is a failure even after a success', () => {
  assert.equal(phaseOf(ok, { reachable: 'host-key-changed' }, false), 'failed');
});

test('phase: overdue beats an ordinary failure and waiting', () => {
  assert.equal(phaseOf(failed, { reachable: 'unreachable', waitingFor: 'x' }, true), 'overdue');
});

test('phase: the last failure shows until a success; then succeeded', () => {
  assert.equal(phaseOf(failed, { reachable: 'unreachable', waitingFor: 'x' }, false), 'failed');
  assert.equal(phaseOf(ok, reachable, false), 'succeeded');
});

test('status: a changed host key shows HOST_KEY_MISMATCH, both fingerprints and what to do, and no retry time', () => {
  const s = deriveHostStatus(
    host,
    failed,
    { reachable: 'host-key-changed', reachabilityDetail: 'other key', presentedKey },
    schedule,
    now,
  );
  assert.equal(s.phase, 'failed');
  assert.equal(s.lastError?.code, 'HOST_KEY_MISMATCH');
  assert.match(s.lastError!.message, /^Other key\.$/);
  assert.match(s.lastError!.hint, /pair with it again/);
  assert.deepEqual(s.hostKeyChange, {
    pinned: fingerprint(pinnedKey),
    presented: fingerprint(presentedKey),
  });
  assert.equal(s.retryAt, undefined, 'a changed key waits for the user, not for a timer');
});

test('status: back-off time, last error and next due time are shown', () => {
  const s = deriveHostStatus(host, failed, { reachable: 'reachable' }, schedule, now);
  assert.equal(s.retryAt, failed.retryAt);
  assert.equal(s.lastError?.code, 'UNREACHABLE');
  assert.equal(s.nextDue, new Date(now - 3600_000 + DAY).toISOString());
  assert.equal(s.overdue, false);
});

test('status: a past back-off time and an old error after a success are not shown', () => {
  const s = deriveHostStatus(
    host,
    { ...ok, retryAt: ago(1000), lastError: failed.lastError },
    reachable,
    schedule,
    now,
  );
  assert.equal(s.retryAt, undefined);
  assert.equal(s.lastError, undefined);
});

test('status: overdue after overdueDays with no success', () => {
  const s = deriveHostStatus(
    host,
    { trackedSince: ago(8 * DAY), failures: 0 },
    reachable,
    schedule,
    now,
  );
  assert.equal(s.overdue, true);
  assert.equal(s.phase, 'overdue');
});

test('status: progress only while running, waitingFor only while not', () => {
  const s = deriveHostStatus(
    host,
    fresh,
    { reachable: 'reachable', waitingFor: 'x', progress },
    schedule,
    now,
  );
  assert.equal(s.waitingFor, undefined);
  assert.equal(s.progress?.percent, 40);
});
