import { lstatSync } from 'node:fs';
import { PullbackError } from '../errors.js';

/*
 * System mode serves a tree by name where the gate (no capabilities) cannot walk to it and pin
 * it. That is safe only if no one but root can swap a component on the way: the root helper
 * refuses a tree with such an ancestor before it starts anything.
 */

/** What the check needs to know of one path component (from lstat). */
export interface PathComponent {
  path: string;
  uid: number;
  mode: number;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

const STICKY = 0o1000;
const GROUP_OR_OTHER_WRITE = 0o022;

/**
 * Why a non-root user could swap something on the way to the last component, or undefined.
 * `chain` is `/`, then each component down to the tree itself. The tree may be anyone's (its
 * contents are rsync's business, confined and opened O_NOFOLLOW); each directory above it must
 * be root's and writable only by root, except a sticky one (like /tmp), where only the owner of
 * an entry may rename it: there the next component must be root's.
 */
export function treeSwapReason(chain: readonly PathComponent[]): string | undefined {
  for (const [i, c] of chain.entries()) {
    if (c.isSymbolicLink) return `${c.path} is a symlink`;
    if (!c.isDirectory) return `${c.path} is not a directory`;
    const next = chain[i + 1];
    if (!next) return undefined;
    if (c.uid !== 0) return `${c.path} is owned by uid ${c.uid}, who could swap ${next.path}`;
    if ((c.mode & GROUP_OR_OTHER_WRITE) === 0) continue;
    if ((c.mode & STICKY) === 0)
      return `${c.path} is writable by group or others (mode ${(c.mode & 0o7777).toString(8)})`;
    if (next.uid !== 0)
      return `${next.path} is owned by uid ${next.uid} inside the sticky ${c.path}, so it could be swapped`;
  }
  return undefined;
}

/** lstat of `/` and every component down to `tree` (absolute, normalised). */
export function pathComponents(tree: string): PathComponent[] {
  const names = tree.split('/').filter(Boolean);
  return ['/', ...names.map((_, i) => `/${names.slice(0, i + 1).join('/')}`)].map((path) => {
    const st = lstatSync(path);
    return {
      path,
      uid: st.uid,
      mode: st.mode,
      isDirectory: st.isDirectory(),
      isSymbolicLink: st.isSymbolicLink(),
    };
  });
}

/** Throws BAD_ARGS when a non-root user could swap a component on the way to `tree`. */
export function assertTreeNotSwappable(tree: string): void {
  let reason: string | undefined;
  try {
    reason = treeSwapReason(pathComponents(tree));
  } catch (err) {
    reason = `${tree} cannot be checked: ${(err as Error).message}`;
  }
  if (reason) {
    throw new PullbackError(
      'BAD_ARGS',
      `helper: --source ${tree} is refused in system mode: ${reason} (serve a tree whose parents only root can change, e.g. its parent, or use user mode)`,
    );
  }
}
