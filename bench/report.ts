import { median } from './exec.js';
import {
  fasterOfResticBorg,
  formatBytes,
  formatRatio,
  formatSeconds,
  medianAdded,
  medianLoad,
  medianSeconds,
  medianStages,
  ranTool,
  slopeMsPerThousand,
} from './figures.js';
import type { BenchResult, SizeResult, TargetCheck, ToolResult } from './results.js';
import { PHASES, PHASE_LABELS } from './tools/types.js';
import { tunnelSection } from './tunnel-report.js';

export { formatBytes, formatSeconds } from './figures.js';

const VERDICT = { met: '✅ met', missed: '❌ missed', 'not measured': '– not measured' } as const;
const cell = (text: string) => text.replace(/\|/g, '\\|');

function rewriteCell(tool: ToolResult): string {
  if (tool.rewriteDetected.length === 0) return '–';
  const yes = tool.rewriteDetected.filter(Boolean).length;
  if (yes === tool.rewriteDetected.length) return '✅ yes';
  if (yes === 0) return '❌ no: the old content';
  return `${yes} of ${tool.rewriteDetected.length} runs`;
}

function treeLine(size: SizeResult): string {
  const t = size.tree;
  return (
    `${t.files.toLocaleString('en')} small files (${formatBytes(t.smallBytes)}) in ${t.dirs.toLocaleString('en')} directories` +
    (t.bigFiles ? ` + ${t.bigFiles} × ${formatBytes(t.bigFileBytes)} files` : '') +
    ` = ${formatBytes(t.bytes)}. 1 %-change: ${size.change.files} files, ${formatBytes(size.change.changedBytes)} changed` +
    ` (${formatBytes(size.change.changedBlockBytes)} in 4 KiB blocks)` +
    (t.bigFiles ? `, of which ${formatBytes(t.appendBytes)} appended to one big file.` : '.') +
    ` Load average ${size.loadAverage.start.toFixed(2)} at the start, ${size.loadAverage.end.toFixed(2)} at the end;` +
    ` ${(size.durationSeconds / 60).toFixed(1)} min.`
  );
}

function mainTable(size: SizeResult, runs: number): string[] {
  const rsync = ranTool(size, 'rsync');
  const lines = [
    '| tool | full | no-change | 1 %-change | full × bare rsync | no-change × faster of restic/borg | 1 %-change × faster of restic/borg | storage added (full / 1 %-change) | same-size rewrite detected? |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  const yardstick = {
    'no-change': fasterOfResticBorg(size, 'no-change').seconds,
    'one-percent': fasterOfResticBorg(size, 'one-percent').seconds,
  };
  for (const tool of size.tools) {
    if (tool.skipped) {
      lines.push(`| ${tool.label} | skipped: ${cell(tool.skipped)} | | | | | | | |`);
      continue;
    }
    const s = (phase: (typeof PHASES)[number]) => median(tool.seconds[phase]);
    lines.push(
      `| ${tool.label} | ${formatSeconds(s('full'))} | ${formatSeconds(s('no-change'))} | ${formatSeconds(s('one-percent'))} ` +
        `| ${formatRatio(s('full') / medianSeconds(rsync, 'full'))} ` +
        `| ${formatRatio(s('no-change') / yardstick['no-change'])} | ${formatRatio(s('one-percent') / yardstick['one-percent'])} ` +
        `| ${formatBytes(medianAdded(tool, 'full'))} / ${formatBytes(medianAdded(tool, 'one-percent'))} | ${rewriteCell(tool)} |`,
    );
  }
  const scan = size.indexScan;
  lines.push(
    `| change index scan alone (client; ${scan.entries.toLocaleString('en')} entries, find walk) | – | ${formatSeconds(scan.seconds)} | ${formatSeconds(scan.seconds)} | | | | | |`,
  );
  if (size.clone)
    lines.push(
      `| hardlink clone alone (backup host; in lanes, one \`cp -a --link\` per core) | – | – | ${formatSeconds(size.clone.lanes)} (one cp: ${formatSeconds(size.clone.oneCp)}) | | | | | |`,
    );
  if (runs > 1) {
    lines.push('', 'Every run, seconds (full / no-change / 1 %-change):', '');
    for (const tool of size.tools.filter((t) => !t.skipped))
      lines.push(
        `- ${tool.label}: ${PHASES.map((p) => tool.seconds[p].map((x) => x.toFixed(2)).join(', ')).join(' / ')}`,
      );
  }
  return lines;
}

function stageTable(size: SizeResult): string[] {
  const lines = [
    '| tool | phase | handoff | connect + gate + file lists | transfer | end + promotion + reply | total | CPU (its processes) | CPU (machine) | disk busy | I/O wait |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const tool of size.tools.filter((t) => !t.skipped)) {
    for (const phase of PHASES) {
      const s = medianStages(tool, phase);
      const load = medianLoad(tool, phase);
      const f = (n: number | undefined) => (n === undefined ? '–' : formatSeconds(n));
      const pass = tool.stages[phase][0]?.pass;
      lines.push(
        `| ${tool.label} | ${PHASE_LABELS[phase]}${pass ? ` (${pass} pass)` : ''} | ${f(s?.handoff)} | ${f(s?.fileList)} | ${f(s?.transfer)} | ${f(s?.finish)} ` +
          `| ${f(s?.total ?? medianSeconds(tool, phase))} | ${f(load?.toolCpuSeconds)} | ${f(load?.cpuBusySeconds)} ` +
          `| ${f(load?.diskBusySeconds)} | ${f(load?.iowaitSeconds)} |`,
      );
    }
  }
  return lines;
}

