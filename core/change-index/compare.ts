import { TREE_ROOT, entryType, type ScanResult, type TreeScan } from './scan.js';
import type { IndexTree } from './index-file.js';

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

/** A scan's tree in the index's form (to compare two scans). */
export function asIndexTree(t: TreeScan): IndexTree {
  return { tree: t.tree, rels: [...t.entries.keys()], fields: [...t.entries.values()] };
}

/**
 * Walks the scan and the index side by side: both list a tree in find's order, which an
 * unchanged directory keeps, so most entries meet their old selves at the same step and cost
 * one string comparison. Where the orders part (entries added or removed), the unmatched ones
 * wait in two maps until their counterpart comes, and the side that is behind catches up.
 * Calls `seen` for every entry of the scan with its old fields (undefined: new), and returns
 * the index's entries the scan does not have.
 */
function matchInOrder(
  now: TreeScan,
  before: IndexTree,
  seen: (rel: string, fields: string, old: string | undefined) => void,
): Map<string, string> {
  const rels = [...now.entries.keys()];
  const fields = [...now.entries.values()];
  const waitingNow = new Map<string, string>();
  const waitingBefore = new Map<string, string>();
  let i = 0;
  let j = 0;
  while (i < rels.length && j < before.rels.length) {
    const a = rels[i]!;
    const b = before.rels[j]!;
    if (a === b) {
      seen(a, fields[i]!, before.fields[j]);
      i++;
      j++;
      continue;
    }
    const old = waitingBefore.get(a);
    if (old !== undefined) {
      waitingBefore.delete(a);
      seen(a, fields[i]!, old);
      i++;
      continue;
    }
    const current = waitingNow.get(b);
    if (current !== undefined) {
      waitingNow.delete(b);
      seen(b, current, before.fields[j]);
      j++;
      continue;
    }
    waitingNow.set(a, fields[i]!);
    waitingBefore.set(b, before.fields[j]!);
    i++;
    j++;
  }
  for (; i < rels.length; i++) {
    const a = rels[i]!;
    const old = waitingBefore.get(a);
    if (old !== undefined) waitingBefore.delete(a);
    seen(a, fields[i]!, old);
  }
  for (; j < before.rels.length; j++) {
    const b = before.rels[j]!;
    const current = waitingNow.get(b);
    if (current !== undefined) {
      waitingNow.delete(b);
      seen(b, current, before.fields[j]);
    } else waitingBefore.set(b, before.fields[j]!);
  }
  for (const [rel, current] of waitingNow) seen(rel, current, undefined);
  return waitingBefore;
}

/**
 * Compares a scan with the index it follows. Entries below a directory the scan could not read
 * are taken as unchanged (copied into the scan, so the next index keeps them): an unreadable
 * directory must not read as "everything in it was deleted".
 */
export function compareWithIndex(scan: ScanResult, index: readonly IndexTree[]): ChangeSet {
  const set: ChangeSet = { trees: [], changed: 0, deleted: 0 };
  const unreadable = scan.unreadable;
  for (const now of scan.trees) {
    const before = index.find((t) => t.tree === now.tree) ?? {
      tree: now.tree,
      rels: [],
      fields: [],
    };
    const base = now.tree === '/' ? '' : now.tree;
    const hidden = unreadable
      .filter((abs) => abs === now.tree || abs.startsWith(`${base}/`))
      .map((abs) => (abs === now.tree ? TREE_ROOT : abs.slice(base.length + 1)));
    const changed: string[] = [];
    const deleted: string[] = [];
    const gone = matchInOrder(now, before, (rel, fields, old) => {
      if (old === fields) return;
      changed.push(rel);
      if (old !== undefined && entryType(old) !== entryType(fields)) deleted.push(rel);
    });
    for (const [rel, fields] of gone) {
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
