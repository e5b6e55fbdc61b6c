import { join } from 'node:path';
import { PullbackError, asPullbackError } from '../errors.js';
import { sourceTrees } from '../gate/trees.js';
import type { PullMeaning } from './exit-codes.js';
import type { PullProgress } from './progress.js';
import { buildPullArgv, type PullArgvOptions } from './rsync-argv.js';
import {
  failWhenNothingCopied,
  runPull,
  type PullOutcome,
  type RunPullOptions,
} from './run-pull.js';
import { openSshMaster, type SshMaster } from './ssh-master.js';
import type { PullStats } from './stats.js';
import { dropStaleTrees, ensureTreeDir, realTreeDir } from './tree-dirs.js';

/*
 * A whole pull: one rsync per tree (the gate serves one tree per sender, confined to it), one
 * after the other through one ssh connection, into the same `.incomplete/`, so the snapshot
 * still mirrors absolute paths: `<snapshot>/<tree>/…`. To its caller it is one rsync: one
 * progress stream and one outcome.
 */

export interface PullTreesOptions {
  remote: PullArgvOptions['remote'];
  /** the configured sources; nested ones are copied by their outer tree */
  sources: string[];
  excludes: string[];
  /** the run's `.incomplete/` (absolute, ends with "/") */
  dest: string;
  /** hardlink backend: the previous complete snapshot; each tree links against its own part */
  linkDest?: string;
  /** btrfs backend */
  inplace?: boolean;
  /**
   * An incremental: only these trees (those with changes) are pulled, each from the client's
   * own change list (rsync-argv.ts, listed pass)
   */
  listedTrees?: readonly string[];
  /** hardlink incremental: the newest snapshot, whose copy of an unlinked entry is its basis */
  copyDest?: string;
  /** a checksum pass */
  checksum?: boolean;
  /** hardlink backend: where rsync keeps cut-off files, outside what is promoted */
  partialDir?: string;
  bwlimitKiB?: number;
  ioTimeoutSeconds?: number;
  /** a 0700 directory of ours for ssh's control socket (the run's one-time secrets dir) */
  controlDir: string;
  /**
   * the master already on its way (serve opens it while it readies the run directory), on
   * `<controlDir>/ssh-control`; the pull closes it like its own
   */
  master?: Promise<SshMaster>;
  rsyncPath?: string;
  sshPath?: string;
}

/** The ssh master's control socket of a pull whose secrets are in `controlDir`. */
export function pullControlPath(controlDir: string): string {
  return join(controlDir, 'ssh-control');
}

const SEVERITY: Record<PullMeaning, number> = { ok: 0, vanished: 1, partial: 2, failed: 3 };
const MAX_WARNINGS = 100;

/**
 * One tree's progress as part of the whole: bytes and files add up over the trees; the
 * percentage gives each tree an equal share (a tree's size is known only once its own rsync
 * has its file list), so it only moves forward; the time left is known only in the last tree.
 */
function overallProgress(
  index: number,
  count: number,
  done: { bytes: number; files: number; filesTotal: number },
  p: PullProgress,
): PullProgress {
  const last = index === count - 1;
  const percent = Math.min(100, Math.max(0, p.percent));
  return {
    bytes: done.bytes + p.bytes,
    percent: Math.floor((index * 100 + percent) / count),
    bytesPerSecond: p.bytesPerSecond,
    etaSeconds: last ? p.etaSeconds : null,
    // rsync counts files only on the lines that end one: no count here is not a count of 0
    ...(p.filesTransferred !== undefined
      ? { filesTransferred: done.files + p.filesTransferred }
      : {}),
    ...(last && p.filesTotal !== undefined ? { filesTotal: done.filesTotal + p.filesTotal } : {}),
  };
}

function addStats(into: PullStats, more: PullStats): void {
  for (const key of ['files', 'bytesTransferred', 'totalBytes'] as const) {
    if (more[key] !== undefined) into[key] = (into[key] ?? 0) + more[key];
  }
}

const PINNED_PREFIX = /^\/proc\/self\/fd\/\d+\/(?:\.\/)?/;

/**
 * The client path an rsync error line names, for the snapshot's notCopied list: the sender
 * names entries below its pinned `/proc/self/fd/N/` root, the receiver relative to the tree.
 */
export function clientPathOf(tree: string, name: string): string {
  const root = tree === '/' ? '' : tree.replace(/\/$/, '');
  if (PINNED_PREFIX.test(name)) return `${root}/${name.replace(PINNED_PREFIX, '')}`;
  if (name === root || name.startsWith(`${root}/`)) return name;
  return `${root}/${name.replace(/^\.\//, '').replace(/^\/+/, '')}`;
}

