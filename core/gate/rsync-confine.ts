import { spawnSync } from 'node:child_process';
import { PullbackError } from '../errors.js';

/** The first rsync with --confine-root, which every sender the gate runs gets (DESIGN §8). */
export const RSYNC_NEEDED = '3.5.0';

/** Whether `rsync --help` lists an option, asked of the binary itself (backports keep old version numbers). */
export function rsyncHasOption(rsyncPath: string, option: string): boolean {
  const help = spawnSync(rsyncPath, ['--help'], {
    encoding: 'utf8',
    timeout: 10_000,
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
  });
  return (help.stdout ?? '').split('\n').some((line) => line.trimStart().startsWith(option));
}

/**
 * Fails closed when the rsync the gate would run cannot confine its filter rules
 * (`--confine-root`, rsync 3.5.0): without it a backup host can read files outside the trees.
 */
export function assertRsyncConfines(rsyncPath: string): void {
  if (!rsyncHasOption(rsyncPath, '--confine-root=')) {
    throw new PullbackError(
      'MISSING_TOOL',
      `${rsyncPath} has no --confine-root: the gate needs rsync ${RSYNC_NEEDED} or later on this machine`,
    );
  }
}
