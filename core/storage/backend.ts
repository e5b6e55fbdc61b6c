import { mkdir, rename, rm } from 'node:fs/promises';
import { PullbackError } from '../errors.js';
import type { SnapshotInfo } from './metadata.js';

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

/**
 * btrfs (next issue): snapshot the previous subvolume into .incomplete, rsync --inplace into it,
 * make it read-only when sealing, `btrfs subvolume delete` to remove.
 */
export const btrfsBackend: SnapshotBackend = {
  name: 'btrfs',
  createIncomplete: () => Promise.reject(btrfsNotYet()),
  rsyncTarget: () => {
    throw btrfsNotYet();
  },
  seal: () => Promise.reject(btrfsNotYet()),
  remove: () => Promise.reject(btrfsNotYet()),
};

function btrfsNotYet(): PullbackError {
  return new PullbackError(
    'BAD_CONFIG',
    'the btrfs backend is not available yet; set "backend": "hardlink"',
  );
}

/** `auto` picks hardlink until btrfs detection lands with the btrfs backend. */
export function selectBackend(name: 'auto' | BackendName): SnapshotBackend {
  return name === 'btrfs' ? btrfsBackend : hardlinkBackend;
}
