// `npm run demo -- --backend btrfs`: the demo's storage on a real btrfs, made for the occasion on
// a loop device (root only), and the proof that a snapshot is a read-only subvolume.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeLoopFilesystem } from '../test/support/loop-fs.js';

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
  const fs = makeLoopFilesystem('btrfs', 512, 'compress=zstd');
  const storage = join(fs.mountPoint, 'storage');
  mkdirSync(storage, { mode: 0o700 });
  console.log(
    `demo: storage on a fresh btrfs (512 MiB image on ${fs.device}, mounted with compress=zstd at ${fs.mountPoint})`,
  );
  return {
    storage,
    // The storage is what a successful demo leaves behind, so it stays mounted for browsing.
    removalHint: `umount ${fs.mountPoint} && losetup -d ${fs.device} && rm -r ${fs.dir}`,
    remove: () => fs.cleanup(),
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
