import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { PullbackError } from '../errors.js';

/**
 * The storage root must be there, and is never created by a run or a status: if it is missing,
 * the backup disk is probably not mounted, and we would be filling (or describing) the system
 * disk. A root that exists but lies under a mount point /etc/fstab declares and that is not
 * mounted now is the same thing (an empty mount point directory on the system disk).
 */
export interface StorageRootProbe {
  /** where mount points are declared (tests point elsewhere) */
  fstab?: string;
  /** what is mounted now */
  mountinfo?: string;
}

export function requireStorageRoot(root: string, probe: StorageRootProbe = {}): void {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new PullbackError(
      'NOT_FOUND',
      `the storage directory ${root} does not exist (is the backup disk mounted?)`,
    );
  }
  const mountPoint = unmountedMountPoint(resolve(root), probe);
  if (mountPoint !== undefined) {
    throw new PullbackError(
      'NOT_FOUND',
      `the storage directory ${root} is on ${mountPoint}, which /etc/fstab mounts but is not mounted now (is the backup disk plugged in?)`,
    );
  }
}

/** fstab and mountinfo write a space in a path as \040 (and tab, newline, backslash alike). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** The deepest fstab mount point at or above `path` that is not mounted, if any. */
function unmountedMountPoint(path: string, probe: StorageRootProbe): string | undefined {
  const declared = readLines(probe.fstab ?? '/etc/fstab')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => unescapeMountPath(l.split(/\s+/)[1] ?? ''))
    .filter((m) => m.startsWith('/') && m !== '/')
    .filter((m) => path === m || path.startsWith(m.endsWith(sep) ? m : m + sep))
    .sort((a, b) => b.length - a.length)[0];
  if (declared === undefined) return undefined;
  const mounted = new Set(
    readLines(probe.mountinfo ?? '/proc/self/mountinfo').map((l) =>
      unescapeMountPath(l.split(' ')[4] ?? ''),
    ),
  );
  return mounted.has(declared) ? undefined : declared;
}
