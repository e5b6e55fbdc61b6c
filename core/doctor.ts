import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RSYNC_NEEDED, rsyncHasOption } from './gate/rsync-confine.js';
import { isValidClientName } from './storage/client-name.js';
import { futureSnapshotWarning, newestSnapshotId } from './storage/snapshot-id.js';

/** What `pullback doctor` checks: the programs Pullback runs, their versions, known holes. */
export interface ToolCheck {
  name: string;
  path?: string;
  version?: string;
  ok: boolean;
  warning?: string;
}

const TOOLS: { name: string; paths: string[]; versionArgs: string[]; parse: RegExp }[] = [
  {
    name: 'rsync',
    paths: ['/usr/bin/rsync', '/usr/local/bin/rsync'],
    versionArgs: ['--version'],
    parse: /rsync\s+version\s+v?(\d+\.\d+\.\d+)/,
  },
  {
    name: 'ssh',
    paths: ['/usr/bin/ssh', '/usr/local/bin/ssh'],
    versionArgs: ['-V'],
    parse: /OpenSSH_(\d+\.\d+\S*)/,
  },
  {
    name: 'sshd',
    paths: ['/usr/sbin/sshd', '/usr/local/sbin/sshd'],
    versionArgs: ['-V'],
    parse: /OpenSSH_(\d+\.\d+\S*)/,
  },
  {
    name: 'ionice',
    paths: ['/usr/bin/ionice'],
    versionArgs: ['--version'],
    parse: /(\d+\.\d+(?:\.\d+)?)/,
  },
];

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** rsync before 3.4.0 has CVE-2024-12084…12088; distributions backport, so warn, don't refuse. */
export function rsyncWarning(version: string): string | undefined {
  if (compareVersions(version, '3.4.0') >= 0) return undefined;
  return `rsync ${version} is older than 3.4.0 and may have CVE-2024-12084..12088 (heap overflow, info leak, path traversal); make sure your distribution backported the fixes, or upgrade`;
}

/**
 * The gate runs every sender with --confine-root (rsync 3.5.0) and refuses to run without it,
 * so on a client an rsync without it means no backup at all: a problem, not a warning.
 */
export function rsyncConfineProblem(path: string, version: string | undefined): string | undefined {
  if (rsyncHasOption(path, '--confine-root=DIR')) return undefined;
  return `rsync ${version ?? '(unknown version)'} has no --confine-root: Pullback needs rsync ${RSYNC_NEEDED} or later on the client (the gate refuses to run without it, so that a backup host cannot read outside the sources through filter rules)`;
}

export function checkTools(): ToolCheck[] {
  return TOOLS.map((tool) => {
    const path = tool.paths.find((p) => existsSync(p));
    if (!path)
      return {
        name: tool.name,
        ok: false,
        warning: `${tool.name} not found (looked in ${tool.paths.join(', ')})`,
      };
    const out = spawnSync(path, tool.versionArgs, { encoding: 'utf8' });
    const version = tool.parse.exec(`${out.stdout}\n${out.stderr}`)?.[1];
    if (tool.name === 'rsync') {
      const problem = rsyncConfineProblem(path, version);
      if (problem) return { name: tool.name, path, version, ok: false, warning: problem };
    }
    const warning = tool.name === 'rsync' && version ? rsyncWarning(version) : undefined;
    return { name: tool.name, path, version, ok: true, warning };
  });
}

/**
 * On a backup host: each client whose newest snapshot id is dated in the future (this clock is
 * behind, or was ahead when it was made). Reads directory names only; unreadable ones are skipped.
 */
export function checkSnapshotClock(storage: string, now = new Date()): string[] {
  const names = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return names(storage)
    .filter(isValidClientName)
    .map((client) => {
      const newest = newestSnapshotId(names(join(storage, client, 'snapshots')));
      const warning = newest && futureSnapshotWarning(newest, now);
      return warning ? `${client}: ${warning}` : undefined;
    })
    .filter((w): w is string => w !== undefined);
}
