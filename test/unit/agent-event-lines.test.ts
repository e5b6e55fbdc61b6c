import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventLine, logTimestamp, stateChangeLines } from '../../core/agent/event-lines.js';
import type { AgentState, HistoryEntry } from '../../core/agent/types.js';

const entry: HistoryEntry = {
  host: 'home',
  startedAt: '2026-11-26T18:01:02.000Z',
  finishedAt: '2026-11-26T18:01:12.000Z',
  result: 'success',
  trigger: 'automatic',
  snapshot: '2026-11-26T180102Z',
  files: 12,
  totalBytes: 2048,
  bytesTransferred: 1024,
  durationMs: 10_000,
};

test('the agent log timestamp is UTC to the second', () => {
  assert.equal(logTimestamp(Date.parse('2026-11-26T18:01:02.345Z')), '2026-11-26T18:01:02Z');
});

test('each event is one line naming the host', () => {
  assert.equal(
    eventLine({ type: 'backup-started', host: 'home', trigger: 'automatic' }),
    'host=home backup started (automatic)',
  );
  assert.equal(
    eventLine({ type: 'backup-finished', host: 'home', entry }),
    'host=home backup finished (automatic): snapshot 2026-11-26T180102Z, 12 files, 2.0 KiB in all, 1.0 KiB transferred, 10 s',
  );
  const failed: HistoryEntry = {
    ...entry,
    result: 'failed',
    error: { code: 'NO_SPACE', message: 'disk full' },
  };
  assert.equal(
    eventLine({
      type: 'backup-failed',
      host: 'home',
      entry: failed,
      reason: 'The disk is full.',
      hint: 'Free space.',
    }),
    'host=home backup failed (automatic): NO_SPACE: disk full (Free space.)',
  );
  assert.match(
    eventLine({ type: 'overdue', host: 'home', days: 8 })!,
    /^host=home overdue: no successful backup for 8 day\(s\) \(never backed up\)$/,
  );
  assert.match(eventLine({ type: 'host-key-changed', host: 'home' })!, /host key changed/);
  assert.equal(
    eventLine({ type: 'state', state: { hosts: [], mode: 'user', needsPairing: true } }),
    undefined,
  );
  for (const line of [eventLine({ type: 'backup-finished', host: 'home', entry })!]) {
    assert.doesNotMatch(line, /\n/);
  }
});

test('a state change is logged only when the reason for waiting changes', () => {
  const base = (waitingFor?: string): AgentState => ({
    mode: 'user',
    needsPairing: false,
    hosts: [
      {
        host: 'home',
        address: '127.0.0.3',
        phase: waitingFor ? 'waiting' : 'idle',
        reachable: 'unreachable',
        overdue: false,
        ...(waitingFor ? { waitingFor } : {}),
      },
    ],
  });
  assert.deepEqual(stateChangeLines(undefined, base('on battery')), [
    'host=home waiting: on battery',
  ]);
  assert.deepEqual(stateChangeLines(base('on battery'), base('on battery')), []);
  assert.deepEqual(stateChangeLines(base('on battery'), base()), []);
  assert.deepEqual(stateChangeLines(undefined, { hosts: [], mode: 'user', needsPairing: true }), [
    'no backup host paired yet: waiting (pullback pair USER@HOST)',
  ]);
});
