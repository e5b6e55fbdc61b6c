import { spawnSync } from 'node:child_process';
import type { BackendName } from '../storage/backend.js';

/**
 * Bytes a client's directory takes, each stored file counted once:
 *  hardlink  `du -sb`: apparent sizes, a file hardlinked into many snapshots counted once.
 *  btrfs     `btrfs filesystem du -s --raw`: exclusive + shared extents (snapshots share
 *            extents between different inodes, which du would count once per snapshot).
 * Undefined when the tool fails (the status is still worth showing without it).
 */
export function clientDirSize(dir: string, backend: BackendName): number | undefined {
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
  if (backend === 'btrfs') {
    const r = spawnSync('btrfs', ['filesystem', 'du', '-s', '--raw', dir], {
      encoding: 'utf8',
      env,
    });
    const fields =
      r.status === 0 ? r.stdout.trim().split('\n').pop()?.trim().split(/\s+/) : undefined;
    if (fields && fields.length >= 4) return Number(fields[1]) + Number(fields[2]);
    return undefined;
  }
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8', env });
  const bytes = r.status === 0 ? Number(r.stdout.split(/\s/)[0]) : NaN;
  return Number.isFinite(bytes) ? bytes : undefined;
}
