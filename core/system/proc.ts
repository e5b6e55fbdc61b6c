import { readFileSync } from 'node:fs';
import { descendantsOf as descendantPids } from '../process-tree.js';

/** What /proc/<pid>/status says about one process (ids, capabilities): the evidence behind S4. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** real, effective, saved, filesystem */
  uids: number[];
  capInh: bigint;
  capPrm: bigint;
  capEff: bigint;
  capBnd: bigint;
  capAmb: bigint;
  /** R, S, D, T, Z… */
  state: string;
  /** argv joined by spaces; empty while the process is between exec's new memory and its args, or exiting */
  cmdline: string;
  /** the kernel's name for it (status Name:), there even when cmdline is empty */
  comm: string;
  /** it exec'd while being read (cmdline before and after the status differ): the ids may be either program's */
  execing: boolean;
}

function readCmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
}

export function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const before = readCmdline(pid);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const cmdline = readCmdline(pid);
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    const cap = (name: string) => BigInt(`0x${field(name) || '0'}`);
    return {
      pid,
      ppid: Number(field('PPid')),
      uids: field('Uid').split(/\s+/).map(Number),
      capInh: cap('CapInh'),
      capPrm: cap('CapPrm'),
      capEff: cap('CapEff'),
      capBnd: cap('CapBnd'),
      capAmb: cap('CapAmb'),
      state: field('State').slice(0, 1),
      cmdline,
      comm: field('Name'),
      execing: before !== cmdline,
    };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Every live process below `pid` (not `pid` itself), parents before children. */
export function descendantsOf(pid: number): ProcessInfo[] {
  return descendantPids([pid])
    .map((p) => readProcess(p.pid))
    .filter((p): p is ProcessInfo => p !== undefined);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/**
 * SIGKILLs `pid` and everything below it. The tree is frozen first (SIGSTOP, rescanned until
 * no new process shows up) so that nothing can fork its way out between the scan and the kill.
 */
export function killTree(pid: number): void {
  const frozen = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const fresh = [pid, ...descendantsOf(pid).map((p) => p.pid)].filter((p) => !frozen.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      signal(p, 'SIGSTOP');
      frozen.add(p);
    }
  }
  for (const p of frozen) signal(p, 'SIGKILL');
}
