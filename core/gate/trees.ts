import { PullbackError } from '../errors.js';

/*
 * A *tree* is one configured source, the unit the gate serves and the pull copies: one rsync
 * sender per tree, with `--confine-root` set to it (DESIGN §8). Both sides spell a tree the
 * same way, so the gate can compare the requested argument with its --allow list as strings.
 */

/** `/a/b/` and `/a/b` are the same tree, `/a/b`; "." and ".." segments and "//" are refused. */
export function normaliseTree(path: string): string {
  if (!path.startsWith('/'))
    throw new PullbackError('BAD_CONFIG', `tree ${JSON.stringify(path)} is not absolute`);
  if (path === '/') return path;
  const body = path.endsWith('/') ? path.slice(0, -1) : path;
  for (const segment of body.split('/').slice(1)) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new PullbackError(
        'BAD_CONFIG',
        `tree ${JSON.stringify(path)} is not a normalised path (no "//", "." or "..")`,
      );
    }
  }
  return body;
}

/** The source argument rsync sends for a tree: its contents, so always with a trailing "/". */
export function treeArgument(tree: string): string {
  return tree === '/' ? '/' : `${tree}/`;
}

function contains(outer: string, inner: string): boolean {
  return outer === '/' || inner === outer || inner.startsWith(`${outer}/`);
}

/**
 * The trees a pull copies for a list of configured sources: normalised, each once, and none
 * inside another (the outer tree's sender already copies it), in a stable order.
 */
export function sourceTrees(sources: readonly string[]): string[] {
  const trees = [...new Set(sources.map(normaliseTree))].sort();
  return trees.filter((tree) => !trees.some((other) => other !== tree && contains(other, tree)));
}
