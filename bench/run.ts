// `npm run bench`: Pullback against bare rsync, restic and borg on one generated tree, all over
// SSH to loopback. Progress on stderr, the Markdown table on stdout and in bench/results/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asPullbackError } from '../core/errors.js';
import { parseBenchArgs, type BenchOptions } from './args.js';
import { syncDisks } from './disk-usage.js';
import { timed } from './exec.js';
import { measureHandoff } from './handoff-overhead.js';
import { measureIndexScan } from './index-scan.js';
import { measureClone } from './clone-alone.js';
import { machineFacts } from './machine.js';
import { ProgressLine } from './progress.js';
import { formatBytes, renderMarkdown } from './report.js';
import { checkTargets } from './targets.js';
import { measureTunnel, tunnelOptions } from './tunnel.js';
import type { BenchResult, SizeResult, ToolResult } from './results.js';
import { loadAverage, loadSince, sampleLoad } from './system-load.js';
import {
  changeOnePercent,
  generateTree,
  restoreTree,
  rewriteSameSize,
  type TreeChange,
  type TreeSpec,
} from './tree.js';
import { BareRsyncTool } from './tools/bare-rsync.js';
import { BorgTool } from './tools/borg.js';
import { PullbackTool } from './tools/pullback.js';
import { ResticTool } from './tools/restic.js';
import { PHASES, PHASE_LABELS, type BenchTool, type Phase } from './tools/types.js';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function emptyResult(tool: BenchTool): ToolResult {
  const perPhase = <T>(): Record<Phase, T[]> => ({ full: [], 'no-change': [], 'one-percent': [] });
  return {
    id: tool.id,
    label: tool.label,
    seconds: perPhase(),
    added: perPhase(),
    stages: perPhase(),
    load: perPhase(),
    rewriteDetected: [],
  };
}

/** Tools set up so far: torn down at the end, and on Ctrl-C (a mounted loop device must not stay). */
const started: BenchTool[] = [];

async function teardownAll(): Promise<void> {
  for (const tool of started.splice(0)) await tool.teardown().catch(() => undefined);
}

/** One timed backup: the wall time, the storage it added, where its time went. */
async function timedBackup(
  tool: BenchTool,
  result: ToolResult,
  phase: Phase,
  work: string,
  progress: ProgressLine,
) {
  await syncDisks();
  const before = sampleLoad(work);
  const { seconds } = await timed(() => tool.backup((d) => progress.update(d)));
  result.load[phase].push(loadSince(before, work));
  result.seconds[phase].push(seconds);
  const stages = tool.lastStages?.();
  if (stages) result.stages[phase].push(stages);
  const added = await tool.measureAdded();
  result.added[phase].push(added);
  return { seconds, added };
}

/**
 * After the three timed phases: a same-size rewrite with the old mtime put back, one more
 * (untimed) backup, and whether it holds the new content.
 */
async function rewriteDetected(tool: BenchTool, spec: TreeSpec): Promise<boolean> {
  const rewrite = rewriteSameSize(spec);
  await syncDisks();
  await tool.backup(() => {});
  return (await tool.readLatest(rewrite.relativePath)).equals(rewrite.content);
}

