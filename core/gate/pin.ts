import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync } from 'node:fs';
import { PullbackError } from '../errors.js';

/*
 * Pins a tree before rsync sees it: an O_PATH walk from "/", one component at a time, each
 * opened O_NOFOLLOW beneath the directory fd already held (through /proc/self/fd/N/<name>), so
 * no name is ever resolved again after it was checked. rsync then gets the fd and
 * `/proc/self/fd/3/` as its source: a swap of any component after the walk changes nothing.
 *
 * A symlink on the way is followed only when root or the gate's own user owns it (the rule
 * rsync 3.5's defensive walk applies to operator paths, see `man rsync` --insecure-links):
 * those are the operator's own links; a link someone else planted is refused.
 */

/** O_PATH on Linux (x86_64, arm64): a handle to a place in the tree, no read access. */
const O_PATH = 0o10000000;
const MAX_SYMLINKS = 40;

export interface PinnedTree {
  /** an O_PATH directory fd, held until rsync has it */
  fd: number;
  /** where the fd points, from the kernel (readlink /proc/self/fd/N): the tree's real path */
  realPath: string;
}

function refuse(reason: string): never {
  throw new PullbackError('REFUSED', reason);
}

function via(fd: number, name: string): string {
  return `/proc/self/fd/${fd}/${name}`;
}

/** The kernel's name for what fd holds. */
export function pinnedPath(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}

/**
 * Walks `tree` (absolute) from "/" and returns an O_PATH fd on the directory it names.
 * Throws REFUSED for a missing or non-directory component and for a symlink owned by anyone
 * but root or `trustedUids`; rethrows EACCES (the caller decides what an unreadable parent means).
 */
export function pinTree(tree: string, trustedUids: readonly number[]): PinnedTree {
  const held: number[] = [openSync('/', O_PATH | constants.O_DIRECTORY)];
  const pending = tree.split('/').filter((s) => s !== '' && s !== '.');
  let symlinks = 0;
  try {
    while (pending.length > 0) {
      const name = pending.shift()!;
      const parent = held[held.length - 1]!;
      if (name === '..') {
        if (held.length > 1) closeSync(held.pop()!);
        continue;
      }
      let fd: number;
      try {
        fd = openSync(via(parent, name), O_PATH | constants.O_NOFOLLOW);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          refuse(`tree ${JSON.stringify(tree)} does not exist`);
        throw err;
      }
      const st = fstatSync(fd);
      if (st.isDirectory()) {
        held.push(fd);
        continue;
      }
      closeSync(fd);
      if (!st.isSymbolicLink()) refuse(`tree ${JSON.stringify(tree)} is not a directory`);
      if (st.uid !== 0 && !trustedUids.includes(st.uid)) {
        refuse(
          `tree ${JSON.stringify(tree)} goes through a symlink owned by uid ${st.uid} (only root's and our own are followed)`,
        );
      }
      if (++symlinks > MAX_SYMLINKS) refuse(`tree ${JSON.stringify(tree)} has too many symlinks`);
      const target = readlinkSync(via(parent, name));
      // A symlink cannot be edited in place: the same inode still there means the target we
      // read is the one whose owner we checked.
      const again = lstatSync(via(parent, name));
      if (again.ino !== st.ino || again.dev !== st.dev)
        refuse(`tree ${JSON.stringify(tree)} changed while it was being checked`);
      if (target.startsWith('/')) while (held.length > 1) closeSync(held.pop()!);
      pending.unshift(...target.split('/').filter((s) => s !== '' && s !== '.'));
    }
    const fd = held.pop()!;
    return { fd, realPath: pinnedPath(fd) };
  } finally {
    for (const fd of held) closeSync(fd);
  }
}
