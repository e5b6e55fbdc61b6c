import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * A `serve` killed with SIGKILL leaves its rsync receiver running until it next writes to the
 * dead pipe, which may be a while (the file list phase is silent). Before a new run writes into
 * .incomplete, the old receiver must be gone: two rsyncs in one directory would mix their files.
 * We hold the client's lock when calling this, so any receiver into `dest`, or into a tree below
 * it (one rsync per source tree), is an orphan.
 */
export function findReceiversInto(dest: string): number[] {
  const uid = process.getuid?.();
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (uid !== undefined && statSync(`/proc/${name}`).uid !== uid) continue;
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (
        basename(argv[0] ?? '') === 'rsync' &&
        argv.some((arg) => arg === dest || (dest.endsWith('/') && arg.startsWith(dest)))
      )
        pids.push(Number(name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

export async function killOrphanedReceivers(dest: string, timeoutMs = 10_000): Promise<number[]> {
  const pids = findReceiversInto(dest);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (findReceiversInto(dest).length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return pids;
}