/** One tree size, every tool, `options.runs` rounds; the handoff too when asked. */
async function runSize(
  options: BenchOptions,
  files: number,
  work: string,
  progress: ProgressLine,
  measureHandoffToo: boolean,
): Promise<{ size: SizeResult; handoff?: BenchResult['handoff'] }> {
  const startedAt = Date.now();
  const loadAtStart = loadAverage();
  const source = join(work, 'source');
  const spec: TreeSpec = {
    root: source,
    files,
    bigFiles: options.bigFiles,
    bigFileBytes: options.bigFileBytes,
    appendBytes: options.appendBytes,
    seed: options.seed,
  };
  progress.start(
    `generating ${files} files + ${options.bigFiles} big files (seed ${options.seed})`,
  );
  const tree = generateTree(spec);
  progress.done(`${formatBytes(tree.bytes)} in ${tree.dirs} directories`);
  progress.start('change index scan');
  const indexScan = await measureIndexScan(source);
  progress.done(`${indexScan.entries} entries in ${indexScan.seconds.toFixed(2)} s`);
  progress.start('hardlink clone alone');
  const clone = await measureClone(source, work);
  progress.done(`one cp ${clone.oneCp.toFixed(2)} s, in lanes ${clone.lanes.toFixed(2)} s`);

  const hardlink = new PullbackTool({ backend: 'hardlink', source, work, volumeBytes: 0 });
  const rsync = new BareRsyncTool({ source, work });
  const volumeBytes = Math.max(1024 ** 3, 4 * tree.bytes);
  const all: BenchTool[] = [
    hardlink,
    new PullbackTool({ backend: 'btrfs', source, work, volumeBytes }),
    rsync,
    new BareRsyncTool({ source, work, flags: 'minimal' }),
    new ResticTool({ source, work }),
    new BorgTool({ source, work }),
  ];
  const tools = options.tools ? all.filter((t) => options.tools!.includes(t.id)) : all;
  const results = new Map(tools.map((t) => [t, emptyResult(t)]));
  const ready: BenchTool[] = [];
  try {
    for (const tool of tools) {
      started.push(tool);
      progress.start(`setting up ${tool.label}`);
      const reason = await tool
        .setup()
        .catch((err) => `setup failed: ${asPullbackError(err).toLine()}`);
      if (reason) {
        results.get(tool)!.skipped = reason;
        progress.done(`skipped: ${reason}`);
      } else {
        ready.push(tool);
        progress.done('ready');
      }
    }

    let change: TreeChange | undefined;
    for (let run = 1; run <= options.runs; run++) {
      for (const tool of [...ready]) {
        const result = results.get(tool)!;
        const label = `${files} files, run ${run}/${options.runs} ${tool.label}`;
        try {
          await tool.freshRepository(run);
          for (const phase of PHASES) {
            if (phase === 'one-percent') change = changeOnePercent(spec);
            progress.start(`${label}, ${PHASE_LABELS[phase]}`);
            const { seconds, added } = await timedBackup(tool, result, phase, work, progress);
            progress.done(`${seconds.toFixed(2)} s, added ${formatBytes(added)}`);
          }
          progress.start(`${label}, same-size rewrite`);
          const detected = await rewriteDetected(tool, spec);
          result.rewriteDetected.push(detected);
          progress.done(
            detected ? 'new content backed up' : 'missed: the old content is backed up',
          );
        } catch (err) {
          result.skipped = `failed in run ${run}: ${asPullbackError(err).toLine()}`;
          progress.note(`${tool.label} ${result.skipped}`);
          ready.splice(ready.indexOf(tool), 1);
        } finally {
          restoreTree(spec);
        }
      }
    }

    let handoff: BenchResult['handoff'] | undefined;
    if (measureHandoffToo) {
      handoff = { skipped: 'needs both Pullback (hardlink) and bare rsync' };
      const host = hardlink.backupHost();
      const peer = rsync.peer();
      if (host && peer && ready.includes(hardlink) && ready.includes(rsync)) {
        progress.start(`handoff overhead, ${options.handoffSamples} samples`);
        handoff = await measureHandoff(host, peer, work, options.handoffSamples, (i) =>
          progress.update(`sample ${i}`),
        );
        progress.done(`first byte after ${handoff.firstByte.toFixed(3)} s (median)`);
      }
    }
    const size: SizeResult = {
      tree: {
        files,
        smallBytes: tree.bytes - options.bigFiles * options.bigFileBytes,
        bigFiles: options.bigFiles,
        bigFileBytes: options.bigFileBytes,
        appendBytes: options.appendBytes,
        bytes: tree.bytes,
        dirs: tree.dirs,
      },
      change: change ?? { files: 0, changedBytes: 0, changedBlockBytes: 0 },
      tools: tools.map((t) => results.get(t)!),
      indexScan,
      clone,
      loadAverage: { start: loadAtStart, end: loadAverage() },
      durationSeconds: (Date.now() - startedAt) / 1000,
    };
    return { size, ...(handoff ? { handoff } : {}) };
  } finally {
    await teardownAll();
    rmSync(source, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const options = parseBenchArgs(process.argv.slice(2));
  const startedAt = new Date();
  const work = mkdtempSync(join(options.work ?? tmpdir(), 'pullback-bench-'));
  const progress = new ProgressLine();
  process.once('SIGINT', () => {
    progress.note('interrupted: cleaning up');
    void teardownAll().finally(() => {
      rmSync(work, { recursive: true, force: true });
      process.exit(130);
    });
  });
  try {
    const sizes: SizeResult[] = [];
    let handoff: BenchResult['handoff'] = { skipped: 'not measured' };
    for (const [i, files] of options.files.entries()) {
      const measured = await runSize(options, files, work, progress, i === 0);
      sizes.push(measured.size);
      if (measured.handoff) handoff = measured.handoff;
    }
    const tunnel = options.tunnelRuns
      ? await measureTunnel(tunnelOptions(options, work), progress)
      : undefined;
    const result: BenchResult = {
      date: startedAt.toISOString().slice(0, 10),
      command: [
        'npm run bench',
        ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
      ].join(' '),
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
      runs: options.runs,
      sizes,
      machine: machineFacts(work),
      handoff,
      ...(tunnel ? { tunnel } : {}),
    };
    const markdown = renderMarkdown(result, checkTargets(result));
    process.stdout.write(markdown);
    const out =
      options.out ??
      (options.quick ? undefined : join(PROJECT_ROOT, 'bench', 'results', `${result.date}.md`));
    if (out) {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, markdown);
      progress.note(`results written to ${out}`);
    }
    if (options.json)
      writeFileSync(
        options.json,
        JSON.stringify({ ...result, targets: checkTargets(result) }, null, 2),
      );
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${asPullbackError(err).toLine()}`);
    process.exit(1);
  },
);