function growthTable(sizes: SizeResult[]): string[] {
  const header = sizes.map((s) => `${s.tree.files.toLocaleString('en')} files`);
  const lines = [
    `| tool | phase | ${header.join(' | ')} | slope (ms per 1,000 files) |`,
    `|---|---|${header.map(() => '---:').join('|')}|---:|`,
  ];
  for (const tool of sizes[0]!.tools) {
    for (const phase of PHASES) {
      const times = sizes.map((s) => formatSeconds(medianSeconds(ranTool(s, tool.id), phase)));
      const slope = slopeMsPerThousand(sizes, tool.id, phase);
      lines.push(
        `| ${tool.label} | ${PHASE_LABELS[phase]} | ${times.join(' | ')} | ${Number.isFinite(slope) ? slope.toFixed(1) : '–'} |`,
      );
    }
  }
  const scans = sizes.map((s) => formatSeconds(s.indexScan.seconds));
  const first = sizes[0]!;
  const last = sizes[sizes.length - 1]!;
  const scanSlope =
    ((last.indexScan.seconds - first.indexScan.seconds) * 1000) /
    ((last.tree.files - first.tree.files) / 1000);
  lines.push(
    `| change index scan alone (client) | no-change, 1 %-change | ${scans.join(' | ')} | ${scanSlope.toFixed(1)} |`,
  );
  return lines;
}

function handoffSection(result: BenchResult): string[] {
  if ('skipped' in result.handoff) return [`Not measured: ${result.handoff.skipped}`];
  const h = result.handoff;
  return [
    `A one-file tree, the file changed before each run; median of ${h.samples} runs, seconds from \`runBackup\` being called.`,
    '',
    '| step reached | median |',
    '|---|---:|',
    `| SSH to the backup host up | ${formatSeconds(h.connected)} |`,
    `| one-shot sshd listening | ${formatSeconds(h.oneShotReady)} |`,
    `| request accepted (\`pullback serve\` started, lock, run prepared) | ${formatSeconds(h.accepted)} |`,
    `| **rsync’s first byte** (first progress line at the client) | **${formatSeconds(h.firstByte)}** |`,
    `| done (promoted, reply received) | ${formatSeconds(h.done)} |`,
    `| for comparison: a whole bare rsync pull of the same tree | ${formatSeconds(h.bareRsync)} |`,
    '',
    'Start-up costs inside a handoff, measured alone (median of 5):',
    '',
    '| what | median |',
    '|---|---:|',
    `| the account's shell as a plain sshd starts it (\`$SHELL -c true\`, SSH_CLIENT set: bash reads ~/.bashrc) | ${formatSeconds(h.shellWithRc)} |`,
    `| the same with SHLVL=1, as the one-shot sshd starts the gate (bash skips ~/.bashrc) | ${formatSeconds(h.shellWithoutRc)} |`,
    `| \`node -e 0\` | ${formatSeconds(h.nodeStart)} |`,
    `| \`pullback --version\` (Node + the CLI's dispatcher) | ${formatSeconds(h.cliStart)} |`,
    `| \`pullback gate --check\` on a valid sender command (Node + the gate + validation + pinning) | ${formatSeconds(h.gateStart)} |`,
    `| an OpenSSH login to the bench's plain sshd running \`true\` (handshake, auth, session) | ${formatSeconds(h.sshLogin)} |`,
  ];
}

/** The results page: per tree size the table and where the time goes, then growth, handoff, targets, machine. */
export function renderMarkdown(result: BenchResult, targets: TargetCheck[]): string {
  const lines: string[] = [];
  const sizes = result.sizes.map((s) => s.tree.files.toLocaleString('en')).join(', ');
  lines.push(`# Pullback benchmarks, ${result.date}`, '');
  lines.push(
    `Trees of ${sizes} small files, every tool side by side on each; ${result.runs === 1 ? 'one run' : `median of ${result.runs} runs`} ` +
      `(each: fresh repository, full, no-change, 1 %-change, then a same-size rewrite), everything over SSH to loopback. ` +
      `Command: \`${result.command}\`; took ${(result.durationSeconds / 60).toFixed(1)} min. Method: [docs/benchmarks.md](../../docs/benchmarks.md).`,
  );
  for (const size of result.sizes) {
    lines.push('', `## ${size.tree.files.toLocaleString('en')} files`, '', treeLine(size), '');
    lines.push(...mainTable(size, result.runs));
    lines.push(
      '',
      `Where the time goes (${result.runs === 1 ? 'the run' : 'the median run'}):`,
      '',
    );
    lines.push(...stageTable(size));
  }
  if (result.sizes.length > 1) {
    lines.push('', '## How the cost grows', '');
    lines.push(...growthTable(result.sizes));
  }
  lines.push('', '## Handoff', '', ...handoffSection(result));
  if (result.tunnel) lines.push('', '## Tunnel mode', '', ...tunnelSection(result.tunnel));
  lines.push('', '## Targets', '', '| target | measured | verdict |', '|---|---|---|');
  for (const c of targets) lines.push(`| ${c.target} | ${c.measured} | ${VERDICT[c.verdict]} |`);
  const explained = targets.filter((c) => c.why);
  if (explained.length) {
    lines.push('');
    for (const c of explained) lines.push(`- **${c.target}** (${c.verdict}): ${c.why}`);
  }
  lines.push('', '## Machine', '');
  const m = result.machine;
  lines.push(`- CPU: ${m.cpu}, ${m.cores} cores; RAM ${m.memoryGiB} GiB`);
  lines.push(`- ${m.os}, kernel ${m.kernel}; work directory on ${m.workFilesystem}`);
  lines.push(
    `- ${Object.entries(m.versions)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}`,
  );
  lines.push('');
  return lines.join('\n');
}
