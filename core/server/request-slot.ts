import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PullbackError } from '../errors.js';
import { acquireLock, type Lock } from '../storage/lock.js';

/**
 * One connection per client may be waiting for its request at a time: `serve` takes this
 * slot (non-blocking) before it reads a byte of the request and gives it back as soon as the
 * request is read. A flood of connections by one client key is then answered BUSY at once and
 * each of those processes exits, instead of twenty 58 MiB processes waiting 15 s each.
 * It is not the client's run lock (.lock): hello and list still work while a backup runs.
 */
export const REQUEST_SLOTS_DIR = '.pullback-request-slots';

export async function acquireRequestSlot(storage: string, client: string): Promise<Lock> {
  const dir = join(storage, REQUEST_SLOTS_DIR);
  try {
    // not recursive: a storage root that is not there (unmounted) is an error, not created here
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new PullbackError(
        'BAD_CONFIG',
        `the storage ${storage} does not exist (not mounted?); the backup host's admin must fix it`,
      );
    if (code !== 'EEXIST') throw err;
  }
  try {
    return await acquireLock(join(dir, `${client}.lock`), `a connection of client ${client}`);
  } catch (err) {
    if (err instanceof PullbackError && err.code === 'BUSY')
      throw new PullbackError(
        'BUSY',
        `another connection of client ${client} is still sending its request; one at a time`,
      );
    throw err;
  }
}
