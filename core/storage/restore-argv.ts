import { isAbsolute } from 'node:path';
import { PullbackError } from '../errors.js';

export interface RestoreArgvOptions {
  rsyncPath?: string;
  /** restore ownership, devices and setuid bits for real (needs root); default: when root */
  superUser?: boolean;
}

/**
 * The rsync command that copies a snapshot (or a directory inside one) back to `target`,
 * reproducing the original tree.
 *
 * A snapshot was received with --fake-super: ownership, special files and some mode bits live
 * in user.rsync.* xattrs, ACLs in user.rsync.%aacl. So the reading side must interpret them
 * (--fake-super), and the writing side must not store them again as xattrs:
 *   as root:  --fake-super -M--super     writes real owners, devices, setuid bits
 *   as a user: --fake-super -M--no-super  writes what a user may; owners become the user's
 * For a local copy plain --fake-super would apply to both sides; -M sets the receiver's mode.
 * Verified with rsync 3.5.0: a tree with hardlinks, ACLs, xattrs, a fifo, a device, a setuid
 * dir and foreign owners comes back with no difference in `rsync -naHAXSc --itemize-changes`.
 */
export function buildRestoreArgv(
  snapshotPath: string,
  target: string,
  options: RestoreArgvOptions = {},
): string[] {
  for (const [what, path] of [
    ['snapshot path', snapshotPath],
    ['restore target', target],
  ] as const) {
    if (!isAbsolute(path))
      throw new PullbackError(
        'BAD_ARGS',
        `the ${what} must be absolute, got ${JSON.stringify(path)}`,
      );
  }
  const asRoot = options.superUser ?? process.getuid?.() === 0;
  const slash = (p: string) => (p.endsWith('/') ? p : p + '/');
  return [
    options.rsyncPath ?? 'rsync',
    '-aHAXS',
    '--numeric-ids',
    '--fake-super',
    asRoot ? '-M--super' : '-M--no-super',
    '--',
    slash(snapshotPath),
    slash(target),
  ];
}
