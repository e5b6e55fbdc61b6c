import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PullbackError } from '../errors.js';
import { acquireLock, type Lock } from '../storage/lock.js';

/**
 * At most `maxParallel` backups run at once on this backup host, whichever clients they are
 * for: each run holds one of `maxParallel` slot locks under the storage root. The slot locks
 * are the same crash-proof lock files as a client's .lock: a killed run's slot is taken over.
 */
export const SLOTS_DIR = '.pullback-run-slots';
/** What a client told BUSY for this reason should wait before asking again. */
export const RETRY_AFTER_SECONDS = 60;

export async function acquireRunSlot(storage: string, maxParallel: number): Promise<Lock> {
  const dir = join(storage, SLOTS_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (let slot = 0; slot < maxParallel; slot++) {
    try {
      return await acquireLock(join(dir, `slot-${slot}.lock`), `run slot ${slot}`);
    } catch (err) {
      if (!(err instanceof PullbackError && err.code === 'BUSY')) throw err;
    }
  }
  throw new PullbackError(
    'BUSY',
    `the backup host is already running its maximum of ${maxParallel} backup${maxParallel === 1 ? '' : 's'} at once; retry in ${RETRY_AFTER_SECONDS} s`,
  );
}
