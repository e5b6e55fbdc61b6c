import { existsSync, mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asPullbackError } from '../core/errors.js';
import { execTool } from './exec.js';

/** A btrfs filesystem on a loop device, mounted the way DESIGN §5 suggests (compress=zstd). */
export interface BtrfsVolume {
  mountPoint: string;
  /** a new, empty filesystem at the same mount point (a fresh repository for one run) */
  reformat(): Promise<void>;
  destroy(): Promise<void>;
}

const MOUNT_OPTIONS = 'compress=zstd';

/** Makes the volume, or returns why it cannot (not root, no loop devices, no btrfs). */
export async function createBtrfsVolume(dir: string, bytes: number): Promise<BtrfsVolume | string> {
  if (process.getuid?.() !== 0) return 'needs root (a loop device and mount)';
  for (const tool of ['/usr/sbin/losetup', '/usr/sbin/mkfs.btrfs', '/usr/bin/btrfs']) {
    if (!existsSync(tool) && !existsSync(tool.replace('/usr/sbin/', '/sbin/')))
      return `${tool} is missing (apt-get install btrfs-progs util-linux)`;
  }
  const image = join(dir, 'btrfs.img');
  const mountPoint = join(dir, 'btrfs');
  mkdirSync(mountPoint, { recursive: true });
  writeFileSync(image, '');
  truncateSync(image, bytes);
  let device: string;
  try {
    device = (await execTool('losetup', ['--find', '--show', image])).stdout.trim();
  } catch (err) {
    rmSync(image, { force: true });
    return `no loop device: ${asPullbackError(err).message}`;
  }
  let mounted = false;
  const format = async () => {
    if (mounted) await execTool('umount', [mountPoint]);
    mounted = false;
    await execTool('mkfs.btrfs', ['-f', '-q', device]);
    await execTool('mount', ['-o', MOUNT_OPTIONS, device, mountPoint]);
    mounted = true;
  };
  try {
    await format();
  } catch (err) {
    await execTool('losetup', ['-d', device]).catch(() => undefined);
    rmSync(image, { force: true });
    return `cannot make a btrfs filesystem: ${asPullbackError(err).message}`;
  }
  return {
    mountPoint,
    reformat: format,
    async destroy() {
      if (mounted) await execTool('umount', [mountPoint]).catch(() => undefined);
      mounted = false;
      await execTool('losetup', ['-d', device]).catch(() => undefined);
      rmSync(image, { force: true });
    },
  };
}
