/**
 * The name of a tree's own root directory in a scan (rsync's "." in a files-from list). Its own
 * module: the gate needs it (list-file.ts) without the scan's imports (the pull's argv, zod),
 * which would be loaded on every backup's critical path.
 */
export const TREE_ROOT = '.';
