import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPull } from '../../core/pull/run-pull.js';
import type { PullProgress } from '../../core/pull/progress.js';

// runPull's plumbing with a stand-in program; the real rsync runs in test/integration/pull*.
const node = process.execPath;

test('a missing rsync is MISSING_TOOL, not a crash', async () => {
  const outcome = await runPull(['/nonexistent/rsync', '--version']);
  assert.equal(outcome.error?.code, 'MISSING_TOOL');
  assert.equal(outcome.meaning, 'failed');
});

test('a run cancelled before it starts never spawns rsync', async () => {
  const outcome = await runPull([node, '-e', 'process.exit(0)'], { signal: AbortSignal.abort() });
  assert.equal(outcome.error?.code, 'CANCELLED');
});

test('progress streams while the program runs, stats and stderr are read at the end', async () => {
  const script = `
    process.stdout.write('\\r         32,768   0%    0.00kB/s    0:00:00  ');
    process.stdout.write('\\r      2,000,002  50%    2.10MB/s    0:00:05 (xfr#2, to-chk=3/8)');
    process.stdout.write('\\n\\nNumber of files: 8 (reg: 4, dir: 4)\\nTotal file size: 4,000,004 bytes\\nTotal bytes received: 104\\n');
    process.stderr.write('file has vanished: "/x"\\n');
    process.exit(24);`;
  const progress: PullProgress[] = [];
  const stderr: string[] = [];
  const outcome = await runPull([node, '-e', script], {
    onProgress: (p) => progress.push(p),
    onStderrLine: (l) => stderr.push(l),
  });
  assert.deepEqual(
    progress.map((p) => p.percent),
    [0, 50],
  );
  assert.deepEqual(stderr, ['file has vanished: "/x"']);
  assert.equal(outcome.exitCode, 24);
  assert.equal(outcome.meaning, 'vanished');
  assert.deepEqual(outcome.stats, { files: 8, totalBytes: 4_000_004, bytesTransferred: 104 });
  assert.equal(outcome.lastProgress?.filesTotal, 8);
});

test('cancelling sends SIGTERM, and SIGKILL if the program ignores it', async () => {
  const cancel = new AbortController();
  const started = Date.now();
  const running = runPull(
    [
      node,
      '-e',
      "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);",
    ],
    {
      signal: cancel.signal,
      killGraceMs: 300,
      onSpawn: () => setTimeout(() => cancel.abort(), 200),
    },
  );
  const outcome = await running;
  assert.equal(outcome.error?.code, 'CANCELLED');
  assert.ok(Date.now() - started < 5000);
});

test('a partial run that copied nothing at all is a failure, not an empty snapshot', async () => {
  const script = `
    process.stdout.write('Number of files: 0\\n');
    process.stderr.write('rsync: [sender] link_stat "/nonexistent" failed: No such file or directory (2)\\n');
    process.exit(23);`;
  const outcome = await runPull([node, '-e', script]);
  assert.equal(outcome.meaning, 'failed');
  assert.equal(outcome.error?.code, 'RSYNC_FAILED');
  assert.match(outcome.error!.message, /nothing could be copied: .*nonexistent/);
});
