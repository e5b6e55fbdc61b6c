import { chmod, lstat, rm, statfs } from 'node:fs/promises';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { PullbackError } from '../errors.js';
import { runTool } from '../system/exec.js';
import type { SnapshotBackend } from './backend.js';

/**
 * btrfs: every snapshot is a read-only subvolume. A run starts as a writable snapshot of the
 * previous one (sharing all its extents), rsync --inplace rewrites only the changed blocks, and
 * sealing takes a read-only snapshot of it at the final name. Compression comes from the mount
 * options (compress=zstd), not from us.
 *
 * Why seal by `snapshot -r` and not rename + `property set ro true`: a read-only subvolume
 * cannot be moved into another directory (EROFS), and rename-then-set-ro would leave a writable
 * snapshot behind if we crashed in between. `snapshot -r` makes the final snapshot appear at its
 * name, already read-only, in one step; a crash before .incomplete is deleted only leaves a
 * .incomplete equal to the newest snapshot, which the next run resumes.
 */
export const BTRFS_SUPER_MAGIC = 0x9123683e;
/** The inode number of every subvolume's root directory. */
const SUBVOLUME_ROOT_INO = 256;

export function isOnBtrfsSync(path: string): boolean {
  try {
    return statfsSync(path).type === BTRFS_SUPER_MAGIC;
  } catch {
    return false;
  }
}

export async function isSubvolume(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isDirectory() || st.ino !== SUBVOLUME_ROOT_INO) return false;
  return (await statfs(path)).type === BTRFS_SUPER_MAGIC;
}

export function btrfs(args: string[]): string {
  try {
    return runTool('btrfs', args);
  } catch (err) {
    if (err instanceof PullbackError && /No space left on device/.test(err.message))
      throw new PullbackError('NO_SPACE', err.message, { cause: err });
    throw err;
  }
}

export async function isReadOnlySubvolume(path: string): Promise<boolean> {
  return /ro=true/.test(btrfs(['property', 'get', '-ts', path, 'ro']));
}

export async function setReadOnly(path: string, readOnly: boolean): Promise<void> {
  btrfs(['property', 'set', '-ts', path, 'ro', String(readOnly)]);
}

/** Deletes a subvolume (read-only or not); a plain directory is removed recursively. */
export async function deleteSubvolumeOrDir(path: string): Promise<void> {
  if (!(await lstat(path).catch(() => undefined))) return;
  if (!(await isSubvolume(path))) {
    await rm(path, { recursive: true, force: true });
    return;
  }
  // Without CAP_SYS_ADMIN the kernel refuses to delete a read-only subvolume (EROFS); its
  // owner may make it writable first. It is already out of the list, so nobody sees that.
  if (await isReadOnlySubvolume(path)) await setReadOnly(path, false);
  btrfs(['subvolume', 'delete', path]);
}

export const btrfsBackend: SnapshotBackend = {
  name: 'btrfs',
  // a snapshot's inodes are its own: writing one never changes the snapshot it came from
  sharesInodes: false,
  async cloneIncomplete(incomplete, previous) {
    await this.createIncomplete(incomplete, previous);
  },
  async createIncomplete(incomplete, previous) {
    const parent = dirname(incomplete);
    if (!isOnBtrfsSync(parent)) {
      throw new PullbackError(
        'BAD_CONFIG',
        `the btrfs backend needs the storage on btrfs, but ${parent} is not; set "backend" to "auto" or "hardlink"`,
      );
    }
    if (previous && (await isSubvolume(previous.path))) {
      btrfs(['subvolume', 'snapshot', previous.path, incomplete]);
      return;
    }
    btrfs(['subvolume', 'create', incomplete]);
    await chmod(incomplete, 0o700);
    // A previous snapshot from the hardlink backend (the repository moved to btrfs): start
    // from a reflinked copy, which shares its blocks, rather than from nothing.
    if (previous) runTool('cp', ['-a', '--reflink=auto', '--', `${previous.path}/.`, incomplete]);
  },
  // rsync --inplace rewrites files where they are: an interrupted run leaves files that mix old
  // and new blocks, under their real names. So a resume starts from a fresh snapshot of the
  // previous one; what the interrupted run had sent is sent again.
  async resume(incomplete, previous) {
    await deleteSubvolumeOrDir(incomplete);
    await this.createIncomplete(incomplete, previous);
    return false;
  },
  async copyFromSnapshot(from, to) {
    runTool('cp', ['-a', '--reflink=always', '--', from, to]);
  },
  rsyncTarget() {
    return { inplace: true };
  },
  async seal(incomplete, final) {
    btrfs(['subvolume', 'snapshot', '-r', incomplete, final]);
    await deleteSubvolumeOrDir(incomplete);
  },
  async remove(path) {
    await deleteSubvolumeOrDir(path);
  },
};
