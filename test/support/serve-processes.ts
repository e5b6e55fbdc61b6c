import { readdirSync, readFileSync } from 'node:fs';
import { readProcessInfo } from '../../core/process-tree.js';

/** The `pullback serve --client NAME` processes running right now (found through /proc). */
export function servePids(client: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('serve');
      if (at > 0 && argv[at + 1] === '--client' && argv[at + 2] === client) {
        const state = readProcessInfo(Number(name))?.state;
        if (state && state !== 'Z') pids.push(Number(name));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Resident memory of a process in bytes (0 once it is gone). */
export function rssBytes(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The nearest ancestor of `pid` whose command is sshd: the SSH session that runs it. */
export function sshdSessionOf(pid: number): number | undefined {
  for (let p = readProcessInfo(pid)?.ppid; p && p > 1; p = readProcessInfo(p)?.ppid) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sshd')) return p;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
