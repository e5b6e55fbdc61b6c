import { median } from './exec.js';
import type { SizeResult, ToolResult } from './results.js';
import type { Phase, StageMarks } from './tools/types.js';

/** The numbers the report and the targets both read out of one size's results. */

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const sign = n < 0 ? '−' : '';
  const abs = Math.abs(n);
  if (abs < 1024) return `${sign}${abs} B`;
  if (abs < 1024 ** 2) return `${sign}${(abs / 1024).toFixed(1)} KiB`;
  if (abs < 1024 ** 3) return `${sign}${(abs / 1024 ** 2).toFixed(1)} MiB`;
  return `${sign}${(abs / 1024 ** 3).toFixed(2)} GiB`;
}

export const formatSeconds = (s: number) => (Number.isFinite(s) ? `${s.toFixed(2)} s` : '–');
export const formatRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '–');

/** A tool that ran (not skipped) in this size, by id. */
export function ranTool(size: SizeResult, id: string): ToolResult | undefined {
  const tool = size.tools.find((t) => t.id === id);
  return tool && !tool.skipped ? tool : undefined;
}

export const medianSeconds = (tool: ToolResult | undefined, phase: Phase) =>
  tool ? median(tool.seconds[phase]) : Number.NaN;

export const medianAdded = (tool: ToolResult | undefined, phase: Phase) =>
  tool ? median(tool.added[phase]) : Number.NaN;

/** The faster of restic and borg in a phase (the yardstick), with its name. */
export function fasterOfResticBorg(
  size: SizeResult,
  phase: Phase,
): { seconds: number; label: string } {
  const candidates = ['restic', 'borg']
    .map((id) => ({ seconds: medianSeconds(ranTool(size, id), phase), label: id }))
    .filter((c) => Number.isFinite(c.seconds));
  if (candidates.length === 0) return { seconds: Number.NaN, label: 'restic/borg' };
  return candidates.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

/** Where one backup's time went, in seconds per step (undefined where the tool has no such step). */
export interface StageSplit {
  /** request → the backup host accepted it (Pullback's handoff up to the pull) */
  handoff?: number;
  /** → rsync's first progress line: ssh to the client, the gate, both file lists */
  fileList?: number;
  /** first → last progress line: the transfer */
  transfer?: number;
  /** last progress line → the end: rsync's end, promotion, metadata, the reply */
  finish?: number;
  total: number;
}

export function splitStages(m: StageMarks): StageSplit {
  const start = m.accepted ?? 0;
  const first = m.firstProgress;
  const last = m.lastProgress;
  return {
    ...(m.accepted !== undefined ? { handoff: m.accepted } : {}),
    ...(first !== undefined ? { fileList: first - start } : {}),
    ...(first !== undefined && last !== undefined ? { transfer: last - first } : {}),
    ...(last !== undefined ? { finish: m.end - last } : {}),
    total: m.end,
  };
}

/** The run whose total is the median one: its split adds up (medians of parts would not). */
export function medianStages(tool: ToolResult | undefined, phase: Phase): StageSplit | undefined {
  const marks = tool?.stages[phase] ?? [];
  if (marks.length === 0) return undefined;
  const sorted = [...marks].sort((a, b) => a.end - b.end);
  return splitStages(sorted[Math.floor((sorted.length - 1) / 2)]!);
}

/** Disk busy and CPU seconds during the run whose wall time is the median one. */
export function medianLoad(tool: ToolResult | undefined, phase: Phase) {
  if (!tool || tool.load[phase].length === 0) return undefined;
  const order = tool.seconds[phase].map((s, i) => ({ s, i })).sort((a, b) => a.s - b.s);
  return tool.load[phase][order[Math.floor((order.length - 1) / 2)]!.i];
}

/** Milliseconds per 1,000 files between the smallest and the largest tree. */
export function slopeMsPerThousand(sizes: SizeResult[], id: string, phase: Phase): number {
  if (sizes.length < 2) return Number.NaN;
  const first = sizes[0]!;
  const last = sizes[sizes.length - 1]!;
  const dt = medianSeconds(ranTool(last, id), phase) - medianSeconds(ranTool(first, id), phase);
  return (dt * 1000) / ((last.tree.files - first.tree.files) / 1000);
}
