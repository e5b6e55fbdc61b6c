import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { PULLBACK_VERSION } from '../core/version.js';

/** What a reader needs to compare these numbers with their own machine. */
export interface MachineFacts {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  workFilesystem: string;
  versions: Record<string, string>;
}

function firstLine(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error) return 'not installed';
  return ((r.stdout || r.stderr || '').trim().split('\n')[0] ?? '').trim();
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    return 'unknown';
  }
}

export function machineFacts(workDir: string): MachineFacts {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    os: osName(),
    workFilesystem: firstLine('stat', ['-f', '-c', '%T', workDir]),
    versions: {
      pullback: PULLBACK_VERSION,
      node: process.version,
      rsync: firstLine('rsync', ['--version']).replace(/\s+/g, ' '),
      openssh: firstLine('ssh', ['-V']),
      restic: firstLine('restic', ['version']),
      borg: firstLine('borg', ['--version']),
    },
  };
}
