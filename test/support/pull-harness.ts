import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PullArgvOptions } from '../../core/pull/rsync-argv.js';
import type { PullOutcome, RunPullOptions } from '../../core/pull/run-pull.js';
import { pullTrees } from '../../core/pull/pull-trees.js';
import type { PullProgress } from '../../core/pull/progress.js';
import type { ClientRepository } from '../../core/storage/repository.js';
import type { SnapshotInfo } from '../../core/storage/metadata.js';

export interface BackupOnceOptions {
  remote: PullArgvOptions['remote'];
  sources: string[];
  excludes?: string[];
  bwlimitKiB?: number;
  /** the receiving rsync (default: rsync on PATH) */
  rsyncPath?: string;
  run?: RunPullOptions;
  /** called once prepareRun has answered (resumed or not) */
  onPrepared?: (resumed: boolean) => void;
}

export interface BackupOnceResult {
  outcome: PullOutcome;
  /** the new snapshot, when rsync's outcome allowed promotion */
  info?: SnapshotInfo;
  progress: PullProgress[];
  resumed: boolean;
}

/**
 * One backup the way `pullback serve` runs it, minus the handoff: lock, prepare, real rsync
 * over real ssh, promote when rsync says the copy is usable, release.
 */
export async function backupOnce(
  repo: ClientRepository,
  o: BackupOnceOptions,
): Promise<BackupOnceResult> {
  const lock = await repo.acquireLock();
  const controlDir = mkdtempSync(join(tmpdir(), 'pullback-ctl-'));
  try {
    const run = await repo.prepareRun();
    o.onPrepared?.(run.resumed);
    const progress: PullProgress[] = [];
    const startedAt = new Date();
    const outcome = await pullTrees(
      {
        remote: o.remote,
        sources: o.sources,
        excludes: o.excludes ?? [],
        dest: run.dest,
        linkDest: run.linkDest,
        inplace: run.inplace,
        partialDir: run.partialDir,
        bwlimitKiB: o.bwlimitKiB,
        controlDir,
        ...(o.rsyncPath ? { rsyncPath: o.rsyncPath } : {}),
      },
      {
        ...o.run,
        onProgress: (p) => {
          progress.push(p);
          o.run?.onProgress?.(p);
        },
      },
    );
    if (outcome.error) return { outcome, progress, resumed: run.resumed };
    const finishedAt = new Date();
    const info = await repo.promote({
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      sources: o.sources,
      excludes: o.excludes ?? [],
      rsyncExit: outcome.exitCode,
      warnings: outcome.warnings,
      notCopied: outcome.notCopied,
      stats: outcome.stats,
    });
    return { outcome, info, progress, resumed: run.resumed };
  } finally {
    rmSync(controlDir, { recursive: true, force: true });
    await lock.release();
  }
}

/**
 * backupOnce cut off once `afterBytes` have arrived: `kill` is SIGKILL of the receiving rsync
 * (nothing saved), `cancel` a cancel (SIGTERM: rsync keeps the cut-off file as partial data).
 * Throws unless the run was really cut off and nothing was promoted.
 */
export async function interruptedBackupOnce(
  repo: ClientRepository,
  o: BackupOnceOptions,
  how: 'kill' | 'cancel',
  afterBytes: number,
): Promise<BackupOnceResult> {
  let pid = 0;
  let cut = false;
  const cancel = new AbortController();
  const result = await backupOnce(repo, {
    ...o,
    run: {
      ...o.run,
      signal: cancel.signal,
      onSpawn: (p) => (pid = p),
      onProgress: (p) => {
        if (cut || p.bytes < afterBytes) return;
        cut = true;
        if (how === 'kill') process.kill(pid, 'SIGKILL');
        else cancel.abort();
      },
    },
  });
  if (!cut) {
    const why =
      result.outcome.error?.toLine() ??
      `rsync exit ${result.outcome.exitCode}, progress bytes ${result.progress.map((p) => p.bytes).join(' ')}`;
    throw new Error(`the run ended before it could be interrupted (${why})`);
  }
  if (result.info) throw new Error(`the interrupted run was promoted as ${result.info.id}`);
  return result;
}
