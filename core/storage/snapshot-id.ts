import { PullbackError } from '../errors.js';

/**
 * A snapshot's id is its UTC time, `YYYY-MM-DDTHHMMSSZ` (no colons: they are awkward in paths),
 * with `-<n>` appended when that second is taken, or when the newest id is later than the clock
 * (a clock that was once ahead): n = 1, 2, … without bound and without leading zeros, so a run
 * is never refused for want of an id. Ids are ordered by their time, then numerically by n
 * (`…Z-9` < `…Z-10`): compare with compareSnapshotIds, never with a plain string sort.
 */
export const SNAPSHOT_ID = /^(\d{4}-\d{2}-\d{2}T\d{6}Z)(?:-([1-9]\d{0,14}))?$/;

export function isSnapshotId(name: string): boolean {
  return SNAPSHOT_ID.test(name);
}

export function formatSnapshotTime(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '');
}

function parts(id: string): { base: string; n: number } {
  const m = SNAPSHOT_ID.exec(id);
  if (!m) throw new PullbackError('BAD_REQUEST', `${JSON.stringify(id)} is not a snapshot id`);
  return { base: m[1]!, n: m[2] === undefined ? 0 : Number(m[2]) };
}

/** Creation order of two snapshot ids: by time, then by suffix as a number. */
export function compareSnapshotIds(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  if (pa.base !== pb.base) return pa.base < pb.base ? -1 : 1;
  return pa.n - pb.n;
}

/** The time a snapshot id stands for (suffixes ignored). */
export function snapshotIdTime(id: string): Date {
  const t = parts(id).base;
  return new Date(`${t.slice(0, 13)}:${t.slice(13, 15)}:${t.slice(15, 17)}Z`);
}

/** The newest of `names` that are snapshot ids (other names are ignored). */
export function newestSnapshotId(names: readonly string[]): string | undefined {
  return names.filter(isSnapshotId).sort(compareSnapshotIds).pop();
}

/**
 * The id for a snapshot finished at `now`, given the ids already taken. It always sorts after
 * every existing id, even if the clock went backwards: "latest" and retention rely on the order.
 */
export function nextSnapshotId(now: Date, taken: readonly string[]): string {
  const newest = newestSnapshotId(taken);
  const base = formatSnapshotTime(now);
  if (newest === undefined || base > parts(newest).base) return base;
  const { base: newestBase, n } = parts(newest);
  return `${newestBase}-${n + 1}`;
}

/** How far ahead of the clock an id may be before we call it a clock problem (NTP steps, slow
 * promotes and a few seconds of skew are not). */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * A warning when the newest snapshot id is dated after `now`: this clock is behind, or it was
 * ahead when that snapshot was made. Runs go on (ids continue after it as `<id>-1`, `-2`, …),
 * but times in ids and retention are off until the clock has passed it.
 */
export function futureSnapshotWarning(newestId: string, now: Date): string | undefined {
  const ahead = snapshotIdTime(newestId).getTime() - now.getTime();
  if (ahead <= FUTURE_TOLERANCE_MS) return undefined;
  const hours = (ahead / 3_600_000).toFixed(1);
  return `snapshot ${newestId} is dated ${hours} h after this host's clock (${now.toISOString()}): the clock is behind, or was ahead when it was made; new snapshots get ids after it until the clock catches up`;
}
