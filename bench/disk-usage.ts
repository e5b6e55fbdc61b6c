import { execTool } from './exec.js';

/** Flushes dirty pages so one phase's writeback is not billed to the next. */
export async function syncDisks(): Promise<void> {
  await execTool('sync', []);
}

/**
 * Apparent bytes under `path` (`du -sb`). GNU du counts a hardlinked inode once per
 * invocation, so the size of a hardlink repository grows only by what a snapshot really added.
 */
export async function apparentBytes(path: string): Promise<number> {
  const { stdout } = await execTool('du', ['-sb', path]);
  return parseInt(stdout.split('\t')[0] ?? '', 10);
}

/**
 * Bytes of `subvolume` that no other subvolume shares (`btrfs filesystem du` "Exclusive"):
 * what a btrfs snapshot added over the previous one. Deleted subvolumes (the sealed run's
 * .incomplete) are cleaned up lazily and share extents until then: wait for them first.
 */
export async function btrfsExclusiveBytes(subvolume: string, filesystem: string): Promise<number> {
  // a commit wakes the cleaner now rather than at the next 30 s commit interval
  await execTool('btrfs', ['filesystem', 'sync', filesystem]);
  await execTool('btrfs', ['subvolume', 'sync', filesystem]);
  await syncDisks();
  const { stdout } = await execTool('btrfs', ['filesystem', 'du', '-s', '--raw', subvolume]);
  // "     Total   Exclusive  Set shared  Filename" then one line of numbers
  const line = stdout.trim().split('\n').pop() ?? '';
  const exclusive = parseInt(line.trim().split(/\s+/)[1] ?? '', 10);
  return exclusive;
}
