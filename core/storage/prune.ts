import { PullbackError } from '../errors.js';
import type { ClientRepository, DamagedSnapshot } from './repository.js';
import type { SnapshotInfo } from './metadata.js';
import { compareSnapshotIds, snapshotIdTime } from './snapshot-id.js';
import { parseRetentionSpec, planRetention } from './retention.js';

/**
 * Applies a retention spec to one client's repository: retention.ts decides, this deletes.
 * Only complete snapshots are ever considered (.incomplete is not a snapshot), and the newest
 * complete one is kept whatever the plan says. Holds the client's lock throughout, so a backup
 * and a prune of the same client never overlap; a crash between two deletions leaves every
 * remaining snapshot whole (deleteSnapshot takes each one out of the list atomically first).
 */
export interface PruneOptions {
  now?: Date;
  dryRun?: boolean;
  /** the caller already holds this repository's lock (serve, right after a backup) */
  lockHeld?: boolean;
}

export interface PruneResult {
  client: string;
  kept: string[];
  /** deleted, or with dryRun the ones that would be */
  removed: string[];
  dryRun: boolean;
  /** snapshots whose metadata is damaged: skipped, never deleted (say so to the admin) */
  damaged: DamagedSnapshot[];
  /** crash leftovers removed on the way (.deleting-*, dead lock and temp files) */
  cleaned: string[];
}

/**
 * The time retention judges a snapshot by: its id's time, or, when the id had to be moved past
 * the clock (a clock that was once ahead: later snapshots get ids `<future>-1`, `-2`, … to stay
 * in order), the clock's time when it was made. Judged by those ids they would all fall into one
 * bucket and be thinned to one.
 */
export function retentionTime(s: SnapshotInfo): Date {
  return s.meta.madeAt !== undefined ? new Date(s.meta.madeAt) : snapshotIdTime(s.id);
}

/** The ids retention would remove from `snapshots` (oldest first), never the newest. */
export function snapshotsToRemove(
  snapshots: readonly SnapshotInfo[],
  spec: string,
  now: Date,
): string[] {
  const newest = snapshots[snapshots.length - 1]?.id;
  const plan = planRetention(
    snapshots.map((s) => ({ id: s.id, time: retentionTime(s) })),
    parseRetentionSpec(spec),
    now,
  );
  const known = new Set(snapshots.map((s) => s.id));
  return plan.remove.filter((id) => id !== newest && known.has(id)).sort(compareSnapshotIds);
}

export async function pruneRepository(
  repo: ClientRepository,
  spec: string,
  options: PruneOptions = {},
): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const dryRun = options.dryRun ?? false;
  const lock = dryRun || options.lockHeld ? undefined : await repo.acquireLock();
  try {
    // A killed prune's .deleting-* is finished here, not only by the client's next backup.
    const cleaned = lock || options.lockHeld ? await repo.removeLeftovers() : [];
    const { snapshots, damaged } = await repo.inspect();
    const removed = snapshotsToRemove(snapshots, spec, now);
    if (!dryRun) {
      for (const id of removed) {
        try {
          await repo.deleteSnapshot(id);
        } catch (err) {
          // Gone meanwhile (an admin's rm) is what we wanted anyway.
          if (!(err instanceof PullbackError && err.code === 'NOT_FOUND')) throw err;
        }
      }
    }
    const gone = new Set(removed);
    return {
      client: repo.client,
      kept: snapshots.map((s) => s.id).filter((id) => !gone.has(id)),
      removed,
      dryRun,
      damaged,
      cleaned,
    };
  } finally {
    await lock?.release();
  }
}
