import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar } from '../../cli/progress-bar.js';
import type { ProgressMessage } from '../../core/handoff/messages.js';

const line = (p: Partial<ProgressMessage>): ProgressMessage => ({
  v: 1,
  type: 'progress',
  bytes: 0,
  percent: 0,
  bytesPerSecond: 1_000_000,
  etaSeconds: 100,
  files: 0,
  ...p,
});

test('R: the progress bar keeps counting files while a big file is transferred', () => {
  const bar = new ProgressBar();
  bar.render(line({ files: 41, etaSeconds: null }));
  // mid-file lines of rsync carry no file count: the server sends 0
  const mid = bar.render(line({ files: 0, bytes: 5e8, percent: 40 }));
  assert.match(mid, / 41 files transferred$/);
});

test('R: the progress bar smooths the ETA over rate spikes', () => {
  const bar = new ProgressBar();
  let bytes = 0;
  let eta: number | null = null;
  for (let i = 0; i < 20; i++) {
    bytes += 1e6;
    eta = bar.update(line({ bytes, bytesPerSecond: 1e6, etaSeconds: 100 - i })).etaSeconds;
  }
  // one burst at 50x the rate (a run of small cached files): rsync's ETA drops to 2 s
  const burst = bar.update(
    line({ bytes: bytes + 1e6, bytesPerSecond: 5e7, etaSeconds: 2 }),
  ).etaSeconds;
  assert.ok(eta !== null && burst !== null);
  assert.ok(burst > 10, `smoothed ETA ${burst}s instead of rsync's 2s`);
  assert.ok(burst < eta!, 'but it does go down');
});
