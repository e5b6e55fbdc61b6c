import { lstatSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { PullbackError } from '../errors.js';

/**
 * Why a file root is about to run could be changed by someone else, or undefined if it is
 * root-owned and neither it nor any directory above it is writable by group or others.
 */
export function untrustedReason(path: string): string | undefined {
  let current: string;
  try {
    current = realpathSync(path);
  } catch {
    return `${path} does not exist`;
  }
  for (;;) {
    const st = lstatSync(current);
    if (st.uid !== 0) return `${current} is owned by uid ${st.uid}, not root`;
    if ((st.mode & 0o022) !== 0) {
      return `${current} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`;
    }
    if (current === '/') return undefined;
    current = dirname(current);
  }
}

/** The real path of `path` if root may run it; otherwise a HELPER_FAILED error saying why and what to do. */
export function assertRootOwnedChain(path: string, what: string, hint: string): string {
  const reason = untrustedReason(path);
  if (reason)
    throw new PullbackError(
      'HELPER_FAILED',
      `${what} must be root-owned and writable only by root, but ${reason}; ${hint}`,
    );
  return realpathSync(path);
}
