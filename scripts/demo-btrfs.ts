// `npm run demo -- --backend btrfs`: the demo's storage on a real btrfs, made for the occasion on
// a loop device (root only), and the proof that a snapshot is a read-only subvolume.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

export interface DemoBtrfs {
  storage: string;
  /** how to remove it by hand, once the user has looked */
  removalHint: string;
  /** after a failed demo: unmount, detach and delete it all */
  remove(): void;
}

export function makeDemoBtrfs(): DemoBtrfs {
  if (process.getuid?.() !== 0) {
    throw new Error(
      '--backend btrfs makes a btrfs filesystem on a loop device and needs root (sudo npm run demo -- --backend btrfs)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'pullback-demo-btrfs-'));
  const image = join(dir, 'btrfs.img');
  run('truncate', ['-s', '512M', image]);
  run('mkfs.btrfs', ['-q', image]);
  const device = run('losetup', ['-f', '--show', image]);
  const mountPoint = join(dir, 'mnt');
  mkdirSync(mountPoint);
  run('mount', ['-o', 'compress=zstd', device, mountPoint]);
  const storage = join(mountPoint, 'storage');
  mkdirSync(storage, { mode: 0o700 });
  console.log(
    `demo: storage on a fresh btrfs (512 MiB image on ${device}, mounted with compress=zstd at ${mountPoint})`,
  );
  return {
    storage,
    // The storage is what a successful demo leaves behind, so it stays mounted for browsing.
    removalHint: `umount ${mountPoint} && losetup -d ${device} && rm -r ${dir}`,
    remove() {
      if (spawnSync('umount', [mountPoint]).status !== 0) spawnSync('umount', ['-l', mountPoint]);
      spawnSync('losetup', ['-d', device]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Prints what btrfs itself says about a snapshot: a subvolume, flagged read-only. */
export function showReadOnlySubvolume(path: string): void {
  const show = run('btrfs', ['subvolume', 'show', path]);
  const flags = /^\s*Flags:\s*(.*)$/m.exec(show)?.[1] ?? '?';
  const ro = run('btrfs', ['property', 'get', '-ts', path, 'ro']);
  console.log(`demo: ${path} is a btrfs subvolume (Flags: ${flags}; ${ro})`);
  const write = spawnSync('touch', [join(path, 'try-to-write')], { encoding: 'utf8' });
  console.log(
    `demo: writing into it fails even for root: ${write.stderr.trim() || 'UNEXPECTEDLY SUCCEEDED'}`,
  );
}
