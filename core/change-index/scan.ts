import { lstatSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import { sourceTrees } from '../gate/trees.js';
import { treeExcludeMatcher } from './excludes.js';
import { TREE_ROOT } from './tree-root.js';

/*
 * The change scan: one lstat walk of the sources (after excludes), never following a symlink
 * below a tree's root. Each entry is kept as one string of the fields that decide "changed"
 * (type, dev, ino, size, mtime and ctime in ns, mode, uid, gid, nlink), so comparing two scans
 * is comparing strings. ctime and the inode catch what size and mtime hide (`cp -a`, `touch -r`).
 */

export { TREE_ROOT };

export interface TreeScan {
  tree: string;
  /** relative path (TREE_ROOT for the tree itself) → its fields (entryFields) */
  entries: Map<string, string>;
}

export interface ScanResult {
  trees: TreeScan[];
  /** a name did not survive decoding as UTF-8 (it cannot be listed exactly): use a full pass */
  lossyNames: number;
  /** directories that could not be read (their contents are not in the scan) */
  unreadable: string[];
  entries: number;
  durationMs: number;
}

function typeChar(st: BigIntStats): string {
  if (st.isFile()) return 'f';
  if (st.isDirectory()) return 'd';
  if (st.isSymbolicLink()) return 'l';
  if (st.isCharacterDevice()) return 'c';
  if (st.isBlockDevice()) return 'b';
  if (st.isFIFO()) return 'p';
  return 's';
}

/** The fields of one entry, in the index's order; the type comes first (entryType). */
export function entryFields(st: BigIntStats): string {
  return `${typeChar(st)} ${st.dev} ${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs} ${st.mode} ${st.uid} ${st.gid} ${st.nlink}`;
}

export function entryType(fields: string): string {
  return fields[0] ?? '';
}

/** Scans the trees of `sources` (as the pull copies them), skipping what `excludes` names. */
export function scanTrees(sources: readonly string[], excludes: readonly string[]): ScanResult {
  const started = performance.now();
  const result: ScanResult = {
    trees: [],
    lossyNames: 0,
    unreadable: [],
    entries: 0,
    durationMs: 0,
  };
  for (const tree of sourceTrees(sources)) {
    const matcher = treeExcludeMatcher(tree, excludes);
    const entries = new Map<string, string>();
    // the root as the gate pins it (an operator's symlink to it is followed), the rest lstat
    entries.set(TREE_ROOT, entryFields(statSync(tree, { bigint: true })));
    const base = tree === '/' ? '' : tree;
    const pending: string[] = [''];
    for (let rel = pending.pop(); rel !== undefined; rel = pending.pop()) {
      let names: string[];
      try {
        names = readdirSync(rel === '' ? tree : `${base}/${rel}`);
      } catch {
        result.unreadable.push(rel === '' ? tree : `${base}/${rel}`);
        continue;
      }
      for (const name of names) {
        if (name.includes('\uFFFD')) result.lossyNames++;
        const childRel = rel === '' ? name : `${rel}/${name}`;
        let st: BigIntStats;
        try {
          st = lstatSync(`${base}/${childRel}`, { bigint: true });
        } catch {
          continue; // vanished since the readdir: absent, as it is now
        }
        const isDir = st.isDirectory();
        if (matcher.excludes(childRel, isDir)) continue;
        entries.set(childRel, entryFields(st));
        if (isDir) pending.push(childRel);
      }
    }
    result.entries += entries.size;
    result.trees.push({ tree, entries });
  }
  result.durationMs = performance.now() - started;
  return result;
}
