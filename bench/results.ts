import type { HandoffTimings } from './handoff-overhead.js';
import type { MachineFacts } from './machine.js';
import type { TreeChange } from './tree.js';
import type { Phase } from './tools/types.js';

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
}

export interface BenchResult {
  date: string;
  command: string;
  durationSeconds: number;
  runs: number;
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
  machine: MachineFacts;
  tools: ToolResult[];
  handoff: HandoffTimings | { skipped: string };
}

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: 'met' | 'missed' | 'not measured';
  /** for a miss: where the time or the bytes go */
  why?: string;
}
