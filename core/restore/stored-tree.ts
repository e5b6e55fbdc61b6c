import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  type Stats,
} from 'node:fs';
import { PullbackError } from '../errors.js';
import { pinTree } from '../gate/pin.js';
import type { StoredEntry } from '../handoff/messages.js';
import { pathSegments } from './remote-path.js';
import { readStatXattrs, type StoredMode, typeOfMode } from './stored-stat.js';

/*
 * Reading one client's snapshots on the backup host, for ls, versions and the restore plan.
 * Like the gate's pin.ts: every component is opened O_PATH|O_NOFOLLOW beneath the directory
 * fd already held (via /proc/self/fd/N/<name>), so a symlink stored in a snapshot is never
 * followed, and nothing outside the snapshot is ever reached whatever the client names.
 */

const O_PATH = 0o10000000;
const MAX_LINK_BYTES = 4096;

function via(fd: number, name: string | Buffer): string | Buffer {
  const prefix = `/proc/self/fd/${fd}/`;
  return typeof name === 'string' ? prefix + name : Buffer.concat([Buffer.from(prefix), name]);
}

/** An O_PATH fd on one snapshot's directory (pinned like a gate tree); the caller closes it. */
export function openSnapshot(snapshotPath: string): number {
  return pinTree(snapshotPath, process.getuid ? [process.getuid()] : []).fd;
}

export interface Located {
  /** O_PATH fd of the entry itself */
  fd: number;
  /** the entry's parent directory, and its name there (none for the snapshot's root) */
  parentFd?: number;
  name?: string;
  stat: Stats;
  close(): void;
}

/**
 * Walks `path` (checked, see remote-path.ts) down from the snapshot's root. Throws NOT_FOUND
 * when a component is missing, is not a directory, or is a symlink stored in the snapshot.
 */
export function locate(rootFd: number, path: string, shownPath: string = path): Located {
  const held: number[] = [openSync(`/proc/self/fd/${rootFd}`, O_PATH | constants.O_DIRECTORY)];
  const closeAll = () => held.splice(0).forEach((fd) => closeSync(fd));
  try {
    const segments = pathSegments(path);
    for (let i = 0; i < segments.length; i++) {
      let fd: number;
      try {
        fd = openSync(via(held[held.length - 1]!, segments[i]!), O_PATH | constants.O_NOFOLLOW);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(shownPath);
        throw err;
      }
      held.push(fd);
      const st = fstatSync(fd);
      if (!st.isDirectory() && i < segments.length - 1) throw notFound(shownPath);
    }
    const fd = held[held.length - 1]!;
    const parentFd = held.length > 1 ? held[held.length - 2] : undefined;
    return {
      fd,
      parentFd,
      name: segments[segments.length - 1],
      stat: fstatSync(fd),
      close: closeAll,
    };
  } catch (err) {
    closeAll();
    throw err;
  }
}

function notFound(path: string): PullbackError {
  return new PullbackError('NOT_FOUND', `${JSON.stringify(path)} is not in this snapshot`);
}

/** The entry as the source had it: the stored xattr where there is one, else the file's own stat. */
export function storedEntry(
  parentFd: number,
  name: Buffer,
  st: Stats,
  stored: StoredMode | undefined,
): StoredEntry {
  const type = stored?.type ?? typeOfMode(st.mode);
  const entry: StoredEntry = {
    name: name.toString('base64'),
    type,
    mode: stored?.mode ?? st.mode & 0o7777,
    uid: stored?.uid ?? st.uid,
    gid: stored?.gid ?? st.gid,
    size: type === 'file' ? st.size : 0,
    mtime: new Date(st.mtimeMs).toISOString(),
  };
  if (type === 'symlink') {
    entry.target = linkTarget(parentFd, name, st).toString('base64');
    entry.size = Buffer.from(entry.target, 'base64').length;
  }
  return entry;
}

/**
 * A stored symlink's target: a real symlink's, or (--fake-super) the content of the file.
 * By name in its directory: /proc/self/fd/N of the entry would be a link itself.
 */
function linkTarget(parentFd: number, name: Buffer, st: Stats): Buffer {
  if (st.isSymbolicLink())
    return readlinkSync(via(parentFd, name), { encoding: 'buffer' }) as Buffer;
  const file = openSync(via(parentFd, name), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(MAX_LINK_BYTES);
    return buf.subarray(0, readSync(file, buf, 0, buf.length, 0));
  } finally {
    closeSync(file);
  }
}

export interface StoredChild {
  name: Buffer;
  /** O_PATH fd, open until the callback returns */
  fd: number;
  stat: Stats;
  stored: StoredMode | undefined;
}

/**
 * The entries of the directory `dirFd`, each opened O_PATH|O_NOFOLLOW, with what the source
 * had; handed over in batches (fds stay bounded), closed when `each` returns.
 */
export async function forEachChild(
  dirFd: number,
  each: (children: StoredChild[]) => Promise<void> | void,
  batch = 200,
): Promise<void> {
  const names = readdirSync(`/proc/self/fd/${dirFd}`, { encoding: 'buffer' }) as Buffer[];
  names.sort(Buffer.compare);
  for (let i = 0; i < names.length; i += batch) {
    const opened: StoredChild[] = [];
    try {
      for (const name of names.slice(i, i + batch)) {
        let fd: number;
        try {
          fd = openSync(via(dirFd, name), O_PATH | constants.O_NOFOLLOW);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // pruned meanwhile
          throw err;
        }
        opened.push({ name, fd, stat: fstatSync(fd), stored: undefined });
      }
      const stored = await readStatXattrs(
        opened.filter((c) => !c.stat.isSymbolicLink()).map((c) => c.fd),
      );
      let k = 0;
      for (const child of opened) if (!child.stat.isSymbolicLink()) child.stored = stored[k++];
      await each(opened);
    } finally {
      for (const child of opened) closeSync(child.fd);
    }
  }
}

/** What the source had for the located entry itself. */
export async function locatedEntry(at: Located): Promise<StoredEntry> {
  const [stored] = at.stat.isSymbolicLink() ? [undefined] : await readStatXattrs([at.fd]);
  // the snapshot's root is a directory: it has no parent, and needs none
  return storedEntry(at.parentFd ?? at.fd, Buffer.from(at.name ?? '/'), at.stat, stored);
}
