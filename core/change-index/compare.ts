import { TREE_ROOT, entryType, type ScanResult, type TreeScan } from './scan.js';

/*
 * Scan against index: what an incremental must send. "Changed" is any field that differs (the
 * inode, ctime and nlink included), "new" is absent from the index, "deleted" is absent from
 * the scan. An entry whose type changed (file → directory, …) is both deleted and changed: the
 * backup host removes the old one before rsync writes the new one.
 */

export interface TreeChanges {
  tree: string;
  /** changed or new entries (relative, TREE_ROOT for the tree itself), sorted */
  changed: string[];
  /** deleted entries, only the topmost of a deleted subtree, sorted */
  deleted: string[];
}

export interface ChangeSet {
  trees: TreeChanges[];
  changed: number;
  deleted: number;
}

function isBelow(rel: string, dir: string): boolean {
  return dir === TREE_ROOT || rel.startsWith(`${dir}/`);
}

/** Drops every path whose ancestor is in the list too (sorted input, sorted output). */
function topmost(sorted: readonly string[]): string[] {
  const out: string[] = [];
  const kept = new Set<string>();
  for (const rel of sorted) {
    let covered = false;
    for (let i = rel.lastIndexOf('/'); i > 0; i = rel.lastIndexOf('/', i - 1)) {
      if (kept.has(rel.slice(0, i))) {
        covered = true;
        break;
      }
    }
    if (!covered) {
      out.push(rel);
      kept.add(rel);
    }
  }
  return out;
}

/**
 * Compares a scan with the index it follows. Entries below a directory the scan could not read
 * are taken as unchanged (copied into the scan, so the next index keeps them): an unreadable
 * directory must not read as "everything in it was deleted".
 */
export function compareWithIndex(scan: ScanResult, index: readonly TreeScan[]): ChangeSet {
  const set: ChangeSet = { trees: [], changed: 0, deleted: 0 };
  const unreadable = scan.unreadable;
  for (const now of scan.trees) {
    const before = index.find((t) => t.tree === now.tree)?.entries ?? new Map<string, string>();
    const base = now.tree === '/' ? '' : now.tree;
    const hidden = unreadable
      .filter((abs) => abs === now.tree || abs.startsWith(`${base}/`))
      .map((abs) => (abs === now.tree ? TREE_ROOT : abs.slice(base.length + 1)));
    const changed: string[] = [];
    const deleted: string[] = [];
    for (const [rel, fields] of now.entries) {
      const old = before.get(rel);
      if (old === fields) continue;
      changed.push(rel);
      if (old !== undefined && entryType(old) !== entryType(fields)) deleted.push(rel);
    }
    for (const [rel, fields] of before) {
      if (now.entries.has(rel)) continue;
      if (hidden.some((dir) => rel !== dir && isBelow(rel, dir))) {
        now.entries.set(rel, fields);
        continue;
      }
      deleted.push(rel);
    }
    changed.sort();
    const tops = topmost(deleted.sort());
    set.trees.push({ tree: now.tree, changed, deleted: tops });
    set.changed += changed.length;
    set.deleted += tops.length;
  }
  return set;
}

/** A tree's files-from list for the gate: the changed entries, NUL-separated (rsync --from0). */
export function encodeFileList(changed: readonly string[]): Buffer {
  return Buffer.from(changed.map((rel) => `${rel}\0`).join(''), 'utf8');
}
