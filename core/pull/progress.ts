import { StringDecoder } from 'node:string_decoder';
import type { TransferProgress } from './transfer-progress.js';

export type { TransferProgress };

/**
 * The one parser of rsync's `--info=progress2` output. rsync rewrites one line with `\r`:
 *
 *       2,000,000  49%    2.10MB/s    0:00:03  ← mid-file: the last field is the time left
 *       2,000,002  50%    2.10MB/s    0:00:05 (xfr#2, to-chk=3/8)  ← a file just finished:
 *                                      the time field is then the time *elapsed* so far
 *
 * `to-chk=R/T` once the file list is complete, `ir-chk=R/T` while incremental recursion is
 * still finding files (T grows). Rates use 1024-based units (kB/s = KiB/s).
 */
export interface PullProgress {
  bytes: number;
  percent: number;
  bytesPerSecond: number;
  /** null when rsync printed elapsed time (end-of-file lines) or `??:??:??` */
  etaSeconds: number | null;
  /** set on end-of-file lines, where rsync prints the elapsed time instead */
  elapsedSeconds?: number;
  filesTransferred?: number;
  filesToCheck?: number;
  /** only once the file list is complete (`to-chk`); with `ir-chk` the total still grows */
  filesTotal?: number;
}

/** A transfer's progress before its first line. */
export const NO_PROGRESS: Readonly<TransferProgress> = {
  bytes: 0,
  percent: 0,
  bytesPerSecond: 0,
  etaSeconds: null,
  files: 0,
};

/**
 * The one mapping of a progress line to what is shown: rsync's own line (PullProgress) or a
 * peer's already mapped message (whose extra fields are dropped). The percentage is kept within
 * 0..100; rsync names the file count only on the lines that end a file, so through a big file
 * the count stays what `before` had, and is never reset to 0.
 */
export function transferProgress(
  p: PullProgress | TransferProgress,
  before: Readonly<TransferProgress> = NO_PROGRESS,
): TransferProgress {
  const files = 'files' in p ? p.files : (p.filesTransferred ?? before.files);
  return {
    bytes: p.bytes,
    percent: Math.min(100, Math.max(0, p.percent)),
    bytesPerSecond: p.bytesPerSecond,
    etaSeconds: p.etaSeconds,
    files,
    ...(p.filesTotal !== undefined ? { filesTotal: p.filesTotal } : {}),
  };
}

const LINE =
  /^\s*([\d,.]+)\s+(\d{1,3})%\s+([\d.,]+)([kMGTP]?B)\/s\s+(\?\?:\?\?:\?\?|\d+:\d{2}:\d{2})(?:\s+\(xfr#(\d+),\s+(to|ir)-chk=(\d+)\/(\d+)\))?\s*$/;

const UNIT: Record<string, number> = {
  B: 1,
  kB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
  PB: 1024 ** 5,
};

export function parseProgress(line: string): PullProgress | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const [, bytes, percent, rate, unit, time, xfr, chk, toCheck, total] = m;
  const seconds = parseClock(time!);
  const progress: PullProgress = {
    bytes: Number(bytes!.replace(/[,.]/g, '')),
    percent: Number(percent),
    bytesPerSecond: Math.round(Number(rate!.replace(',', '.')) * UNIT[unit!]!),
    etaSeconds: xfr === undefined ? seconds : null,
  };
  if (xfr !== undefined) {
    if (seconds !== null) progress.elapsedSeconds = seconds;
    progress.filesTransferred = Number(xfr);
    progress.filesToCheck = Number(toCheck);
    if (chk === 'to') progress.filesTotal = Number(total);
  }
  return progress;
}

function parseClock(text: string): number | null {
  if (text.startsWith('?')) return null;
  const [h, m, s] = text.split(':').map(Number);
  return h! * 3600 + m! * 60 + s!;
}

/**
 * Splits a byte stream into lines on `\r` and `\n` alike (progress2 ends its updates with `\r`,
 * everything else with `\n`). Empty lines are dropped. Call `end()` for the unterminated rest.
 * With `latestUpdateOnly`, of the `\r` lines that arrive together only the last is passed on
 * (rsync writes one per file: a big tree's pull would parse each of them for nothing).
 */
export function createLineSplitter(
  onLine: (line: string) => void,
  options: { latestUpdateOnly?: boolean } = {},
): {
  push(chunk: Buffer | string): void;
  end(): void;
} {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  const feed = (text: string) => {
    rest += text;
    let update: string | undefined;
    let start = 0;
    for (;;) {
      const cr = rest.indexOf('\r', start);
      const lf = rest.indexOf('\n', start);
      const at = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (at === -1) break;
      const line = rest.slice(start, at);
      start = at + 1;
      if (line.trim() === '') continue;
      if (options.latestUpdateOnly && at === cr) {
        update = line;
        continue;
      }
      if (update !== undefined) onLine(update);
      update = undefined;
      onLine(line);
    }
    if (update !== undefined) onLine(update);
    rest = rest.slice(start);
    // A line that never ends (a misbehaving peer) must not grow without bound.
    if (rest.length > 64 * 1024) rest = rest.slice(-64 * 1024);
  };
  return {
    push: (chunk) => feed(typeof chunk === 'string' ? chunk : decoder.write(chunk)),
    end: () => {
      feed(decoder.end());
      if (rest.trim() !== '') onLine(rest);
      rest = '';
    },
  };
}
