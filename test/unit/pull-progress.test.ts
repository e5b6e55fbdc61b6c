import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NO_PROGRESS,
  createLineSplitter,
  parseProgress,
  transferProgress,
  type TransferProgress,
} from '../../core/pull/progress.js';
import { parseStatsLine, type PullStats } from '../../core/pull/stats.js';

// Captured from real runs of rsync 3.5.0 (LC_ALL=C, --info=progress2 --stats --bwlimit=2000,
// two 2 MB files), byte for byte: updates end with \r, the stats with \n.
const CAPTURED_NO_INC =
  '\r         32,768   0%    0.00kB/s    0:00:00  \r      2,000,000  49%    2.10MB/s    0:00:00 (xfr#1, to-chk=5/8)\r      2,000,002  50%    2.10MB/s    0:00:00 (xfr#2, to-chk=3/8)\r      2,000,004  50%    2.10MB/s    0:00:00 (xfr#3, to-chk=1/8)\r      2,098,308  52%    1.96MB/s    0:00:00  \r      4,000,004 100%    1.99MB/s    0:00:01 (xfr#4, to-chk=0/8)\r      4,000,004 100%    1.99MB/s    0:00:01 (xfr#4, to-chk=0/8)\r      4,000,004 100%    1.99MB/s    0:00:01 (xfr#4, to-chk=0/8)\r      4,000,004 100%    1.99MB/s    0:00:01 (xfr#4, to-chk=0/8)\n\nNumber of files: 8 (reg: 4, dir: 4)\nNumber of created files: 8 (reg: 4, dir: 4)\nNumber of deleted files: 0\nNumber of regular files transferred: 4\nTotal file size: 4,000,004 bytes\nTotal transferred file size: 4,000,004 bytes\nLiteral data: 4,000,004 bytes\nMatched data: 0 bytes\nFile list size: 0\nFile list generation time: 0.001 seconds\nFile list transfer time: 0.000 seconds\nTotal bytes sent: 4,001,328\nTotal bytes received: 104\n\nsent 4,001,328 bytes  received 104 bytes  2,667,621.33 bytes/sec\ntotal size is 4,000,004  speedup is 1.00\n';

// With incremental recursion (a 50k-file tree): `ir-chk`, and the total still growing.
const CAPTURED_IR =
  '\r              0   0%    0.00kB/s    0:00:00 (xfr#0, ir-chk=1000/1061)\r            200   0%    0.00kB/s    0:00:00  \r            200   0%    0.00kB/s    0:00:00 (xfr#1, ir-chk=1099/1161)\r';

// A slower run (20 × 3 MB at 10 MB/s): mid-file lines carry the time left.
const CAPTURED_SLOW =
  '\r         32,768   0%    0.00kB/s    0:00:00  \r      3,000,000   4%   13.67MB/s    0:00:00 (xfr#1, to-chk=220/222)\r      6,000,000   9%   11.03MB/s    0:00:00 (xfr#2, to-chk=219/222)\r      9,000,000  14%   10.37MB/s    0:00:00 (xfr#3, to-chk=218/222)\r     10,605,632  17%    9.78MB/s    0:00:04  \r';

function lines(text: string): string[] {
  const out: string[] = [];
  const splitter = createLineSplitter((l) => out.push(l));
  splitter.push(text);
  splitter.end();
  return out;
}

test('a mid-file progress2 line gives bytes, percent, rate and the time left', () => {
  assert.deepEqual(parseProgress('     10,605,632  17%    9.78MB/s    0:00:04  '), {
    bytes: 10_605_632,
    percent: 17,
    bytesPerSecond: Math.round(9.78 * 1024 * 1024),
    etaSeconds: 4,
  });
});

test('an end-of-file line gives file counts; its time is elapsed, so there is no ETA', () => {
  assert.deepEqual(
    parseProgress('      2,000,002  50%    2.10MB/s    0:00:05 (xfr#2, to-chk=3/8)'),
    {
      bytes: 2_000_002,
      percent: 50,
      bytesPerSecond: Math.round(2.1 * 1024 * 1024),
      etaSeconds: null,
      elapsedSeconds: 5,
      filesTransferred: 2,
      filesToCheck: 3,
      filesTotal: 8,
    },
  );
});

test('with incremental recursion (ir-chk) the total is not reported: it still grows', () => {
  const p = parseProgress('            200   0%    0.00kB/s    0:00:00 (xfr#1, ir-chk=1099/1161)');
  assert.equal(p?.filesTransferred, 1);
  assert.equal(p?.filesToCheck, 1099);
  assert.equal(p?.filesTotal, undefined);
});

