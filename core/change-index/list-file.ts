import { createHash } from 'node:crypto';
import { PullbackError } from '../errors.js';
import { TREE_ROOT } from './tree-root.js';

/*
 * The files-from list of an incremental: the client writes one per tree into its one-shot
 * directory, and the gate itself points the sender at it. The backup host's command line can
 * only say "use the list" (LIST_TOKEN); it never names a path or a file.
 */

/** What the backup host's rsync sends for `--files-from=:pullback-list` (the remote side's file). */
export const LIST_TOKEN = 'pullback-list';

/**
 * The biggest list (bytes of names) the gate takes: it hands the names to rsync as arguments,
 * and the kernel's argument space is about 2 MiB. The client makes a full pass instead.
 */
export const MAX_LIST_BYTES = 1024 * 1024;
/** what each name costs beyond its bytes in rsync's argv ("/proc/self/fd/3/./", NUL, pointer) */
export const LIST_ENTRY_OVERHEAD = 32;

/** Whether a list of these names fits what the gate takes. */
export function listFits(names: readonly string[]): boolean {
  let bytes = 0;
  for (const name of names) bytes += Buffer.byteLength(name) + LIST_ENTRY_OVERHEAD;
  return bytes <= MAX_LIST_BYTES;
}

/** A tree's list file in the one-shot directory: named by a hash, so any tree name is safe. */
export function listFileName(tree: string): string {
  return `list-${createHash('sha256').update(tree).digest('hex').slice(0, 32)}`;
}

function refuse(reason: string): never {
  throw new PullbackError('REFUSED', reason);
}

/**
 * Checks a NUL-separated list as the gate reads it: relative names below the tree only (no
 * leading "/", no "..", "." or empty component; TREE_ROOT alone for the tree itself). Returns
 * the names.
 */
export function validateFileList(data: Buffer): string[] {
  if (data.length === 0) refuse('the file list is empty');
  if (data[data.length - 1] !== 0) refuse('the file list does not end with NUL');
  const names = data.subarray(0, -1).toString('utf8').split('\0');
  if (!listFits(names)) refuse('the file list is too long');
  for (const name of names) {
    if (name === TREE_ROOT) continue;
    if (name === '' || name.startsWith('/'))
      refuse('the file list holds an empty or absolute name');
    for (const part of name.split('/')) {
      if (part === '' || part === '.' || part === '..')
        refuse('the file list holds a name with an empty, "." or ".." component');
    }
  }
  return names;
}
