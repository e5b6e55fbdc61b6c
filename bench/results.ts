import type { HandoffTimings } from './handoff-overhead.js';
import type { IndexScanTime } from './index-scan.js';
import type { CloneTime } from './clone-alone.js';
import type { MachineFacts } from './machine.js';
import type { LoadCounters } from './system-load.js';
import type { TreeChange } from './tree.js';
import type { TunnelResult } from './tunnel.js';
import type { Phase, StageMarks } from './tools/types.js';

/** Everything one bench invocation measured; rendered by report.ts, saved as JSON on request. */
export interface ToolResult {
  id: string;
  label: string;
  /** set when the tool did not run (or stopped): why */
  skipped?: string;
  /** wall seconds per phase, one entry per run */
  seconds: Record<Phase, number[]>;
  /** storage each backup added, bytes, one entry per run */
  added: Record<Phase, number[]>;
  /** where each backup's time went (Pullback, bare rsync), one entry per run */
  stages: Record<Phase, StageMarks[]>;
  /** the machine's CPU, I/O wait and disk time during each backup, one entry per run */
  load: Record<Phase, LoadCounters[]>;
  /** per run: did the backup after a same-size, same-mtime rewrite hold the new content? */
  rewriteDetected: boolean[];
}

/** One tree size: its tree, the 1 %-change, every tool's results. */
export interface SizeResult {
  tree: {
    files: number;
    smallBytes: number;
    bigFiles: number;
    bigFileBytes: number;
    appendBytes: number;
    bytes: number;
    dirs: number;
  };
  change: TreeChange;
  tools: ToolResult[];
  /** the change index's scan of the tree (core/change-index/scan.ts), on its own */
  indexScan: IndexScanTime;
  /** the backup host's hardlink clone of a tree like it (bench/clone-alone.ts); absent in older results */
  clone?: CloneTime;
  /** the 1-minute load average when this size started and when it ended */
  loadAverage: { start: number; end: number };
  durationSeconds: number;
}

export interface BenchResult {
  date: string;
  command: string;
  durationSeconds: number;
  runs: number;
  sizes: SizeResult[];
  machine: MachineFacts;
  handoff: HandoffTimings | { skipped: string };
  /** tunnel mode against direct mode (bench/tunnel.ts); absent with --tunnel-runs 0 */
  tunnel?: TunnelResult;
}

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: 'met' | 'missed' | 'not measured';
  /** for a miss: where the time or the bytes go */
  why?: string;
}