test('rates in kB/s and GB/s, hours in the clock and an unknown ETA all parse', () => {
  assert.equal(
    parseProgress('            400   0%  195.31kB/s    0:00:00 (xfr#2, ir-chk=1098/1161)')
      ?.bytesPerSecond,
    Math.round(195.31 * 1024),
  );
  assert.equal(
    parseProgress('      8,388,610  99%    1.30GB/s    0:00:00 (xfr#2, to-chk=4/12)')
      ?.bytesPerSecond,
    Math.round(1.3 * 1024 ** 3),
  );
  assert.equal(
    parseProgress('  1,234,567,890  45%    1.23MB/s   12:03:04  ')?.etaSeconds,
    12 * 3600 + 3 * 60 + 4,
  );
  assert.equal(parseProgress('         32,768   0%    0.00kB/s  ??:??:??  ')?.etaSeconds, null);
});

test('what is not a progress line is not parsed as one', () => {
  for (const line of [
    'Number of files: 8 (reg: 4, dir: 4)',
    'sent 4,001,328 bytes  received 104 bytes  2,667,621.33 bytes/sec',
    'rsync: [sender] link_stat "/nope" failed: No such file or directory (2)',
    '',
  ]) {
    assert.equal(parseProgress(line), null, line);
  }
});

test('the splitter splits a real capture on \\r and \\n, and every update parses', () => {
  const all = lines(CAPTURED_NO_INC);
  const progress = all.map(parseProgress).filter((p) => p !== null);
  assert.equal(progress.length, 9);
  assert.deepEqual(
    progress.map((p) => p.percent),
    [0, 49, 50, 50, 52, 100, 100, 100, 100],
  );
  assert.equal(progress.at(-1)?.filesTotal, 8);
  const stats: PullStats = {};
  for (const l of all) parseStatsLine(l, stats);
  assert.deepEqual(stats, { files: 8, totalBytes: 4_000_004, bytesTransferred: 104 });

  assert.deepEqual(
    lines(CAPTURED_IR).map((l) => parseProgress(l)?.filesToCheck ?? 'eta'),
    [1000, 'eta', 1099],
  );
  assert.equal(lines(CAPTURED_SLOW).map(parseProgress).at(-1)?.etaSeconds, 4);
});

test('the splitter keeps a line cut between chunks, and a multi-byte character cut in two', () => {
  const out: string[] = [];
  const splitter = createLineSplitter((l) => out.push(l));
  const bytes = Buffer.from(
    '      2,000,000  49%    2.10MB/s    0:00:00 (xfr#1, to-chk=5/8)\rfile has vanished: "/h/é"\n',
  );
  const cut = bytes.indexOf(Buffer.from('é')) + 1; // inside the two bytes of é
  splitter.push(bytes.subarray(0, 20));
  splitter.push(bytes.subarray(20, cut));
  splitter.push(bytes.subarray(cut));
  splitter.push('tail without newline');
  splitter.end();
  assert.deepEqual(out, [
    '      2,000,000  49%    2.10MB/s    0:00:00 (xfr#1, to-chk=5/8)',
    'file has vanished: "/h/é"',
    'tail without newline',
  ]);
});

test('what is shown of a real capture: the file count holds through mid-file lines, the total comes once known', () => {
  let shown: TransferProgress = NO_PROGRESS;
  const seen: TransferProgress[] = [];
  for (const p of lines(CAPTURED_SLOW).map(parseProgress)) {
    if (!p) continue;
    shown = transferProgress(p, shown);
    seen.push(shown);
  }
  assert.deepEqual(
    seen.map((s) => s.files),
    [0, 1, 2, 3, 3],
  );
  assert.deepEqual(seen.at(-1), {
    bytes: 10_605_632,
    percent: 17,
    bytesPerSecond: Math.round(9.78 * 1024 * 1024),
    etaSeconds: 4,
    files: 3,
  });
  assert.equal(seen[1]?.filesTotal, 222);
});

test("a peer's progress message maps to the same fields: extra ones dropped, the percentage kept in 0..100", () => {
  const message = {
    v: 1,
    type: 'progress',
    bytes: 5,
    percent: 250,
    bytesPerSecond: 7,
    etaSeconds: null,
    files: 2,
    filesTotal: 9,
  };
  assert.deepEqual(transferProgress(message), {
    bytes: 5,
    percent: 100,
    bytesPerSecond: 7,
    etaSeconds: null,
    files: 2,
    filesTotal: 9,
  });
  assert.equal(transferProgress({ ...NO_PROGRESS, percent: -3 }).percent, 0);
});

test('latestUpdateOnly: of the \\r updates that arrive together only the last is passed on', () => {
  const out: string[] = [];
  const splitter = createLineSplitter((l) => out.push(l), { latestUpdateOnly: true });
  splitter.push(CAPTURED_SLOW);
  splitter.push('\nNumber of files: 222\n a\rb\rc\n');
  splitter.end();
  assert.deepEqual(out, [
    '     10,605,632  17%    9.78MB/s    0:00:04  ',
    'Number of files: 222',
    'b',
    'c',
  ]);
  assert.equal(lines(CAPTURED_SLOW).length, 5, 'without it every update is a line');
});
