import { mkdir, rename, rm } from 'node:fs/promises';
import type { SnapshotInfo } from './metadata.js';
import { btrfsBackend, isOnBtrfsSync } from './btrfs-backend.js';
import { makeSafeToResume } from './resume.js';
import { runTool } from '../system/exec.js';
import { hardlinkClone } from './hardlink-clone.js';

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
  /** rsync --partial-dir: where a cut-off file waits for the resume, outside what is promoted */
  partialDir?: string;
}

export interface SnapshotBackend {
  readonly name: BackendName;
  /** Creates the run directory `incomplete` (which does not exist yet). */
  createIncomplete(incomplete: string, previous: SnapshotInfo | undefined): Promise<void>;
  /** Creates `incomplete` as a whole copy of `previous` for an incremental to change. */
  cloneIncomplete(incomplete: string, previous: SnapshotInfo): Promise<void>;
  /**
   * Whether a clone shares inodes with the snapshot it came from (hardlinks): then every entry
   * an incremental changes must be unlinked in the clone before rsync writes it.
   */
  readonly sharesInodes: boolean;
  /**
   * Readies the run directory an interrupted run left for the next one, so that the next rsync
   * modifies no inode shared with a complete snapshot and promotes no partial file. Returns
   * false when it had to start afresh (nothing of the interrupted run is kept).
   */
  resume(incomplete: string, previous: SnapshotInfo | undefined): Promise<boolean>;
  /** Makes `from` (in a complete snapshot) appear at `to` in the run directory, sharing nothing
   * that the run may write. */
  copyFromSnapshot(from: string, to: string): Promise<void>;
  /** `partialDir`: the repository's place for partial files, used when the backend can. */
  rsyncTarget(previous: SnapshotInfo | undefined, partialDir: string): RsyncTarget;
  /** Turns the finished run directory into the snapshot at `final`, atomically (a rename). */
  seal(incomplete: string, final: string): Promise<void>;
  /** Removes a snapshot directory that is already out of the list (renamed aside). */
  remove(path: string): Promise<void>;
}

/** Any filesystem: every snapshot is a full tree, unchanged files hardlinked to the previous one. */
export const hardlinkBackend: SnapshotBackend = {
  name: 'hardlink',
  sharesInodes: true,
  async createIncomplete(incomplete) {
    await mkdir(incomplete, { mode: 0o700 });
  },
  async cloneIncomplete(incomplete, previous) {
    // new directories (with their xattrs and times), every other entry a hardlink
    await hardlinkClone(previous.path, incomplete);
  },
  async resume(incomplete) {
    await makeSafeToResume(incomplete);
    return true;
  },
  async copyFromSnapshot(from, to) {
    // Files become hardlinks (never written: a resume drops them first), directories new ones.
    runTool('cp', ['-a', '--link', '--', from, to]);
  },
  rsyncTarget(previous, partialDir) {
    return previous
      ? { linkDest: previous.path, inplace: false, partialDir }
      : { inplace: false, partialDir };
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
