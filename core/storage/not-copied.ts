import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Puts the entries rsync could not copy back as they were in the previous snapshot, or removes
 * them when it had none: a promoted snapshot never holds a cut-off, mixed or stale file under a
 * name rsync did not finish (see core/pull/not-copied.ts for where the names come from).
 *
 * The names come from the client's rsync, so each is confined: a relative path without "." or
 * ".." components below `incomplete`, every directory on the way a real directory (never a
 * symlink, on both sides), nothing outside ever touched. rsync has exited and we hold the lock,
 * so nothing changes these trees meanwhile. `copy` makes the previous version appear at the
 * target without sharing anything writable (hardlinks of files, or reflinks on btrfs).
 * Returns the client paths handled, sorted.
 */
export async function restoreNotCopied(
  incomplete: string,
  previous: string | undefined,
  names: readonly string[],
  copy: (from: string, to: string) => Promise<void>,
): Promise<string[]> {
  const relPaths = [...new Set(names.map(confine).filter((p): p is string => p !== undefined))];
  // Parents first, so that a restored directory covers everything below it.
  relPaths.sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  const done: string[] = [];
  for (const rel of relPaths) {
    if (done.some((d) => rel.startsWith(d + '/'))) continue;
    if (!(await isRealDirChain(incomplete, rel))) continue; // its parent was not copied either
    await rm(join(incomplete, rel), { recursive: true, force: true });
    if (previous !== undefined && (await isRealDirChain(previous, rel))) {
      if (await lstat(join(previous, rel)).catch(() => undefined))
        await copy(join(previous, rel), join(incomplete, rel));
    }
    done.push(rel);
  }
  return done.map((rel) => '/' + rel).sort();
}

/** A name as a path relative to the snapshot root, or undefined when it could point elsewhere. */
function confine(name: string): string | undefined {
  const parts = name.replace(/^\/+/, '').replace(/\/+$/, '').split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0'))) return undefined;
  return parts.join('/');
}

/** Every ancestor of `rel` below `root` (root included) is a directory, not a symlink. */
async function isRealDirChain(root: string, rel: string): Promise<boolean> {
  const parts = rel.split('/').slice(0, -1);
  let path = root;
  for (const part of ['', ...parts]) {
    path = part === '' ? path : join(path, part);
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isDirectory()) return false;
  }
  return true;
}