/**
 * A tree's rsync has the tree as its transfer root, so an anchored pattern (`/home/u/.cache/`)
 * is rewritten relative to it, and one anchored in another tree does not apply here.
 */
export function excludesForTree(tree: string, excludes: readonly string[]): string[] {
  const root = tree === '/' ? '' : tree.replace(/\/$/, '');
  return excludes.flatMap((pattern) => {
    if (!pattern.startsWith('/') || root === '') return [pattern];
    return pattern.startsWith(`${root}/`) ? [pattern.slice(root.length)] : [];
  });
}

/** Runs every tree's rsync and folds their ends into one: the worst meaning, all warnings, summed stats. */
export async function pullTrees(
  o: PullTreesOptions,
  run: RunPullOptions = {},
): Promise<PullOutcome> {
  const all = sourceTrees(o.sources);
  if (all.length === 0) throw new PullbackError('BAD_REQUEST', 'at least one source is needed');
  const listed = o.listedTrees;
  const trees = listed ? all.filter((t) => listed.includes(t)) : all;
  if (trees.length === 0) throw new PullbackError('INTERNAL', 'a listed pass without a tree');
  const named = (tree: string, text: string) => (trees.length > 1 ? `${tree}: ${text}` : text);
  const stats: PullStats = {};
  const warnings: string[] = [];
  const notCopied: string[] = [];
  let worst: PullOutcome | undefined;
  let lastProgress: PullProgress | undefined;
  const done = { bytes: 0, files: 0, filesTotal: 0 };

  dropStaleTrees(o.dest, all);
  const controlPath = pullControlPath(o.controlDir);
  let master;
  try {
    master = await (o.master ??
      openSshMaster(o.remote, controlPath, { sshPath: o.sshPath, signal: run.signal }));
  } catch (err) {
    return {
      exitCode: -1,
      meaning: 'failed',
      warnings: [],
      notCopied,
      error: asPullbackError(err),
      stats,
    };
  }
  try {
    for (const [index, tree] of trees.entries()) {
      const linkDest = o.linkDest === undefined ? undefined : realTreeDir(o.linkDest, tree);
      const copyDest = o.copyDest === undefined ? undefined : realTreeDir(o.copyDest, tree);
      const argv = buildPullArgv({
        remote: o.remote,
        source: tree,
        excludes: excludesForTree(tree, o.excludes),
        dest: `${ensureTreeDir(o.dest, tree).replace(/\/$/, '')}/`,
        ...(linkDest !== undefined ? { linkDest: `${linkDest}/` } : {}),
        ...(copyDest !== undefined ? { copyDest: `${copyDest}/` } : {}),
        ...(listed ? { listed: true } : {}),
        ...(o.checksum ? { checksum: true } : {}),
        inplace: o.inplace,
        ...(o.partialDir !== undefined ? { partialDir: o.partialDir } : {}),
        bwlimitKiB: o.bwlimitKiB,
        ioTimeoutSeconds: o.ioTimeoutSeconds,
        controlPath,
        rsyncPath: o.rsyncPath,
        sshPath: o.sshPath,
      });
      const outcome = await runPull(argv, {
        ...run,
        emptyIsFailure: false,
        onProgress: (p) => {
          lastProgress = overallProgress(index, trees.length, done, p);
          run.onProgress?.(lastProgress);
        },
      });
      addStats(stats, outcome.stats);
      warnings.push(...outcome.warnings.map((w) => named(tree, w)));
      notCopied.push(...outcome.notCopied.map((name) => clientPathOf(tree, name)));
      done.bytes += outcome.lastProgress?.bytes ?? 0;
      done.files += outcome.lastProgress?.filesTransferred ?? 0;
      done.filesTotal += outcome.lastProgress?.filesTotal ?? 0;
      if (!worst || SEVERITY[outcome.meaning] > SEVERITY[worst.meaning]) worst = outcome;
      if (outcome.error) {
        worst = {
          ...outcome,
          error: new PullbackError(outcome.error.code, named(tree, outcome.error.message)),
        };
        break; // the run failed: .incomplete stays for the next run to resume
      }
    }
  } finally {
    await master.close();
  }
  const verdict = failWhenNothingCopied(
    {
      meaning: worst!.meaning,
      warnings: warnings.slice(0, MAX_WARNINGS),
      ...(worst!.error ? { error: worst!.error } : {}),
    },
    stats,
  );
  return {
    exitCode: worst!.exitCode,
    ...verdict,
    notCopied,
    stats,
    ...(lastProgress ? { lastProgress } : {}),
  };
}
