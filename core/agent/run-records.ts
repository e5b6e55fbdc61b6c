import type { PullbackError } from '../errors.js';
import type { BackupRunResult } from '../handoff/backup-client.js';
import { DEFAULT_BACKOFF, backoffDelayMs, type BackoffPolicy } from './backoff.js';
import { explainError, type ExplainedError } from './error-hints.js';
import { appendHistory } from './history.js';
import { updateHostRecord, type HostRecord, type HostRecords } from './status-store.js';
import type { HistoryEntry } from './types.js';

/**
 * How every backup on this machine is written down, whoever started it (the agent on its
 * schedule, the tray's Back up now, `pullback backup` from a shell or cron): one history line
 * and the host's record in the status file. The schedule reads that record, so a CLI backup
 * counts like any other and the agent does not repeat it a minute later.
 */
export interface RunStart {
  host: string;
  trigger: HistoryEntry['trigger'];
  /** ms since epoch on the caller's clock (schedule time) */
  startedAt: number;
}

export type RunOutcome =
  | { result: BackupRunResult }
  | {
      error: PullbackError;
      /** the agent itself stopped the run (shutdown, logout): it should run again soon */
      stoppedByAgent?: boolean;
    };

export interface RecordedRun {
  entry: HistoryEntry;
  records: HostRecords;
  /** set for a failure: what happened and what to do */
  explained?: ExplainedError;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Runs end within a day (the run deadline): an older mark is a crashed run's, or a reused pid. */
const RUNNING_MARK_MAX_MS = 24 * 60 * 60 * 1000;

/**
 * The pid of another live process (a `pullback backup`) backing up to this host now, if any:
 * the agent waits for it instead of starting a second run the backup host would refuse as busy.
 */
export function runningElsewhere(record: HostRecord, now: number): number | undefined {
  const mark = record.running;
  if (!mark || mark.pid === process.pid) return undefined;
  if (now - Date.parse(mark.since) > RUNNING_MARK_MAX_MS) return undefined;
  try {
    process.kill(mark.pid, 0);
    return mark.pid;
  } catch (err) {
    // EPERM: alive, another account's; ESRCH: gone (killed or crashed mid-run).
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? mark.pid : undefined;
  }
}

export function recordRunStarted(stateDir: string, run: RunStart): HostRecords {
  return updateHostRecord(stateDir, run.host, run.startedAt, (record) => {
    record.lastAttempt = iso(run.startedAt);
    record.running = { pid: process.pid, since: iso(run.startedAt) };
  });
}

/** The history line of a finished run and, for a failure, what happened in words (pure). */
export function describeRun(
  run: RunStart,
  outcome: RunOutcome,
  now: number,
  durationMs: number,
): Omit<RecordedRun, 'records'> {
  const base = {
    host: run.host,
    startedAt: iso(run.startedAt),
    finishedAt: iso(now),
    trigger: run.trigger,
    durationMs,
  };
  if ('result' in outcome) {
    const { result } = outcome;
    const entry: HistoryEntry = {
      ...base,
      result: 'success',
      snapshot: result.snapshot,
      files: result.stats.files,
      totalBytes: result.stats.totalBytes,
      bytesTransferred: result.stats.bytesTransferred,
    };
    if (result.warnings.length > 0) entry.warnings = result.warnings;
    return { entry };
  }
  const { error } = outcome;
  const explained = explainError(error.code, error.message);
  // In words for people; the raw text (from Node, ssh2, rsync) kept as detail for the log.
  const recorded = outcome.stoppedByAgent
    ? { code: error.code, message: 'the agent stopped (shutdown or logout)' }
    : {
        code: explained.code,
        message: explained.message,
        ...(explained.detail !== undefined && { detail: explained.detail }),
      };
  return {
    entry: {
      ...base,
      result: error.code === 'CANCELLED' ? 'cancelled' : 'failed',
      error: recorded,
    },
    explained,
  };
}

/** Appends the history line and updates the record: success resets, failure backs off. */
export function recordRunFinished(
  stateDir: string,
  run: RunStart,
  outcome: RunOutcome,
  now: number,
  durationMs: number,
  backoff: BackoffPolicy = DEFAULT_BACKOFF,
): RecordedRun {
  const { entry, explained } = describeRun(run, outcome, now, durationMs);
  const records = updateHostRecord(stateDir, run.host, now, (record) => {
    record.lastAttempt ??= entry.startedAt;
    delete record.running;
    if (entry.result === 'success') {
      record.lastSuccess = iso(now);
      if (entry.snapshot) record.lastSnapshot = entry.snapshot;
      record.lastResult = 'success';
      record.failures = 0;
      delete record.lastError;
      delete record.retryAt;
      delete record.overdueWarnedAt;
    } else if (entry.result === 'cancelled') {
      record.lastResult = 'cancelled';
      // A cancelled run should not restart a minute later; one stopped by shutdown should.
      if (!('stoppedByAgent' in outcome && outcome.stoppedByAgent)) {
        record.retryAt = iso(now + backoff.maxMs);
      }
    } else if (explained) {
      record.lastResult = 'failed';
      record.failures += 1;
      record.retryAt = iso(now + backoffDelayMs(record.failures, backoff));
      record.lastError = {
        code: explained.code,
        message: explained.message,
        hint: explained.hint,
        ...(explained.detail !== undefined && { detail: explained.detail }),
      };
    }
  });
  appendHistory(stateDir, entry);
  return { entry, records, ...(explained && { explained }) };
}
