import { lstatSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PullbackError } from '../errors.js';

/** True when `inner` is `outer` or lies below it (path components, not string prefixes). */
export function isWithin(inner: string, outer: string): boolean {
  return outer === '/' || inner === outer || inner.startsWith(`${outer}/`);
}

/** A source as the config stores it: absolute, without a trailing slash. */
export function normalizeSource(path: string, cwd: string = process.cwd()): string {
  const abs = resolve(cwd, path);
  return abs.length > 1 ? abs.replace(/\/+$/, '') : abs;
}

/** Refuses a source that is not there (a typo, an unmounted disk): nothing is written. */
export function assertSourceExists(path: string): void {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory() || statSync(path).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES')
      throw new PullbackError('BAD_ARGS', `source ${path} cannot be read by this account`);
    throw new PullbackError(
      'NOT_FOUND',
      `source ${path} does not exist (a typo, or a disk that is not mounted?)`,
    );
  }
  if (!isDir)
    throw new PullbackError('BAD_ARGS', `source ${path} is neither a directory nor a file`);
}

/**
 * Keeps the outermost of overlapping sources (`~` and `~/Documents` → `~`): rsync would copy
 * the inner one twice otherwise. Returns the reduced list, in the given order, and one note per
 * source dropped.
 */
export function reduceOverlappingSources(sources: readonly string[]): {
  sources: string[];
  notes: string[];
} {
  const unique = [...new Set(sources)];
  const notes: string[] = [];
  const kept = unique.filter((s) => {
    const outer = unique.find((o) => o !== s && isWithin(s, o));
    if (outer)
      notes.push(`${s} is inside ${outer}, which is backed up already: not added separately`);
    return !outer;
  });
  return { sources: kept, notes };
}

/** A source that is not there right now (an unplugged disk): only ENOENT/ENOTDIR count, not EACCES. */
export function sourceIsMissing(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}

/**
 * The config with `added` sources: each must exist, and overlapping ones are reduced to the
 * outer one. Shared by `pullback init`, `pullback config add-source` and the tray's Preferences.
 */
export function addSources<T extends { sources: string[] }>(
  config: T,
  added: readonly string[],
  cwd: string = process.cwd(),
): { config: T; notes: string[] } {
  const fresh = added.map((s) => normalizeSource(s, cwd));
  for (const s of fresh) assertSourceExists(s);
  const { sources, notes } = reduceOverlappingSources([...config.sources, ...fresh]);
  return { config: { ...config, sources }, notes };
}
