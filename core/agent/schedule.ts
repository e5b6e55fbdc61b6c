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
