import { lstatSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The places of the trees inside a run's `.incomplete/` (and the previous snapshot). Each
 * tree's rsync writes into `<.incomplete>/<tree>/`, so the path down to it must be real
 * directories: a symlink there (kept from an older layout, or planted by a client in its own
 * tree) would send the receiver's writes outside the repository.
 */

function components(tree: string): string[] {
  return tree.split('/').filter(Boolean);
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Removes from `root` everything that is neither one of `trees` nor a directory on the way to
 * one: a tree that is no longer a source must not linger in a resumed `.incomplete`, and get
 * promoted with the next snapshot. Unlinking never changes an inode shared with a snapshot.
 */
export function dropStaleTrees(root: string, trees: readonly string[]): string[] {
  const removed: string[] = [];
  const wanted = trees.map(components);
  const walk = (dir: string, depth: number, prefixes: string[][]): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // missing: nothing to drop
    }
    for (const name of names) {
      const below = prefixes.filter((c) => c[depth] === name);
      const path = join(dir, name);
      if (below.some((c) => c.length === depth + 1)) continue; // a tree: rsync's --delete keeps it right
      if (below.length > 0 && lstatOrUndefined(path)?.isDirectory()) {
        walk(path, depth + 1, below);
        continue;
      }
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    }
  };
  if (!wanted.some((c) => c.length === 0)) walk(root, 0, wanted);
  return removed;
}

/** Makes `<root>/<tree>` a chain of real directories (anything else on the way is replaced) and returns it. */
export function ensureTreeDir(root: string, tree: string): string {
  let path = root;
  for (const name of components(tree)) {
    path = join(path, name);
    const st = lstatOrUndefined(path);
    if (st?.isDirectory()) continue;
    if (st) unlinkSync(path);
    mkdirSync(path, { mode: 0o755 });
  }
  return path;
}

/** `<root>/<tree>` when every component is a real directory (a usable --link-dest), else undefined. */
export function realTreeDir(root: string, tree: string): string | undefined {
  let path = root;
  for (const name of components(tree)) {
    path = join(path, name);
    if (!lstatOrUndefined(path)?.isDirectory()) return undefined;
  }
  return path;
}
