import { readFileSync } from 'node:fs';
import { descendantsOf } from '../core/process-tree.js';

/**
 * Where one backup's CPU went, per process role (client's one-shot sshd, the backup host's
 * sshd, serve, the tunnel's relay and proxy, rsync, ssh): /proc is sampled every 50 ms and each
 * process's own user + system time (not its reaped children's) is kept at its last sighting.
 * A process's last 50 ms can be missed; the sampling itself is billed to the client.
 */
export type CpuByRole = Record<string, number>;

const TICKS_PER_SECOND = 100;
const INTERVAL_MS = 50;

interface Seen {
  ppid: number;
  start: number;
  cmd: string;
  first: number;
  last: number;
}

function ownTicks(pid: number): { ticks: number; start: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ticks: Number(rest[11]) + Number(rest[12]), start: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

export class ProcessCpu {
  private readonly seen = new Map<number, Seen>();
  private readonly timer: NodeJS.Timeout;

  /** Counts from now: what the processes alive at this moment already used is not counted. */
  constructor() {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), INTERVAL_MS);
  }

  private sample(baseline: boolean): void {
    const pids = [process.pid, ...descendantsOf([process.pid]).map((p) => p.pid)];
    for (const pid of pids) {
      const now = ownTicks(pid);
      if (!now) continue;
      const known = this.seen.get(pid);
      if (known && known.start === now.start) {
        known.last = now.ticks;
        known.cmd = commandLine(pid) || known.cmd; // a shell that exec'd its command
        continue;
      }
      const info = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const ppid = Number(info.slice(info.lastIndexOf(')') + 2).split(' ')[1]);
      this.seen.set(pid, {
        ppid,
        start: now.start,
        cmd: commandLine(pid),
        first: baseline ? now.ticks : 0,
        last: now.ticks,
      });
    }
  }

  /** Whether `pid` runs below the bench's backup host sshd (whose config path says so). */
  private onBackupHost(pid: number): boolean {
    for (let p = this.seen.get(pid); p; p = this.seen.get(p.ppid))
      if (p.cmd.includes('pullback-backup-host-')) return true;
    return false;
  }

  private role(pid: number, p: Seen, firstServe: number | undefined): string {
    if (pid === process.pid) return 'client: Pullback (handoff, ssh2, the tunnel’s end)';
    const words = p.cmd.split(' ');
    const program = words[0]!.split('/').pop()!;
    if (program === 'rsync')
      return p.cmd.includes('--server') ? 'client: rsync sender' : 'backup host: rsync receiver';
    if (program === 'ssh') return 'backup host: ssh (the pull)';
    if (program === 'sshd' || program.startsWith('sshd:'))
      return this.onBackupHost(pid) ? 'backup host: sshd' : 'client: one-shot sshd';
    // node <cli> <command> …
    const command = words[2];
    if (command === 'tunnel-proxy') return 'backup host: `pullback tunnel-proxy`';
    if (command === 'gate') return 'client: `pullback gate`';
    if (command === 'serve')
      return pid === firstServe
        ? 'backup host: `pullback serve` (the run, the relay)'
        : 'backup host: `pullback serve` (the tunnel channel)';
    return 'other';
  }

  stop(): CpuByRole {
    clearInterval(this.timer);
    this.sample(false);
    const serves = [...this.seen.entries()].filter(
      ([pid, p]) => pid !== process.pid && p.cmd.split(' ')[2] === 'serve',
    );
    const firstServe = serves.sort((a, b) => a[1].start - b[1].start)[0]?.[0];
    const byRole: CpuByRole = {};
    for (const [pid, p] of this.seen) {
      const seconds = (p.last - p.first) / TICKS_PER_SECOND;
      if (seconds <= 0) continue;
      const role = this.role(pid, p, firstServe);
      byRole[role] = (byRole[role] ?? 0) + seconds;
    }
    return byRole;
  }
}
