import { lstat, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClientRepository } from '../storage/repository.js';
import { selectBackend } from '../storage/backend.js';
import { fsyncPath } from '../storage/durable-fs.js';

/**
 * After a run ended with NO_SPACE, its .incomplete is removed rather than kept for resuming:
 * it holds exactly the new data that filled the disk, and leaving the disk full would make
 * every other client's run (and the next metadata write) fail too. Resuming would only fill it
 * again. The previous snapshots are not touched. Crash-safe like deleteSnapshot: renamed aside
 * to snapshots/.deleting-… first, which the next run removes if we die while deleting.
 * Needs the client's lock.
 */
export async function discardIncomplete(repo: ClientRepository): Promise<boolean> {
  const incomplete = join(repo.dir, '.incomplete');
  if (!(await lstat(incomplete).catch(() => undefined))?.isDirectory()) return false;
  const snapshotsDir = join(repo.dir, 'snapshots');
  const aside = join(snapshotsDir, `.deleting-incomplete-${Date.now()}`);
  await rename(incomplete, aside);
  await fsyncPath(snapshotsDir);
  await selectBackend(repo.backend).remove(aside);
  // The partial files of that run go with it (rsync --partial-dir, see repository.ts).
  await rm(join(repo.dir, '.partial'), { recursive: true, force: true });
  return true;
}
