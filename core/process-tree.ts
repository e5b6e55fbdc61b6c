import { readdirSync, readFileSync } from 'node:fs';

/** One process as /proc/<pid>/stat describes it; (pid, startTime) names it without pid reuse. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  /** clock ticks since boot (field 22), tells a process from a later one with the same pid */
  startTime: number;
  /** CPU time in clock ticks: its own and that of the children it has waited for (fields 14–17) */
  cpuTicks: number;
}

export function readProcessInfo(pid: number): ProcessInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: parse after the last ')'
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, pgid] = [rest[0] ?? '', Number(rest[1]), Number(rest[2])];
  const startTime = Number(rest[19]);
  if (!Number.isInteger(ppid) || !Number.isInteger(startTime)) return undefined;
  const cpuTicks = [11, 12, 13, 14].reduce((sum, i) => sum + (Number(rest[i]) || 0), 0);
  return { pid, ppid, pgid, state, startTime, cpuTicks };
}

/** Alive means: exists, is not a zombie, and (if given) started at the time we saw it start. */
export function isProcessAlive(pid: number, startTime?: number): boolean {
  const info = readProcessInfo(pid);
  if (!info || info.state === 'Z' || info.state === 'X') return false;
  return startTime === undefined || info.startTime === startTime;
}

export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProcessInfo(Number(name));
    if (info) out.push(info);
  }
  return out;
}

/**
 * Every living descendant of the given roots, following ppid links. Unlike a process-group
 * kill this also finds children that called setsid (sshd's session child does).
 */
export function descendantsOf(roots: readonly number[]): ProcessInfo[] {
  const all = listProcesses();
  const children = new Map<number, ProcessInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found: ProcessInfo[] = [];
  const queue = [...roots];
  const seen = new Set<number>(roots);
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Remembers every process of a tree ever seen, so orphans (reparented to init) can still be killed. */
export class ProcessTreeTracker {
  private readonly known = new Map<number, number>();
  constructor(private readonly rootPid: number) {
    const root = readProcessInfo(rootPid);
    if (root) this.known.set(rootPid, root.startTime);
  }

  /** Adds the current descendants of the root and of every process already known to be alive. */
  refresh(): void {
    const alive = this.alive().map((p) => p.pid);
    for (const p of descendantsOf([this.rootPid, ...alive])) {
      if (!this.known.has(p.pid)) this.known.set(p.pid, p.startTime);
    }
  }

  alive(): { pid: number; startTime: number }[] {
    return [...this.known]
      .filter(([pid, startTime]) => isProcessAlive(pid, startTime))
      .map(([pid, startTime]) => ({ pid, startTime }));
  }

  private signalAll(signal: NodeJS.Signals): void {
    const alive = this.alive();
    // the group the root leads (it was spawned detached) catches children not yet seen;
    // only while a known member lives, so a recycled group id is never hit
    if (alive.some(({ pid }) => readProcessInfo(pid)?.pgid === this.rootPid)) {
      try {
        process.kill(-this.rootPid, signal);
      } catch {
        // the group emptied meanwhile
      }
    }
    for (const { pid } of alive) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile, or not ours to signal
      }
    }
  }

  /** SIGTERM to the whole tree, then SIGKILL to whatever is left after graceMs. */
  async killAll(graceMs = 2000): Promise<void> {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const deadline = Date.now() + graceMs;
    this.refresh();
    while (this.alive().length > 0 && Date.now() < deadline) {
      this.signalAll('SIGTERM');
      await sleep(50);
      this.refresh();
    }
    for (let i = 0; i < 100 && this.alive().length > 0; i++) {
      this.signalAll('SIGKILL');
      await sleep(20);
      this.refresh();
    }
  }
}
