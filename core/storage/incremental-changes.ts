import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { lstat, lutimes, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PullbackError } from '../errors.js';
import { forgetStoredAcls } from './stored-acls.js';

/*
 * What the backup host does to a run directory cloned from the newest snapshot before an
 * incremental's rsync: remove what the client deleted, and (hardlink clone) unlink every
 * entry the client changed, so that rsync writes a new inode and never one an older snapshot
 * shares (a metadata-only change too: --fake-super keeps owner and mode in xattrs on the
 * inode). Paths come from the client, checked by the request schema (relative, no "." or
 * ".."), and are applied only inside the run directory: every directory on the way must be a
 * real directory (lstat, never followed), or there is nothing there to change.
 */

export interface TreeChangeList {
  tree: string;
  changed: readonly string[];
  deleted: readonly string[];
}

export interface AppliedChanges {
  deleted: number;
  unlinked: number;
}

function checkRelative(rel: string): string[] {
  const parts = rel.split('/');
  if (rel.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..'))
    throw new PullbackError('BAD_REQUEST', `not a path below the tree: ${JSON.stringify(rel)}`);
  return parts;
}

function lstatOrNone(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * `<root>/<parts…>` when every directory on the way is a real directory (lstat, never
 * followed), else undefined. `realDirs` remembers the ones already seen (thousands of listed
 * entries share their parents); only while nothing is removed.
 */
function inside(
  root: string,
  parts: readonly string[],
  realDirs = new Set<string>(),
): string | undefined {
  let path = root;
  for (const part of parts.slice(0, -1)) {
    path = join(path, part);
    if (realDirs.has(path)) continue;
    if (!lstatOrNone(path)?.isDirectory()) return undefined;
    realDirs.add(path);
  }
  return join(path, parts[parts.length - 1]!);
}

/** The tree's place in the run directory (`<run>/<tree>`), only through real directories. */
async function treeRoot(runDir: string, tree: string): Promise<string | undefined> {
  const parts = tree.split('/').filter(Boolean);
  if (parts.length === 0) return runDir;
  const path = inside(runDir, parts);
  return path && lstatOrNone(path)?.isDirectory() ? path : undefined;
}

/** The listed entries that exist in the run directory, each reached through real directories only. */
function listedEntries(
  root: string,
  changed: readonly string[],
): { path: string; isDirectory: boolean; isSymlink: boolean }[] {
  const realDirs = new Set<string>();
  const found: { path: string; isDirectory: boolean; isSymlink: boolean }[] = [];
  for (const rel of changed) {
    const path = rel === '.' ? root : inside(root, checkRelative(rel), realDirs);
    const st = path === undefined ? undefined : lstatOrNone(path);
    if (path !== undefined && st)
      found.push({ path, isDirectory: st.isDirectory(), isSymlink: st.isSymbolicLink() });
  }
  return found;
}

/**
 * What a listed pass makes rsync write: each listed entry, and when the tree's own directory
 * is listed (".", with rsync's implied --dirs) every entry directly inside it too.
 */
function entriesRsyncRewrites(root: string, changed: readonly string[]): string[] {
  const paths = listedEntries(root, changed)
    .filter((e) => !e.isSymlink)
    .map((e) => e.path);
  if (!changed.includes('.')) return paths;
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (lstatOrNone(path)?.isSymbolicLink() === false) paths.push(path);
  }
  return [...new Set(paths)];
}

/**
 * Unlinks the listed non-directories of a hardlink clone (synchronously: thousands of lstats,
 * the clone's directories being its own and unlinking never removing one).
 */
function unlinkListed(root: string, changed: readonly string[]): number {
  let unlinked = 0;
  // directories of a hardlink clone are its own (the tree's own one too: a new inode in the
  // clone); everything else may be an older snapshot's
  for (const entry of listedEntries(root, changed)) {
    if (entry.isDirectory) continue;
    unlinkSync(entry.path);
    unlinked++;
  }
  return unlinked;
}

export async function applyIncrementalChanges(
  runDir: string,
  trees: readonly TreeChangeList[],
  unlinkChanged: boolean,
): Promise<AppliedChanges> {
  const applied: AppliedChanges = { deleted: 0, unlinked: 0 };
  for (const { tree, changed, deleted } of trees) {
    const root = await treeRoot(runDir, tree);
    if (root === undefined) continue; // a tree the basis does not hold: rsync makes it
    for (const rel of deleted) {
      const path = inside(root, checkRelative(rel));
      if (path === undefined || !lstatOrNone(path)) continue;
      await rm(path, { recursive: true, force: true }); // never follows a symlink
      applied.deleted++;
    }
    if (unlinkChanged) applied.unlinked += unlinkListed(root, changed);
    // a snapshot of its own (btrfs), rewritten in place: rsync must write each ACL afresh
    else forgetStoredAcls(entriesRsyncRewrites(root, changed));
  }
  return applied;
}

/**
 * The times of each tree's own directory in the clone, put back after the pull unless the
 * client listed it (TREE_ROOT): unlinking and rsync's temp files change its mtime, and rsync
 * sets the times of a listed entry's parents (implied directories) but not the tree's root.
 */
export async function keepTreeRootTimes(
  runDir: string,
  trees: readonly TreeChangeList[],
): Promise<() => Promise<void>> {
  const kept: { path: string; atime: Date; mtime: Date }[] = [];
  for (const { tree, changed } of trees) {
    if (changed.includes('.')) continue;
    const root = await treeRoot(runDir, tree);
    const st = root ? await lstat(root).catch(() => undefined) : undefined;
    if (root && st) kept.push({ path: root, atime: st.atime, mtime: st.mtime });
  }
  return async () => {
    for (const { path, atime, mtime } of kept) await lutimes(path, atime, mtime);
  };
}
