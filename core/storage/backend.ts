import { mkdir, rename, rm } from 'node:fs/promises';
import type { SnapshotInfo } from './metadata.js';
import { btrfsBackend, isOnBtrfsSync } from './btrfs-backend.js';

export { btrfsBackend };

/**
 * How snapshots are made on disk. The repository (repository.ts) owns the layout, the lock, the
 * metadata and the order of steps; a backend only knows how to start a run directory, how to
 * turn it into a snapshot and how to remove one.
 */
export type BackendName = 'hardlink' | 'btrfs';

export interface RsyncTarget {
  /** rsync --link-dest: unchanged files become hardlinks to the previous snapshot */
  linkDest?: string;
  /** rsync --inplace: the run directory already holds a copy of the previous snapshot */
  inplace: boolean;
}

export interface SnapshotBackend {
  readonly name: BackendName;
  /** Creates the run directory `incomplete` (which does not exist yet). */
  createIncomplete(incomplete: string, previous: SnapshotInfo | undefined): Promise<void>;
  rsyncTarget(previous: SnapshotInfo | undefined): RsyncTarget;
  /** Turns the finished run directory into the snapshot at `final`, atomically (a rename). */
  seal(incomplete: string, final: string): Promise<void>;
  /** Removes a snapshot directory that is already out of the list (renamed aside). */
  remove(path: string): Promise<void>;
}

/** Any filesystem: every snapshot is a full tree, unchanged files hardlinked to the previous one. */
export const hardlinkBackend: SnapshotBackend = {
  name: 'hardlink',
  async createIncomplete(incomplete) {
    await mkdir(incomplete, { mode: 0o700 });
  },
  rsyncTarget(previous) {
    return previous ? { linkDest: previous.path, inplace: false } : { inplace: false };
  },
  async seal(incomplete, final) {
    await rename(incomplete, final);
  },
  async remove(path) {
    await rm(path, { recursive: true, force: true });
  },
};

/** `auto`: btrfs when `root` is on a btrfs filesystem, hardlink otherwise (or without a root). */
export function selectBackend(name: 'auto' | BackendName, root?: string): SnapshotBackend {
  if (name === 'auto')
    return root !== undefined && isOnBtrfsSync(root) ? btrfsBackend : hardlinkBackend;
  return name === 'btrfs' ? btrfsBackend : hardlinkBackend;
}
