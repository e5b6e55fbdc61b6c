import { existsSync, lstatSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PullbackError } from '../errors.js';

/*
 * Where a restored path goes on this machine:
 *   default      next to the original: "<name> (restored 2026-11-26 18:01)"
 *   --to DIR     DIR/<last component>; refused if that exists (nothing is merged into it)
 *   --in-place   the original's place; what is there is first moved to
 *                "<name> (replaced 2026-11-26 18:01)", and the caller says so
 * A name that is taken gets " 2", " 3"… so nothing is ever overwritten.
 * Its errors are shown by the CLI and the tray's Restore window alike: they name no flag.
 */

/** "2026-11-26 18:01", local time. */
export function stamp(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())} ${p(now.getHours())}:${p(now.getMinutes())}`;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `base`, or `base 2`, `base 3`… whichever does not exist yet. */
export function freeName(base: string): string {
  if (!exists(base)) return base;
  for (let n = 2; ; n++) if (!exists(`${base} ${n}`)) return `${base} ${n}`;
}

export interface Placement {
  dest: string;
  /** --in-place: move what is at `dest` here first */
  moveAsideTo?: string;
}

export function placeRestore(
  path: string,
  o: { to?: string; inPlace?: boolean; now: Date },
): Placement {
  if (path === '/')
    throw new PullbackError('BAD_ARGS', 'restore a directory inside "/", not "/" itself');
  if (o.to !== undefined) {
    const dest = join(o.to, basename(path));
    if (exists(dest))
      throw new PullbackError(
        'BAD_ARGS',
        `${JSON.stringify(dest)} already exists: restore into another folder, or move it away first (nothing is merged or overwritten)`,
      );
    return { dest };
  }
  if (o.inPlace) {
    return exists(path)
      ? { dest: path, moveAsideTo: freeName(`${path} (replaced ${stamp(o.now)})`) }
      : { dest: path };
  }
  return { dest: freeName(join(dirname(path), `${basename(path)} (restored ${stamp(o.now)})`)) };
}

export function parentExists(dest: string): boolean {
  return existsSync(dirname(dest));
}
