import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { asPullbackError } from '../core/errors.js';
import type { BenchOptions } from './args.js';
import { makeTestClient, startBackupHost, type BackupHost } from '../test/support/backup-host.js';
import { measureCipherRates, type CipherRate } from './cipher-rates.js';
import { syncDisks } from './disk-usage.js';
import { timed } from './exec.js';
import { startPeerLogin } from './peer-login.js';
import { ProcessCpu, type CpuByRole } from './process-cpu.js';
import type { ProgressLine } from './progress.js';
import { StageClock } from './stage-clock.js';
import { loadSince, sampleLoad } from './system-load.js';
import { generateTree } from './tree.js';
import { backupOnce } from './tools/pullback.js';

/*
 * Tunnel mode against direct mode (issue 13 §4): full Pullback user-mode backups of the same
 * tree to one loopback backup host, `reach: 'direct'` and `reach: 'tunnel'` taking turns, and
 * what the tunnel's second layer of encryption costs (cipher-rates.ts).
 */

export const REACHES = ['direct', 'tunnel'] as const;
export type Reach = (typeof REACHES)[number];

export interface ReachRuns {
  /** wall seconds of each whole backup (handoff, pull, promotion) */
  seconds: number[];
  /** of which the pull: the backup host's `accepted` to the end */
  transferSeconds: number[];
  /** CPU of the bench's process tree (client, one-shot sshd, backup host's sshd, serve, rsync, ssh) */
  cpuSeconds: number[];
  /** the same, per process role (process-cpu.ts) */
  cpuByRole: CpuByRole[];
}

export interface TunnelRow {
  tree: string;
  files: number;
  bytes: number;
  runs: Record<Reach, ReachRuns>;
}

export type TunnelResult =
  | { rows: TunnelRow[]; ciphers: CipherRate[]; runs: number; cipherBytes: number }
  | { skipped: string };

export interface TunnelOptions {
  work: string;
  runs: number;
  /** the small-files tree's size; 0: no such row (--quick) */
  smallFiles: number;
  bigFiles: number;
  bigFileBytes: number;
  seed: number;
  /** how much each cipher measurement encrypts; 0: none (--quick) */
  cipherBytes: number;
}

/** From the bench's options: the first tree size's small files, the big files, --tunnel-runs. */
export function tunnelOptions(options: BenchOptions, work: string): TunnelOptions {
  return {
    work,
    runs: options.tunnelRuns,
    smallFiles: options.quick ? 0 : options.files[0]!,
    bigFiles: options.bigFiles,
    bigFileBytes: options.bigFileBytes,
    seed: options.seed,
    cipherBytes: options.quick ? 0 : 256 * 1024 * 1024,
  };
}

async function fullBackup(
  host: BackupHost,
  source: string,
  reach: Reach,
  name: string,
  work: string,
) {
  const client = await makeTestClient(host, { sources: [source], name });
  mkdirSync(join(host.storage, client.name), { recursive: true });
  try {
    await syncDisks();
    const clock = new StageClock();
    const before = sampleLoad(work);
    const watch = new ProcessCpu();
    let byRole: CpuByRole = {};
    const { seconds } = await timed(() =>
      backupOnce(client, {
        reach,
        onStage: (stage) => stage === 'transferring' && clock.accepted(),
      }),
    ).finally(() => (byRole = watch.stop()));
    const cpu = loadSince(before, work).toolCpuSeconds;
    const marks = clock.end();
    return { seconds, cpu, transfer: marks.end - (marks.accepted ?? 0), byRole };
  } finally {
    rmSync(join(host.storage, client.name), { recursive: true, force: true });
    rmSync(client.dir, { recursive: true, force: true });
  }
}

async function measureTree(
  host: BackupHost,
  o: TunnelOptions,
  tree: { label: string; files: number; bigFiles: number },
  progress: ProgressLine,
): Promise<TunnelRow> {
  const source = join(o.work, `tunnel-${tree.label}`);
  const generated = generateTree({
    root: source,
    files: tree.files,
    bigFiles: tree.bigFiles,
    bigFileBytes: o.bigFileBytes,
    appendBytes: 0,
    seed: o.seed,
  });
  const runs = (): ReachRuns => ({
    seconds: [],
    transferSeconds: [],
    cpuSeconds: [],
    cpuByRole: [],
  });
  const row: TunnelRow = {
    tree: tree.label,
    files: tree.files + tree.bigFiles,
    bytes: generated.bytes,
    runs: { direct: runs(), tunnel: runs() },
  };
  try {
    for (let run = 1; run <= o.runs; run++) {
      // the two take turns, so a busy moment on the machine does not land on one mode only
      for (const reach of run % 2 ? REACHES : [...REACHES].reverse()) {
        progress.start(`tunnel vs direct, ${tree.label}, run ${run}/${o.runs}, ${reach}`);
        const r = await fullBackup(
          host,
          source,
          reach,
          `bench-${tree.files ? 'small' : 'big'}-${reach}-${run}`,
          o.work,
        );
        row.runs[reach].seconds.push(r.seconds);
        row.runs[reach].transferSeconds.push(r.transfer);
        row.runs[reach].cpuSeconds.push(r.cpu);
        row.runs[reach].cpuByRole.push(r.byRole);
        progress.done(`${r.seconds.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s`);
      }
    }
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
  return row;
}

/** The whole comparison; a failure is reported as the section's skip reason, not the bench's. */
export async function measureTunnel(
  o: TunnelOptions,
  progress: ProgressLine,
): Promise<TunnelResult> {
  const storage = join(o.work, 'tunnel-storage');
  mkdirSync(storage, { recursive: true });
  let host: BackupHost | undefined;
  try {
    host = await startBackupHost({ storage, backend: 'hardlink' });
    const rows = [
      await measureTree(host, o, { label: 'big files', files: 0, bigFiles: o.bigFiles }, progress),
    ];
    if (o.smallFiles > 0)
      rows.push(
        await measureTree(
          host,
          o,
          { label: 'small files', files: o.smallFiles, bigFiles: 0 },
          progress,
        ),
      );
    if (o.cipherBytes === 0) return { rows, ciphers: [], runs: o.runs, cipherBytes: 0 };
    progress.start('cipher throughput');
    const peer = await startPeerLogin(o.work, 'tunnel-ciphers', '127.0.0.2', '127.0.0.3');
    try {
      const ciphers = await measureCipherRates(peer, o.cipherBytes, o.work);
      progress.done(`${ciphers.length} measured`);
      return { rows, ciphers, runs: o.runs, cipherBytes: o.cipherBytes };
    } finally {
      await peer.sshd.stop();
    }
  } catch (err) {
    const skipped = `failed: ${asPullbackError(err).toLine()}`;
    progress.note(`tunnel vs direct ${skipped}`);
    return { skipped };
  } finally {
    await host?.stop();
    rmSync(storage, { recursive: true, force: true });
  }
}
