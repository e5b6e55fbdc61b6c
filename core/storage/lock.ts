import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { PullbackError } from '../errors.js';
import { isProcessAlive, readProcessInfo } from '../process-tree.js';

/**
 * One run per client: a lock file created atomically, holding who owns it. Node has no flock,
 * and a lock that outlives a crashed owner must not block backups forever, so a lock whose
 * owner is provably gone is taken over. "Gone" means: same host, and no process with that pid
 * and that start time (a pid alone may since belong to another process).
 * A second caller gets BUSY at once; nobody waits.
 */
export interface LockOwner {
  pid: number;
  /** field 22 of /proc/<pid>/stat: clock ticks after boot, unique per pid together with it */
  startTime: string;
  hostname: string;
  createdAt: string;
}

export interface Lock {
  readonly path: string;
  readonly owner: LockOwner;
  release(): Promise<void>;
}

/** The start time of a live process, or undefined when there is none (or only a zombie). */
export function processStartTime(pid: number): string | undefined {
  return isProcessAlive(pid) ? String(readProcessInfo(pid)?.startTime) : undefined;
}

export function currentLockOwner(): LockOwner {
  const startTime = processStartTime(process.pid);
  if (startTime === undefined)
    throw new PullbackError('INTERNAL', 'cannot read /proc/self/stat (is /proc mounted?)');
  return { pid: process.pid, startTime, hostname: hostname(), createdAt: new Date().toISOString() };
}

export type OwnerState = 'alive' | 'dead' | 'unknown';

export function lockOwnerState(owner: LockOwner): OwnerState {
  if (owner.hostname !== hostname()) return 'unknown';
  return processStartTime(owner.pid) === owner.startTime ? 'alive' : 'dead';
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (
      Number.isInteger(v.pid) &&
      typeof v.startTime === 'string' &&
      typeof v.hostname === 'string' &&
      typeof v.createdAt === 'string'
    ) {
      return v as LockOwner;
    }
  } catch {
    // not ours, or damaged: judged by age below
  }
  return undefined;
}

/** A lock file that is not ours to read is left alone unless it is older than this. */
const UNREADABLE_LOCK_STALE_MS = 60_000;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The name of a file this process puts beside the lock for a moment (`<lock>.new-…` while
 * creating, `<lock>.stale-…` while taking over). It carries our pid and start time, so that
 * what a crash or a full disk leaves behind can be told from what a live process still uses.
 */
function asideName(path: string, kind: 'new' | 'stale'): string {
  const self = currentLockOwner();
  return `${path}.${kind}-${self.pid}-${self.startTime}-${randomBytes(4).toString('hex')}`;
}

const ASIDE_NAME = /^(.+)\.(?:new|stale)-(\d+)(?:-(\d+))?-[0-9a-f]{8}$/;

/**
 * Whether `name` (in the lock's directory) is a `<lockName>.new-…`/`.stale-…` file whose
 * process is gone: no process with that pid, or (names that carry it) not with that start time.
 */
export function isDeadLockAside(name: string, lockName: string): boolean {
  const m = ASIDE_NAME.exec(name);
  if (!m || m[1] !== lockName) return false;
  const startTime = processStartTime(Number(m[2]));
  return startTime === undefined || (m[3] !== undefined && m[3] !== startTime);
}

/** Whether `name` looks like a `<lockName>.new-…`/`.stale-…` file, dead or alive. */
export function isLockAside(name: string, lockName: string): boolean {
  return ASIDE_NAME.exec(name)?.[1] === lockName;
}

/** Creates `path` with its full content in one step: write a temp file, hard-link it in. */
async function tryCreate(path: string, content: string): Promise<number | undefined> {
  const temp = asideName(path, 'new');
  await writeFile(temp, content, { mode: 0o644, flag: 'wx' });
  try {
    await link(temp, path);
    return (await stat(path)).ino;
  } catch (err) {
    if (errno(err) === 'EEXIST') return undefined;
    throw err;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

export async function acquireLock(path: string, what: string): Promise<Lock> {
  const owner = currentLockOwner();
  const content = JSON.stringify(owner) + '\n';
  for (let attempt = 0; attempt < 3; attempt++) {
    const ino = await tryCreate(path, content);
    if (ino !== undefined) return heldLock(path, owner, ino, content);

    let text: string;
    let existing: Awaited<ReturnType<typeof stat>>;
    try {
      existing = await stat(path);
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (errno(err) === 'ENOENT') continue; // released meanwhile: try again
      throw err;
    }
    const holder = parseOwner(text);
    const state = holder
      ? lockOwnerState(holder)
      : Date.now() - existing.mtimeMs > UNREADABLE_LOCK_STALE_MS
        ? 'dead'
        : 'alive';
    if (state !== 'dead') throw busy(what, path, holder, state);

    // Stale. Move it aside and check that what we moved is the file we judged: another process
    // may have taken over first and created a fresh lock in between.
    const aside = asideName(path, 'stale');
    try {
      await rename(path, aside);
    } catch (err) {
      if (errno(err) === 'ENOENT') continue;
      throw err;
    }
    if ((await stat(aside)).ino !== existing.ino) {
      await link(aside, path).catch(() => {}); // put the other taker's live lock back
      await unlink(aside).catch(() => {});
      throw busy(what, path, undefined, 'alive');
    }
    await unlink(aside);
  }
  throw busy(what, path, undefined, 'alive');
}

function heldLock(path: string, owner: LockOwner, ino: number, content: string): Lock {
  let released = false;
  return {
    path,
    owner,
    async release() {
      if (released) return;
      released = true;
      // Only remove the file if it is still ours (nobody should have taken it, but be sure;
      // inode numbers are reused at once, so compare the content too).
      const current = await stat(path).catch(() => undefined);
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (current?.ino === ino && text === content) await unlink(path).catch(() => {});
    },
  };
}

function busy(
  what: string,
  path: string,
  holder: LockOwner | undefined,
  state: OwnerState,
): PullbackError {
  if (state === 'unknown' && holder) {
    return new PullbackError(
      'BUSY',
      `${what} is locked by pid ${holder.pid} on host ${holder.hostname} since ${holder.createdAt}; if that host no longer runs it, remove ${path}`,
    );
  }
  const by = holder ? ` by pid ${holder.pid} since ${holder.createdAt}` : '';
  return new PullbackError('BUSY', `${what} is already running${by}`);
}
