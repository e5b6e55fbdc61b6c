import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { buildRestoreArgv } from '../../core/storage/restore-argv.js';

/**
 * Fidelity checks for backups: a restored tree must equal its source in content (checksums),
 * hardlinks, ACLs, xattrs, sparse-ness aside (-S only changes allocation), owners, modes,
 * times, symlinks and special files, and hold nothing extra.
 */

/**
 * Asserts rsync finds nothing to change: `--itemize-changes` lists every difference, `--delete`
 * also names files only `restoredDir` has. No line is ignored, the top directory's included:
 * a correct restore copies its attributes too.
 */
export function assertTreesIdentical(srcDir: string, restoredDir: string): void {
  const slash = (p: string) => (p.endsWith('/') ? p : p + '/');
  const r = spawnSync(
    'rsync',
    [
      '-naHAXSc',
      '--delete',
      '--itemize-changes',
      '--numeric-ids',
      '--',
      slash(srcDir),
      slash(restoredDir),
    ],
    { encoding: 'buffer', env: { ...process.env, LC_ALL: 'C' } },
  );
  const stdout = r.stdout.toString('utf8');
  assert.equal(r.status, 0, `rsync compare failed (${r.status}): ${r.stderr.toString('utf8')}`);
  assert.equal(stdout.trim(), '', `${restoredDir} differs from ${srcDir}:\n${stdout}`);
}

/** Restores `snapshotDir` (a snapshot, or a directory inside one) to `targetDir` with the users' command. */
export function restoreSnapshot(snapshotDir: string, targetDir: string): void {
  const [program, ...args] = buildRestoreArgv(snapshotDir, targetDir);
  const r = spawnSync(program!, args, { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`restore ${snapshotDir} → ${targetDir} failed (${r.status}): ${r.stderr}`);
}
