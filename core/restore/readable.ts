/*
 * "Could this user have read it on the client?", from the owner and mode the source had.
 * Plain Unix permission bits: the owner's bits for the owner, else the group's for a member,
 * else the others'; root reads everything. ACL entries are not consulted, so a file shared
 * with the user only by an ACL is skipped too (on the safe side).
 */

export interface Reader {
  uid: number;
  /** primary and supplementary groups */
  gids: number[];
}

const READ = 4;
const SEARCH = 1;

function bitsFor(reader: Reader, entry: { mode: number; uid: number; gid: number }): number {
  if (entry.uid === reader.uid) return (entry.mode >> 6) & 7;
  if (reader.gids.includes(entry.gid)) return (entry.mode >> 3) & 7;
  return entry.mode & 7;
}

/** A directory the reader may walk through (search permission). */
export function canSearch(
  reader: Reader,
  dir: { mode: number; uid: number; gid: number },
): boolean {
  return reader.uid === 0 || (bitsFor(reader, dir) & SEARCH) !== 0;
}

/**
 * An entry the reader could have read: a directory needs read and search, a symlink nothing
 * (its parent's search bit was enough), anything else read.
 */
export function canRead(
  reader: Reader,
  entry: { type: string; mode: number; uid: number; gid: number },
): boolean {
  if (reader.uid === 0 || entry.type === 'symlink') return true;
  const bits = bitsFor(reader, entry);
  return entry.type === 'dir' ? (bits & (READ | SEARCH)) === (READ | SEARCH) : (bits & READ) !== 0;
}

/** The reader this process is. */
export function currentReader(): Reader {
  const uid = process.getuid?.() ?? 0;
  const gids = [...new Set([process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])])];
  return { uid, gids };
}
