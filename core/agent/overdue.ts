/**
 * Overdue: no successful backup for `overdueDays`. Counted from the last success or, for a host
 * never backed up, from when this machine started tracking it (pairing, or the agent's first run).
 */

const DAY_MS = 24 * 60 * 60 * 1000;

export interface OverdueCheck {
  overdue: boolean;
  /** whole days without a success */
  days: number;
}

export function checkOverdue(
  lastSuccess: string | undefined,
  trackedSince: string,
  overdueDays: number,
  now: number,
): OverdueCheck {
  const since = Date.parse(lastSuccess ?? trackedSince);
  if (Number.isNaN(since)) return { overdue: false, days: 0 };
  const elapsed = now - since;
  return { overdue: elapsed >= overdueDays * DAY_MS, days: Math.floor(elapsed / DAY_MS) };
}
