import { PullbackError } from '../errors.js';

/**
 * A snapshot's id is its UTC time, `YYYY-MM-DDTHHMMSSZ` (no colons: they are awkward in paths),
 * with `-1`…`-9` appended when that second is taken. Ids sort lexically in creation order.
 */
export const SNAPSHOT_ID = /^(\d{4}-\d{2}-\d{2}T\d{6}Z)(?:-([1-9]))?$/;

export function isSnapshotId(name: string): boolean {
  return SNAPSHOT_ID.test(name);
}

export function formatSnapshotTime(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '');
}

/** The time a snapshot id stands for (suffixes ignored). */
export function snapshotIdTime(id: string): Date {
  const m = SNAPSHOT_ID.exec(id);
  if (!m) throw new PullbackError('BAD_REQUEST', `${JSON.stringify(id)} is not a snapshot id`);
  const t = m[1]!;
  return new Date(`${t.slice(0, 13)}:${t.slice(13, 15)}:${t.slice(15, 17)}Z`);
}

/**
 * The id for a snapshot finished at `now`, given the ids already taken. It always sorts after
 * every existing id, even if the clock went backwards: "latest" and retention rely on the order.
 */
export function nextSnapshotId(now: Date, taken: readonly string[]): string {
  const newest = [...taken].filter(isSnapshotId).sort().pop();
  let base = formatSnapshotTime(now);
  if (newest !== undefined && base < SNAPSHOT_ID.exec(newest)![1]!)
    base = SNAPSHOT_ID.exec(newest)![1]!;
  const used = new Set(taken);
  for (const candidate of [base, ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `${base}-${n}`)]) {
    if (!used.has(candidate) && (newest === undefined || candidate > newest)) return candidate;
  }
  // One run per client at a time (the lock) makes ten snapshots in one second impossible.
  throw new PullbackError(
    'BUSY',
    `more than ten snapshots in the second ${base}; try again in a second`,
  );
}
