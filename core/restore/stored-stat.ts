import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PullbackError } from '../errors.js';
import type { EntryType } from './types.js';

/*
 * What the source had, as a --fake-super receiver stored it: rsync keeps the real mode, owner
 * and device number in the xattr user.rsync.%stat ("<st_mode octal> <major>,<minor> <uid>:<gid>")
 * whenever they differ from what the stored file itself shows; without the xattr, the file's own
 * lstat is the truth. Symlinks, fifos and devices are stored as regular files then (a symlink's
 * content is its target). Node has no getxattr, so getfattr (package attr) reads it.
 */

export interface StoredMode {
  type: EntryType;
  /** permission bits, 0o7777 */
  mode: number;
  uid: number;
  gid: number;
}

/** Entries per getfattr run: each gets its own inherited fd. */
const BATCH = 200;

export function typeOfMode(mode: number): EntryType {
  switch (mode & 0o170000) {
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    case 0o020000:
      return 'char';
    case 0o060000:
      return 'block';
    default:
      return 'file';
  }
}

/** Parses a user.rsync.%stat value; undefined for anything else. */
export function parseStatXattr(value: string): StoredMode | undefined {
  const m = /^([0-7]{1,7}) \d+,\d+ (\d+):(\d+)$/.exec(value.trim());
  if (!m) return undefined;
  const mode = parseInt(m[1]!, 8);
  return { type: typeOfMode(mode), mode: mode & 0o7777, uid: Number(m[2]), gid: Number(m[3]) };
}

function getfattrPath(): string {
  const found = ['/usr/bin/getfattr', '/bin/getfattr'].find((p) => existsSync(p));
  if (!found)
    throw new PullbackError('MISSING_TOOL', 'getfattr is not installed (Debian package attr)');
  return found;
}

/**
 * user.rsync.%stat of each open fd (O_PATH is enough, no symlinks: their xattrs are never
 * read), in order; undefined where there is none. The fds are handed to getfattr as its own
 * fds 3…, and it reads /proc/self/fd/N: no name is resolved again.
 */
export async function readStatXattrs(fds: readonly number[]): Promise<(StoredMode | undefined)[]> {
  const out: (StoredMode | undefined)[] = [];
  for (let i = 0; i < fds.length; i += BATCH)
    out.push(...(await readBatch(fds.slice(i, i + BATCH))));
  return out;
}

function readBatch(fds: readonly number[]): Promise<(StoredMode | undefined)[]> {
  if (fds.length === 0) return Promise.resolve([]);
  const program = getfattrPath();
  const args = ['--absolute-names', '-e', 'text', '-n', 'user.rsync.%stat', '--'];
  fds.forEach((_, i) => args.push(`/proc/self/fd/${i + 3}`));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      stdio: ['ignore', 'pipe', 'ignore', ...fds],
      env: { LC_ALL: 'C', PATH: '/usr/bin:/bin' },
    });
    const chunks: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', (err) =>
      reject(new PullbackError('MISSING_TOOL', `cannot run ${program}: ${err.message}`)),
    );
    child.on('close', () => {
      const found = new Map<number, StoredMode | undefined>();
      let current: number | undefined;
      for (const line of Buffer.concat(chunks).toString('latin1').split('\n')) {
        const file = /^# file: \/proc\/self\/fd\/(\d+)$/.exec(line);
        if (file) current = Number(file[1]) - 3;
        const value = /^user\.rsync\.%stat="(.*)"$/.exec(line);
        if (value && current !== undefined) found.set(current, parseStatXattr(value[1]!));
      }
      // getfattr exits 1 when some file has no such xattr: that is the normal case
      resolve(fds.map((_, i) => found.get(i)));
    });
  });
}
