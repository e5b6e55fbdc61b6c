import { spawn } from 'node:child_process';
import { PullbackError } from '../errors.js';
import { createLineSplitter, parseProgress, type PullProgress } from './progress.js';
import { parseStatsLine, type PullStats } from './stats.js';
import { interpretRsyncExit, type PullMeaning, type PullVerdict } from './exit-codes.js';
import { notCopiedEntry } from './not-copied.js';

export interface PullOutcome {
  /** rsync's exit status; -1 when it was killed by a signal or never started */
  exitCode: number;
  meaning: PullMeaning;
  warnings: string[];
  /** set exactly when meaning is 'failed' */
  error?: PullbackError;
  stats: PullStats;
  lastProgress?: PullProgress;
  /** entries rsync said it could not copy (see not-copied.ts); promote() puts them back */
  notCopied: string[];
}

export interface RunPullOptions {
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
  onStderrLine?: (line: string) => void;
  /** called once rsync runs (tests use the pid to kill it hard) */
  onSpawn?: (pid: number) => void;
  /** after SIGTERM, how long rsync gets to stop before SIGKILL */
  killGraceMs?: number;
  /**
   * whether "partial" with nothing copied is a failure (default); one tree of several passes
   * false, and the whole pull decides on the sum (pull-trees.ts)
   */
  emptyIsFailure?: boolean;
}

/** "Partial" with nothing at all (every source missing or unreadable) is no backup. */
export function failWhenNothingCopied<T extends { meaning: PullMeaning; warnings: string[] }>(
  verdict: T,
  stats: PullStats,
): T | { meaning: 'failed'; warnings: string[]; error: PullbackError } {
  if (verdict.meaning !== 'partial' || stats.files !== 0) return verdict;
  return {
    meaning: 'failed',
    warnings: [],
    error: new PullbackError(
      'RSYNC_FAILED',
      `nothing could be copied: ${verdict.warnings.slice(1).join('; ')}`,
    ),
  };
}

const MAX_STDERR_LINES = 2000;
/** Far more than any real run; a sender flooding us with error lines stops counting here. */
const MAX_NOT_COPIED = 100_000;

/**
 * Runs the pull's rsync (argv from buildPullArgv, program first) and reports what its end
 * means. Never throws for rsync's own failures: they come back as `outcome.error`.
 */
export function runPull(
  argv: readonly string[],
  options: RunPullOptions = {},
): Promise<PullOutcome> {
  const [program, ...args] = argv;
  if (!program) throw new PullbackError('INTERNAL', 'runPull needs a program');
  const stats: PullStats = {};
  const stderrLines: string[] = [];
  const notCopied: string[] = [];
  let lastProgress: PullProgress | undefined;
  if (options.signal?.aborted) {
    return Promise.resolve({
      exitCode: -1,
      meaning: 'failed',
      warnings: [],
      error: new PullbackError('CANCELLED', 'the pull was cancelled before rsync started'),
      stats,
      notCopied,
    });
  }
  return new Promise((resolve) => {
    // C locale: the number format progress.ts and stats.ts parse does not depend on the host.
    const child = spawn(program, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
    });
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      cancelled = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? 10_000);
      killTimer.unref();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const stdout = createLineSplitter(
      (line) => {
        const progress = parseProgress(line);
        if (progress) {
          lastProgress = progress;
          options.onProgress?.(progress);
        } else parseStatsLine(line, stats);
      },
      { latestUpdateOnly: true },
    );
    const stderr = createLineSplitter((line) => {
      if (stderrLines.length < MAX_STDERR_LINES) stderrLines.push(line);
      else stderrLines[MAX_STDERR_LINES - 1] = line; // keep the last one: it says how it ended
      const entry = notCopiedEntry(line);
      if (entry !== undefined && notCopied.length < MAX_NOT_COPIED) notCopied.push(entry);
      options.onStderrLine?.(line);
    });
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));

    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    child.once('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });
    child.once('close', (code, signal) => {
      stdout.end();
      stderr.end();
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (spawnError) {
        const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
        resolve({
          exitCode: -1,
          meaning: 'failed',
          warnings: [],
          error: new PullbackError(
            missing ? 'MISSING_TOOL' : 'RSYNC_FAILED',
            missing
              ? `${program} is not installed`
              : `could not start ${program}: ${spawnError.message}`,
          ),
          stats,
          notCopied,
        });
        return;
      }
      let verdict: PullVerdict = interpretRsyncExit({
        exitCode: code,
        signal,
        stderrLines,
        cancelled,
      });
      if (options.emptyIsFailure !== false) verdict = failWhenNothingCopied(verdict, stats);
      resolve({
        exitCode: code ?? -1,
        meaning: verdict.meaning,
        warnings: verdict.warnings,
        ...(verdict.error ? { error: verdict.error } : {}),
        stats,
        notCopied,
        ...(lastProgress ? { lastProgress } : {}),
      });
    });
  });
}
