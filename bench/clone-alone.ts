import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hardlinkClone } from '../core/storage/hardlink-clone.js';
import { median } from './exec.js';

/**
 * The backup host's hardlink clone of a snapshot like the tree (an incremental's first step on
 * the hardlink backend), on its own: one `cp -a --link` and the clone in lanes that Pullback
 * makes (core/storage/hardlink-clone.ts), each the median of three, warm cache.
 */
export interface CloneTime {
  /** one cp -a --link of the whole snapshot */
  oneCp: number;
  /** hardlinkClone: one cp per core below the chain */
  lanes: number;
}

export async function measureClone(source: string, work: string): Promise<CloneTime> {
  const basis = join(work, 'clone-basis');
  mkdirSync(basis, { recursive: true });
  // a snapshot holds the tree below a chain of directories (its absolute path): one level here
  execFileSync('cp', ['-a', '--link', '--', source, join(basis, 'tree')], { stdio: 'ignore' });
  const oneCp: number[] = [];
  const lanes: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const dest = join(work, 'clone-run');
      let t = performance.now();
      execFileSync('cp', ['-a', '--link', '--', basis, dest], { stdio: 'ignore' });
      oneCp.push((performance.now() - t) / 1000);
      rmSync(dest, { recursive: true, force: true });
      t = performance.now();
      await hardlinkClone(basis, dest);
      lanes.push((performance.now() - t) / 1000);
      rmSync(dest, { recursive: true, force: true });
    }
  } finally {
    rmSync(basis, { recursive: true, force: true });
  }
  return { oneCp: median(oneCp), lanes: median(lanes) };
}
