import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDue, isPaused, nextDueTime } from '../../core/agent/schedule.js';
import { backoffDelayMs } from '../../core/agent/backoff.js';
import { checkOverdue } from '../../core/agent/overdue.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const now = Date.parse('2026-11-26T18:00:00Z');
const ago = (ms: number) => new Date(now - ms).toISOString();

test('a host never backed up is due at once', () => {
  assert.equal(isDue(undefined, 24, now), true);
  assert.equal(nextDueTime(undefined, 24, now), now);
});

test('a backup is due once the last success is older than the interval, not before', () => {
  assert.equal(isDue(ago(23 * HOUR), 24, now), false);
  assert.equal(isDue(ago(24 * HOUR), 24, now), true);
  assert.equal(isDue(ago(2 * HOUR), 1, now), true);
  assert.equal(nextDueTime(ago(23 * HOUR), 24, now), now + HOUR);
});

test('an unreadable last-success time counts as never backed up (due)', () => {
  assert.equal(isDue('yesterday-ish', 24, now), true);
});

test('pause holds only while pausedUntil lies in the future', () => {
  assert.equal(isPaused(undefined, now), false);
  assert.equal(isPaused(new Date(now + 1000).toISOString(), now), true);
  assert.equal(isPaused(new Date(now - 1000).toISOString(), now), false);
});

test('back-off doubles from 1 min and stops at 1 h', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 6, 7, 50].map((f) => backoffDelayMs(f) / 60_000),
    [0, 1, 2, 4, 8, 32, 60, 60],
  );
  assert.equal(backoffDelayMs(3, { initialMs: 100, maxMs: 250 }), 250);
  assert.equal(backoffDelayMs(2, { initialMs: 100, maxMs: 250 }), 200);
});

test('overdue after overdueDays without a success, counted from tracking start when never backed up', () => {
  assert.deepEqual(checkOverdue(ago(6 * DAY), ago(30 * DAY), 7, now), { overdue: false, days: 6 });
  assert.deepEqual(checkOverdue(ago(7 * DAY), ago(30 * DAY), 7, now), { overdue: true, days: 7 });
  assert.deepEqual(checkOverdue(undefined, ago(8 * DAY), 7, now), { overdue: true, days: 8 });
  assert.deepEqual(checkOverdue(undefined, ago(HOUR), 7, now), { overdue: false, days: 0 });
});
