import { scanTrees } from '../core/change-index/scan.js';
import { median } from './exec.js';

/** The change index's scan of a tree: what every Pullback incremental pays on the client first. */
export interface IndexScanTime {
  seconds: number;
  entries: number;
}

/** Median of three scans of `source` (warm cache, as right after the tree was written). */
export async function measureIndexScan(source: string): Promise<IndexScanTime> {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await scanTrees([source], []));
  return {
    seconds: median(runs.map((r) => r.durationMs / 1000)),
    entries: runs[0]!.entries,
  };
}
