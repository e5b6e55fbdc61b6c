import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryEntry } from '../../core/agent/types.js';
import { notificationFor } from '../../main/notification-text.js';

const NOW = new Date('2026-11-26T18:00:00Z');
const ALL = { finished: true, failed: true, overdue: true };
const entry = (extra: Partial<HistoryEntry>): HistoryEntry => ({
  host: 'home',
  startedAt: '2026-11-26T17:58:00Z',
  finishedAt: '2026-11-26T18:00:00Z',
  result: 'success',
  trigger: 'manual',
  durationMs: 125_000,
  ...extra,
});

test('notification: finished says files, size and duration', () => {
  const n = notificationFor(
    {
      type: 'backup-finished',
      host: 'home',
      entry: entry({ files: 1234, totalBytes: 5 * 1024 ** 3, bytesTransferred: 3 * 1024 ** 2 }),
    },
    ALL,
    NOW,
  );
  assert.equal(n?.title, 'Backup to home finished');
  assert.equal(n?.body, '1,234 files, 5.0 GiB (3.0 MiB copied) in 2 min 5 s.');
  assert.equal(
    notificationFor(
      { type: 'backup-finished', host: 'home', entry: entry({}) },
      { ...ALL, finished: false },
      NOW,
    ),
    undefined,
  );
});

test('notification: failed says the reason in words and what to do, never the raw text; cancelled says nothing', () => {
  const failed = entry({
    result: 'failed',
    error: { code: 'UNREACHABLE', message: 'connect ECONNREFUSED 127.0.0.3:22' },
  });
  const n = notificationFor(
    {
      type: 'backup-failed',
      host: 'home',
      entry: failed,
      reason: 'The backup host refused the connection.',
      hint: 'Check the network.',
    },
    ALL,
    NOW,
  );
  assert.equal(n?.title, 'Backup to home failed');
  assert.equal(n?.body, 'The backup host refused the connection.\nCheck the network.');
  const cancelled = entry({ result: 'cancelled', error: { code: 'CANCELLED', message: 'x' } });
  assert.equal(
    notificationFor(
      { type: 'backup-failed', host: 'home', entry: cancelled, reason: 'Cancelled.', hint: '' },
      ALL,
      NOW,
    ),
    undefined,
  );
});

test('notification: overdue says since when; a changed host key is critical', () => {
  const n = notificationFor(
    { type: 'overdue', host: 'home', days: 8, lastSuccess: '2026-11-18T18:00:00Z' },
    ALL,
    NOW,
  );
  assert.equal(n?.title, 'No backup to home for 8 days');
  assert.match(n?.body ?? '', /^The last backup was 8 days ago\./);
  assert.equal(
    notificationFor({ type: 'overdue', host: 'home', days: 8 }, { ...ALL, overdue: false }, NOW),
    undefined,
  );
  assert.equal(
    notificationFor({ type: 'host-key-changed', host: 'home' }, ALL, NOW)?.urgency,
    'critical',
  );
  assert.equal(notificationFor({ type: 'log', message: 'x' }, ALL, NOW), undefined);
});
