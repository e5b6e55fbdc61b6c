import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { PullbackError } from '../errors.js';
import { HELPER_SCRIPT, RUNTIME_PARENT, SETPRIV, SYSTEM_RUNTIME_BASE } from './paths.js';

/** One-shot dirs are named after the helper that made them: oneshot-<helper pid>-<random>. */
export const ONESHOT_PREFIX = 'oneshot-';

/** Makes (or checks) a root-owned directory nobody else can write: the reader must not plant links there. */
function ensureRootOnlyDir(path: string): void {
  try {
    mkdirSync(path, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(path);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new PullbackError(
      'HELPER_FAILED',
      `${path} must be a root-owned directory writable only by root; remove it and retry`,
    );
  }
}

/** /run/pullback/system, root-owned 0755. */
export function ensureSystemRuntimeBase(): string {
  ensureRootOnlyDir(RUNTIME_PARENT);
  ensureRootOnlyDir(SYSTEM_RUNTIME_BASE);
  return SYSTEM_RUNTIME_BASE;
}

/**
 * Removes a one-shot dir. Its contents are deleted *as their owner* (root never walks a tree
 * the reader could swap symlinks into), then root removes the now empty directory itself.
 */
export function removeOneShotDir(dir: string): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) return unlinkSync(dir);
  if (st.uid === 0) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const entries = readdirSync(dir).map((name) => join(dir, name));
  if (entries.length > 0) {
    spawnSync(
      SETPRIV,
      [
        `--reuid=${st.uid}`,
        `--regid=${st.gid}`,
        '--clear-groups',
        '--inh-caps=-all',
        '--',
        '/bin/rm',
        '-rf',
        '--',
        ...entries,
      ],
      { stdio: 'ignore' },
    );
  }
  rmdirSync(dir);
}

function helperAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(HELPER_SCRIPT);
  } catch {
    return false;
  }
}

/** S9: removes what crashed or killed helpers left behind (their pid no longer runs the helper). */
export function cleanStaleSystemOneShotDirs(base: string = SYSTEM_RUNTIME_BASE): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  for (const name of names) {
    const pid = Number(/^oneshot-(\d+)-/.exec(name)?.[1] ?? NaN);
    if (Number.isInteger(pid) && helperAlive(pid)) continue;
    removeOneShotDir(join(base, name));
    removed.push(join(base, name));
  }
  return removed;
}
