import { readFileSync } from 'node:fs';
import { PullbackError } from '../errors.js';

/** The first rsync with --confine-root, which every sender the gate runs gets (DESIGN §8). */
export const RSYNC_NEEDED = '3.5.0';

/** Larger than any rsync build; a bigger file is not the rsync we know. */
const MAX_RSYNC_BYTES = 64 * 1024 * 1024;

/**
 * Whether the rsync binary knows an option, read from the binary itself: its `--help` text is
 * compiled in (`--confine-root=DIR`). Reading, not running it: in system mode the gate's rsync
 * carries cap_dac_read_search, and the only process that may hold it is the sender (S4).
 * Version numbers would not do either: distributions backport fixes without changing them.
 */
export function rsyncHasOption(rsyncPath: string, helpText: string): boolean {
  let binary: Buffer;
  try {
    binary = readFileSync(rsyncPath);
  } catch {
    return false;
  }
  return binary.length <= MAX_RSYNC_BYTES && binary.includes(helpText);
}

/**
 * Fails closed when the rsync the gate would run cannot confine its filter rules
 * (`--confine-root`, rsync 3.5.0): without it a backup host can read files outside the trees.
 */
export function assertRsyncConfines(rsyncPath: string): void {
  if (!rsyncHasOption(rsyncPath, '--confine-root=DIR')) {
    throw new PullbackError(
      'MISSING_TOOL',
      `${rsyncPath} has no --confine-root: the gate needs rsync ${RSYNC_NEEDED} or later on this machine`,
    );
  }
}
