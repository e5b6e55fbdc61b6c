import type { HostConfig, ScheduleConfig } from '../config/client-schema.js';
import { fingerprint } from '../ssh/keys.js';
import { explainError } from './error-hints.js';
import { checkOverdue } from './overdue.js';
import { nextDueTime } from './schedule.js';
import type { HostRecord } from './status-store.js';
import type { HostPhase, HostStatus, LastError, Reachability, RunProgress } from './types.js';

/** What the controller knows about a host right now, beyond what it remembers on disk. */
export interface HostFacts {
  reachable: Reachability;
  reachabilityDetail?: string;
  /** host-key-changed: the key the backup host presents now */
  presentedKey?: string;
  /** set only while a backup is due and something stands in the way */
  waitingFor?: string;
  /** set only while a backup runs */
  progress?: RunProgress;
}

/**
 * The per-host state machine, as a pure function of memory and facts. Precedence: a running
 * backup shows as running; a changed host key is a failure until resolved; then overdue; then the
 * last run's failure (until a success); then waiting (due, but something is in the way);
 * then the last success; otherwise idle.
 */
export function phaseOf(record: HostRecord, facts: HostFacts, overdue: boolean): HostPhase {
  if (facts.progress) return 'running';
  if (facts.reachable === 'host-key-changed') return 'failed';
  if (overdue) return 'overdue';
  if (record.lastResult === 'failed') return 'failed';
  if (facts.waitingFor) return 'waiting';
  if (record.lastResult === 'success') return 'succeeded';
  return 'idle';
}

function lastErrorOf(record: HostRecord, facts: HostFacts): LastError | undefined {
  if (facts.reachable === 'host-key-changed' && record.lastError?.code !== 'HOST_KEY_MISMATCH') {
    const { code, message, hint } = explainError(
      'HOST_KEY_MISMATCH',
      facts.reachabilityDetail ?? 'the backup host presented a different host key',
    );
    return { code, message, hint };
  }
  return record.lastResult === 'failed' || facts.reachable === 'host-key-changed'
    ? record.lastError
    : undefined;
}

function safeFingerprint(publicKeyLine: string): string {
  try {
    return fingerprint(publicKeyLine);
  } catch {
    return 'an unreadable key';
  }
}

export function deriveHostStatus(
  host: Pick<HostConfig, 'name' | 'address' | 'hostKey'>,
  record: HostRecord,
  facts: HostFacts,
  schedule: Pick<ScheduleConfig, 'intervalHours' | 'overdueDays'>,
  now: number,
): HostStatus {
  const overdue = checkOverdue(
    record.lastSuccess,
    record.trackedSince,
    schedule.overdueDays,
    now,
  ).overdue;
  const retryAt = record.retryAt && Date.parse(record.retryAt) > now ? record.retryAt : undefined;
  const status: HostStatus = {
    host: host.name,
    address: host.address,
    phase: phaseOf(record, facts, overdue),
    reachable: facts.reachable,
    overdue,
    nextDue: new Date(nextDueTime(record.lastSuccess, schedule.intervalHours, now)).toISOString(),
  };
  if (facts.waitingFor && !facts.progress) status.waitingFor = facts.waitingFor;
  if (facts.progress) status.progress = facts.progress;
  if (record.lastSuccess) status.lastSuccess = record.lastSuccess;
  if (record.lastAttempt) status.lastAttempt = record.lastAttempt;
  if (record.lastResult) status.lastResult = record.lastResult;
  if (record.lastSnapshot) status.lastSnapshot = record.lastSnapshot;
  const lastError = lastErrorOf(record, facts);
  if (lastError) status.lastError = lastError;
  if (facts.reachable === 'host-key-changed') {
    status.hostKeyChange = { pinned: safeFingerprint(host.hostKey) };
    if (facts.presentedKey) status.hostKeyChange.presented = safeFingerprint(facts.presentedKey);
  } else if (retryAt) {
    // A changed host key is not retried on a timer: it waits for the user (pair again).
    status.retryAt = retryAt;
  }
  return status;
}

/**
 * Needs a person, not another try: the backup host presents another host key, or no longer
 * accepts this machine's key. `pullback agent --once` exits non-zero for these.
 */
export function needsAttention(s: HostStatus): boolean {
  if (s.reachable === 'host-key-changed') return true;
  const code = s.lastResult === 'failed' ? s.lastError?.code : undefined;
  return code === 'HOST_KEY_MISMATCH' || code === 'AUTH_FAILED';
}
