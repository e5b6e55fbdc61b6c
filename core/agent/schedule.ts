/** When automatic backups are due: the last success is older than the interval. */

const HOUR_MS = 60 * 60 * 1000;

export function intervalMs(intervalHours: number): number {
  return intervalHours * HOUR_MS;
}

/** Never backed up counts as due at once; otherwise due once the interval has passed. */
export function isDue(
  lastSuccess: string | undefined,
  intervalHours: number,
  now: number,
): boolean {
  if (!lastSuccess) return true;
  const last = Date.parse(lastSuccess);
  if (Number.isNaN(last)) return true;
  return now - last >= intervalMs(intervalHours);
}

/** When the next automatic backup is due (ms since epoch): now when never backed up. */
export function nextDueTime(
  lastSuccess: string | undefined,
  intervalHours: number,
  now: number,
): number {
  const last = lastSuccess ? Date.parse(lastSuccess) : NaN;
  if (Number.isNaN(last)) return now;
  return last + intervalMs(intervalHours);
}

/** Paused only while `pausedUntil` lies in the future; a stale value means not paused. */
export function isPaused(pausedUntil: string | undefined, now: number): boolean {
  if (!pausedUntil) return false;
  const until = Date.parse(pausedUntil);
  return !Number.isNaN(until) && until > now;
}

/**
 * What keeps a due automatic backup from starting, before reachability and conditions: no
 * sources, a pause, the back-off after a failure or a cancel. One reason a line, in words.
 */
export function scheduleBlockers(
  sourceCount: number,
  pausedUntil: string | undefined,
  record: { retryAt?: string; lastResult?: 'success' | 'failed' | 'cancelled' },
  now: number,
): string[] {
  const blockers: string[] = [];
  if (sourceCount === 0) blockers.push('nothing to back up yet: no folders chosen');
  if (isPaused(pausedUntil, now))
    blockers.push(`automatic backups are paused until ${pausedUntil}`);
  if (record.retryAt && Date.parse(record.retryAt) > now) {
    const after = record.lastResult === 'cancelled' ? 'cancelled run' : 'failure';
    blockers.push(`trying again after the last ${after}, at ${record.retryAt}`);
  }
  return blockers;
}
