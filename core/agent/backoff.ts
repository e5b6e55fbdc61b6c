/** How long automatic backups wait after failures: 1 min, 2, 4, … capped at 1 h by default. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 60_000, maxMs: 60 * 60_000 };

/** The wait after `failures` consecutive failures (1 → initialMs, doubling, capped). */
export function backoffDelayMs(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  const exponent = Math.min(failures - 1, 40);
  return Math.min(policy.initialMs * 2 ** exponent, policy.maxMs);
}
