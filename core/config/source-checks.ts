import { PullbackError } from '../errors.js';

/**
 * The checks a new list of sources gets before it is saved, by `pullback config add-source`
 * and the tray's Preferences alike: a newly added source must exist, and a source inside
 * another one is left out with a note (`~` and `~/Documents` back up `~` once). Pure: the
 * caller says what exists. A source already configured that is missing now (an unplugged
 * disk) is kept: the backup skips it and says so.
 */
export interface CheckedSources {
  sources: string[];
  /** one sentence per source left out, for the user */
  notes: string[];
}

/** "/home/alice/" → "/home/alice" (and "/" stays "/"). */
function trimSlashes(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

function isInside(inner: string, outer: string): boolean {
  return outer === '/' ? inner !== '/' : inner.startsWith(`${outer}/`);
}

export function checkSources(
  wanted: readonly string[],
  previous: readonly string[],
  exists: (path: string) => boolean,
): CheckedSources {
  const known = new Set(previous.map(trimSlashes));
  const paths = [
    ...new Set(
      wanted
        .map((p) => p.trim())
        .filter(Boolean)
        .map(trimSlashes),
    ),
  ];
  const missing = paths.filter((p) => p.startsWith('/') && !known.has(p) && !exists(p));
  if (missing.length > 0) {
    const list = missing.map((p) => `"${p}"`).join(', ');
    throw new PullbackError(
      'BAD_CONFIG',
      `sources: ${list} ${missing.length === 1 ? 'does' : 'do'} not exist on this machine; nothing was saved`,
    );
  }
  const notes: string[] = [];
  const sources = paths.filter((p) => {
    const outer = paths.find((o) => o !== p && isInside(p, o));
    if (outer) notes.push(`${p} is inside ${outer}, which is backed up already: left out.`);
    return !outer;
  });
  return { sources, notes };
}
