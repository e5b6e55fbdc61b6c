import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

export interface LoopFilesystem {
  /** the temporary directory holding the image and the mount point */
  dir: string;
  mountPoint: string;
  device: string;
  cleanup(): void;
}

/**
 * A fresh filesystem on a loop device (root only), for tests and the btrfs demo. cleanup()
 * unmounts, always detaches, and removes the image.
 */
export function makeLoopFilesystem(
  type: 'btrfs' | 'ext4',
  sizeMiB: number,
  mountOptions?: string,
): LoopFilesystem {
  const dir = mkdtempSync(join(tmpdir(), `pullback-loop-${type}-`));
  const image = join(dir, 'image');
  run('truncate', ['-s', `${sizeMiB}M`, image]);
  if (type === 'btrfs') run('mkfs.btrfs', ['-q', image]);
  else run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
  const device = run('losetup', ['-f', '--show', image]);
  const mountPoint = join(dir, 'mnt');
  mkdirSync(mountPoint);
  try {
    run('mount', [...(mountOptions ? ['-o', mountOptions] : []), device, mountPoint]);
  } catch (err) {
    spawnSync('losetup', ['-d', device]);
    throw err;
  }
  return {
    dir,
    mountPoint,
    device,
    cleanup() {
      if (spawnSync('umount', [mountPoint]).status !== 0) spawnSync('umount', ['-l', mountPoint]);
      spawnSync('losetup', ['-d', device]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
