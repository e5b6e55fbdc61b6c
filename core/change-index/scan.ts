import { spawn } from 'node:child_process';
import { lstatSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import { sourceTrees } from '../gate/trees.js';
import { findPruneArgs, treeExcludeMatcher, type ExcludeMatcher } from './excludes.js';
import { TREE_ROOT } from './tree-root.js';

/*
 * The change scan: one lstat walk of the sources (after excludes), never following a symlink
 * below a tree's root. Each entry is kept as one string of the fields that decide "changed"
 * (type, dev, ino, size, mtime and ctime in ns, mode, uid, gid, nlink), so comparing two scans
 * is comparing strings. ctime and the inode catch what size and mtime hide (`cp -a`, `touch -r`).
 *
 * GNU find walks and formats (about half the CPU of an lstat walk in Node, and in a process of
 * its own); the Node walk below produces the same strings and takes over when find reports any
 * error (an unreadable directory, an entry that vanished), so that those are known exactly.
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

/** find's -printf for one entry: the relative path, then the fields as entryFields spells them */
const FIND_FORMAT = '%P\\0%y %D %i %s %T@ %C@ %m %U %G %n\\0';
const FIND_ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };

function typeChar(st: BigIntStats): string {
  if (st.isFile()) return 'f';
  if (st.isDirectory()) return 'd';
  if (st.isSymbolicLink()) return 'l';
  if (st.isCharacterDevice()) return 'c';
  if (st.isBlockDevice()) return 'b';
  if (st.isFIFO()) return 'p';
  return 's';
}

/** A time in ns as find's %T@ prints it: seconds, ".", the nanoseconds in 10 digits. */
function findTime(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  if (frac < 0n) return `${ns}`; // before 1970: only has to be the same from run to run
  return `${sec}.${frac.toString().padStart(9, '0')}0`;
}

/** The fields of one entry, in the index's order; the type comes first (entryType). */
export function entryFields(st: BigIntStats): string {
  const perm = (st.mode & 0o7777n).toString(8);
  return `${typeChar(st)} ${st.dev} ${st.ino} ${st.size} ${findTime(st.mtimeNs)} ${findTime(st.ctimeNs)} ${perm} ${st.uid} ${st.gid} ${st.nlink}`;
}

export function entryType(fields: string): string {
  return fields[0] ?? '';
}

interface TreeWalk {
  entries: Map<string, string>;
  lossyNames: number;
  unreadable: string[];
}

/** The Node walk: readdir and lstat, one entry at a time (every error is seen where it is). */
function walkInNode(tree: string, matcher: ExcludeMatcher, walk: TreeWalk): void {
  const base = tree === '/' ? '' : tree;
  const pending: string[] = [''];
  for (let rel = pending.pop(); rel !== undefined; rel = pending.pop()) {
    let names: string[];
    try {
      names = readdirSync(rel === '' ? tree : `${base}/${rel}`);
    } catch {
      walk.unreadable.push(rel === '' ? tree : `${base}/${rel}`);
      continue;
    }
    for (const name of names) {
      if (name.includes('\uFFFD')) walk.lossyNames++;
      const childRel = rel === '' ? name : `${rel}/${name}`;
      let st: BigIntStats;
      try {
        st = lstatSync(`${base}/${childRel}`, { bigint: true });
      } catch {
        continue; // vanished since the readdir: absent, as it is now
      }
      const isDir = st.isDirectory();
      if (matcher.excludes(childRel, isDir)) continue;
      walk.entries.set(childRel, entryFields(st));
      if (isDir) pending.push(childRel);
    }
  }
}

/** Reads find's NUL-separated records as they come: path, fields, path, fields, … */
class RecordReader {
  private rest: Buffer = Buffer.alloc(0);
  private rel: string | undefined;
  constructor(private readonly onEntry: (rel: string, fields: string) => void) {}

  push(chunk: Buffer): void {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const end = data.lastIndexOf(0) + 1; // a NUL never sits inside a UTF-8 sequence
    this.rest = data.subarray(end);
    if (end === 0) return;
    const parts = data.toString('utf8', 0, end).split('\0');
    parts.pop(); // after the last NUL
    for (const part of parts) {
      if (this.rel === undefined) this.rel = part;
      else {
        this.onEntry(this.rel, part);
        this.rel = undefined;
      }
    }
  }

  /** whether the output ended after a whole record */
  complete(): boolean {
    return this.rest.length === 0 && this.rel === undefined;
  }
}

/** The walk by find; false when find failed in any way (the Node walk then does it again). */
function walkWithFind(
  tree: string,
  excludes: readonly string[],
  matcher: ExcludeMatcher,
  walk: TreeWalk,
): Promise<boolean> {
  const args = [
    '-H',
    tree,
    '-mindepth',
    '1',
    ...findPruneArgs(tree, excludes),
    '-printf',
    FIND_FORMAT,
  ];
  // pre-order: a directory comes right before what is inside it, so an excluded one's
  // contents are the entries that follow it with its path as their prefix
  let skipBelow: string | undefined;
  const reader = new RecordReader((path, fields) => {
    if (skipBelow !== undefined && path.startsWith(skipBelow)) return;
    skipBelow = undefined;
    if (path.includes('\uFFFD')) walk.lossyNames++;
    const isDir = fields.charCodeAt(0) === 100; // "d"
    if (matcher.excludes(path, isDir)) {
      if (isDir) skipBelow = `${path}/`;
      return;
    }
    walk.entries.set(path, fields);
  });
  return new Promise((resolve) => {
    const child = spawn('find', args, { env: FIND_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let complained = false;
    child.stdout.on('data', (chunk: Buffer) => reader.push(chunk));
    child.stderr.on('data', () => (complained = true));
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0 && !complained && reader.complete()));
  });
}

/**
 * Scans the trees of `sources` (as the pull copies them), skipping what `excludes` names. find
 * runs in a process of its own while this one reads its output (and may do other work).
 */
export async function scanTrees(
  sources: readonly string[],
  excludes: readonly string[],
  options: { walker?: 'find' | 'node' } = {},
): Promise<ScanResult> {
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
    // the root as the gate pins it (an operator's symlink to it is followed), the rest lstat
    const root = entryFields(statSync(tree, { bigint: true }));
    let walk: TreeWalk = { entries: new Map([[TREE_ROOT, root]]), lossyNames: 0, unreadable: [] };
    if (options.walker === 'node' || !(await walkWithFind(tree, excludes, matcher, walk))) {
      walk = { entries: new Map([[TREE_ROOT, root]]), lossyNames: 0, unreadable: [] };
      walkInNode(tree, matcher, walk);
    }
    result.lossyNames += walk.lossyNames;
    result.unreadable.push(...walk.unreadable);
    result.entries += walk.entries.size;
    result.trees.push({ tree, entries: walk.entries });
  }
  result.durationMs = performance.now() - started;
  return result;
}
