import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { descendantsOf, readProcessInfo } from '../core/process-tree.js';

/**
 * Counters around one timed backup, to tell the disk from the tools: the CPU time of the tool's
 * own processes, the machine's CPU time (other work on it counts too), time with a CPU idle
 * waiting for I/O, and how long the work directory's disk was busy (io_ticks).
 */
export interface LoadCounters {
  /**
   * CPU time of the bench's own process tree: the tool's processes (and, through their sshd,
   * the other side's), unlike the machine-wide figures not inflated by other work on the box
   */
  toolCpuSeconds: number;
  cpuBusySeconds: number;
  iowaitSeconds: number;
  /** undefined when the disk's stat file cannot be found (e.g. an overlay or tmpfs) */
  diskBusySeconds: number | undefined;
}

const TICKS_PER_SECOND = 100; // USER_HZ, the unit of /proc/stat on Linux

function cpuCounters(): { busy: number; iowait: number } {
  // cpu  user nice system idle iowait irq softirq steal …
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  const [user, nice, system, , iowait, irq, softirq, steal] = fields.map(Number);
  return {
    busy: (user! + nice! + system! + irq! + softirq! + steal!) / TICKS_PER_SECOND,
    iowait: iowait! / TICKS_PER_SECOND,
  };
}

/** /sys/dev/block/M:m/stat of the device holding `path`; its 10th field is io_ticks in ms. */
function diskBusy(path: string): number | undefined {
  const dev = statSync(path).dev;
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  try {
    const fields = readFileSync(`/sys/dev/block/${major}:${minor}/stat`, 'utf8')
      .trim()
      .split(/\s+/);
    return Number(fields[9]) / 1000;
  } catch {
    return undefined;
  }
}

/**
 * Every tick a process of ours ever ran is, exactly once, in a live process of our tree: its
 * own while it lives, then in the cutime/cstime of the parent that reaped it (sshd reaps the
 * sessions it ran, and the bench reaps sshd). Only orphans adopted by init escape.
 */
function ownTreeCpuSeconds(): number {
  const tree = [readProcessInfo(process.pid), ...descendantsOf([process.pid])];
  return tree.reduce((sum, p) => sum + (p?.cpuTicks ?? 0), 0) / TICKS_PER_SECOND;
}

export function sampleLoad(path: string): LoadCounters {
  const cpu = cpuCounters();
  return {
    toolCpuSeconds: ownTreeCpuSeconds(),
    cpuBusySeconds: cpu.busy,
    iowaitSeconds: cpu.iowait,
    diskBusySeconds: diskBusy(path),
  };
}

export function loadSince(before: LoadCounters, path: string): LoadCounters {
  const now = sampleLoad(path);
  return {
    toolCpuSeconds: now.toolCpuSeconds - before.toolCpuSeconds,
    cpuBusySeconds: now.cpuBusySeconds - before.cpuBusySeconds,
    iowaitSeconds: now.iowaitSeconds - before.iowaitSeconds,
    diskBusySeconds:
      now.diskBusySeconds === undefined || before.diskBusySeconds === undefined
        ? undefined
        : now.diskBusySeconds - before.diskBusySeconds,
  };
}

/** The 1-minute load average now: how busy the machine was (other work shares the cores). */
export const loadAverage = (): number => loadavg()[0]!;
