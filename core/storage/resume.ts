import { chmod, lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What a resumed hardlink run may keep of the .incomplete an interrupted run left.
 *
 * rsync writes into .incomplete in place: it chmods, sets xattrs and ACLs on, and rewrites the
 * entries it finds there. An entry hardlinked from the previous snapshot (--link-dest) is that
 * snapshot's inode, so changing it changes history (S7, DESIGN §8). And rsync cannot delete from
 * a directory the storage account may not write, so garbage there would be promoted.
 *
 * So before rsync sees it, in one walk that never follows a symlink:
 *   - every non-directory with more than one link is unlinked: it may be shared with a complete
 *     snapshot, and rsync links it again from --link-dest for free when it is unchanged (hard
 *     links inside the client's own tree go too; they cost one re-send);
 *   - rsync's temp files (`.<name>.XXXXXX`, what a rsync killed hard leaves) are unlinked: they
 *     are partial files, and with deletions skipped (exit 23) they would be promoted;
 *   - every directory gets u+rwx for the storage account (directories are never hardlinked,
 *     and --fake-super keeps the client's real mode in an xattr, not in the mode bits).
 * What stays is what the interrupted run wrote itself (one link each): the data a resume saves.
 * The caller holds the client's lock and has killed any receiver still writing there.
 */
export interface ResumeCleanup {
  /** non-directories unlinked (shared inodes and rsync temp files) */
  dropped: number;
  /** files kept for the resumed run */
  kept: number;
  /** directories that had to be made writable */
  madeWritable: number;
}

/** `.<name>.XXXXXX`: rsync's receiver writes each file there first and renames it into place. */
const RSYNC_TEMP_FILE = /^\..+\.[A-Za-z0-9]{6}$/;

export async function makeSafeToResume(incomplete: string): Promise<ResumeCleanup> {
  const result: ResumeCleanup = { dropped: 0, kept: 0, madeWritable: 0 };
  const dirs = [incomplete];
  for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
    const st = await lstat(dir);
    if ((st.mode & 0o700) !== 0o700) {
      await chmod(dir, (st.mode & 0o7777) | 0o700);
      result.madeWritable++;
    }
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        dirs.push(path);
        continue;
      }
      if (RSYNC_TEMP_FILE.test(entry.name) || (await lstat(path)).nlink > 1) {
        await unlink(path);
        result.dropped++;
      } else result.kept++;
    }
  }
  return result;
}
