import { median } from './exec.js';
import type { BenchResult, TargetCheck, ToolResult } from './results.js';
import { PHASES, PHASE_LABELS, type Phase } from './tools/types.js';

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const sign = n < 0 ? '−' : '';
  const abs = Math.abs(n);
  if (abs < 1024) return `${sign}${abs} B`;
  if (abs < 1024 ** 2) return `${sign}${(abs / 1024).toFixed(1)} KiB`;
  if (abs < 1024 ** 3) return `${sign}${(abs / 1024 ** 2).toFixed(1)} MiB`;
  return `${sign}${(abs / 1024 ** 3).toFixed(2)} GiB`;
}

export const formatSeconds = (s: number) => (Number.isFinite(s) ? `${s.toFixed(2)} s` : '–');
const ratio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '–');

function find(result: BenchResult, id: string): ToolResult | undefined {
  const tool = result.tools.find((t) => t.id === id);
  return tool && !tool.skipped ? tool : undefined;
}

const medianSeconds = (tool: ToolResult | undefined, phase: Phase) =>
  tool ? median(tool.seconds[phase]) : Number.NaN;
const medianAdded = (tool: ToolResult | undefined, phase: Phase) =>
  tool ? median(tool.added[phase]) : Number.NaN;

/** The issue's targets, each with the measured figure and, for a miss, the decomposition. */
export function checkTargets(result: BenchResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const rsync = find(result, 'rsync');
  const hardlink = find(result, 'pullback-hardlink');
  const btrfs = find(result, 'pullback-btrfs');
  const handoff = 'skipped' in result.handoff ? undefined : result.handoff;

  if (handoff) {
    const met = handoff.firstByte <= 0.3;
    checks.push({
      target: 'handoff overhead (request → rsync’s first byte) ≤ 0.3 s',
      measured: formatSeconds(handoff.firstByte),
      verdict: met ? 'met' : 'missed',
      ...(met
        ? {}
        : {
            why:
              `connect to the backup host and start \`pullback serve\` ${formatSeconds(handoff.connected)}, ` +
              `one-shot sshd up ${formatSeconds(handoff.oneShotReady - handoff.connected)}, ` +
              `request accepted ${formatSeconds(handoff.accepted - handoff.oneShotReady)}, ` +
              `accepted → first byte (ssh back to the client, gate, rsync start) ${formatSeconds(handoff.firstByte - handoff.accepted)}; ` +
              `a bare rsync pull of the same one-file tree takes ${formatSeconds(handoff.bareRsync)} in all. ` +
              `Two commands run over SSH (\`pullback serve\` on the backup host, \`pullback gate\` on the client); each starts ` +
              `through the account's login shell (${formatSeconds(handoff.shellStart)} here: sshd runs \`$SHELL -c\`, and Debian's bash reads ~/.bashrc under sshd) ` +
              `and then loads the Pullback CLI (${formatSeconds(handoff.cliStart)}, of which Node itself ${formatSeconds(handoff.nodeStart)}). ` +
              `Bare rsync pays the shell once and no CLI.`,
          }),
    });
  } else {
    checks.push({
      target: 'handoff overhead ≤ 0.3 s',
      measured: '–',
      verdict: 'not measured',
      why: 'skipped' in result.handoff ? result.handoff.skipped : '',
    });
  }

  // the fixed cost a whole Pullback run adds over a bare pull (one-file tree)
  const fixed = handoff ? handoff.done - handoff.bareRsync : Number.NaN;
  for (const phase of PHASES) {
    const target = `Pullback (hardlink) ≤ 1.05× bare rsync, ${PHASE_LABELS[phase]}`;
    const p = medianSeconds(hardlink, phase);
    const r = medianSeconds(rsync, phase);
    if (!Number.isFinite(p) || !Number.isFinite(r)) {
      checks.push({ target, measured: '–', verdict: 'not measured' });
      continue;
    }
    const met = p <= 1.05 * r;
    checks.push({
      target,
      measured: `${ratio(p / r)} (${formatSeconds(p)} vs ${formatSeconds(r)})`,
      verdict: met ? 'met' : 'missed',
      ...(met
        ? {}
        : {
            why:
              `Pullback − rsync = ${formatSeconds(p - r)}; the fixed cost of a Pullback run over a bare pull ` +
              `(one-file tree: whole run − bare rsync) is ${formatSeconds(fixed)}.`,
          }),
    });
  }

  for (const phase of ['no-change', 'one-percent'] as const) {
    const target = `Pullback (btrfs) faster than restic and borg, ${PHASE_LABELS[phase]}`;
    const b = medianSeconds(btrfs, phase);
    const others = ['restic', 'borg'].map((id) => medianSeconds(find(result, id), phase));
    if (!Number.isFinite(b) || others.some((o) => !Number.isFinite(o))) {
      const skipped = result.tools.find((t) => t.id === 'pullback-btrfs')?.skipped;
      checks.push({
        target,
        measured: '–',
        verdict: 'not measured',
        ...(skipped ? { why: skipped } : {}),
      });
      continue;
    }
    const met = others.every((o) => b < o);
    checks.push({
      target,
      measured: `${formatSeconds(b)} vs restic ${formatSeconds(others[0]!)}, borg ${formatSeconds(others[1]!)}`,
      verdict: met ? 'met' : 'missed',
    });
  }

  const { changedBytes, changedBlockBytes } = result.change;
  const hlAdded = medianAdded(hardlink, 'one-percent');
  if (Number.isFinite(hlAdded)) {
    const met = hlAdded <= 1.1 * changedBytes;
    const wholeBig =
      result.tree.bigFiles > 0 ? result.tree.bigFileBytes + result.tree.appendBytes : 0;
    checks.push({
      target: 'Pullback (hardlink): storage per 1 %-change increment ≤ 1.1× the changed bytes',
      measured: `${formatBytes(hlAdded)} = ${ratio(hlAdded / changedBytes)} of ${formatBytes(changedBytes)}`,
      verdict: met ? 'met' : 'missed',
      ...(met
        ? {}
        : {
            why:
              `a hardlink snapshot stores every changed file whole: the appended big file alone is ` +
              `${formatBytes(wholeBig)} for a ${formatBytes(result.tree.appendBytes)} append, and each snapshot is a ` +
              `new directory tree (${result.tree.dirs + 1} directories, ~${formatBytes((result.tree.dirs + 1) * 4096)} ` +
              `as du -sb counts them). Inherent to file-level hardlinks; the btrfs backend stores changed blocks.`,
          }),
    });
  } else {
    checks.push({
      target: 'Pullback (hardlink): storage per 1 %-change increment ≤ 1.1× the changed bytes',
      measured: '–',
      verdict: 'not measured',
    });
  }
  const btAdded = medianAdded(btrfs, 'one-percent');
  if (Number.isFinite(btAdded)) {
    checks.push({
      target: 'Pullback (btrfs): storage per 1 %-change increment ≤ 1.1× the changed blocks',
      measured: `${formatBytes(btAdded)} = ${ratio(btAdded / changedBlockBytes)} of ${formatBytes(changedBlockBytes)}`,
      verdict: btAdded <= 1.1 * changedBlockBytes ? 'met' : 'missed',
    });
  } else {
    checks.push({
      target: 'Pullback (btrfs): storage per 1 %-change increment ≤ 1.1× the changed blocks',
      measured: '–',
      verdict: 'not measured',
      ...(result.tools.find((t) => t.id === 'pullback-btrfs')?.skipped
        ? { why: result.tools.find((t) => t.id === 'pullback-btrfs')!.skipped }
        : {}),
    });
  }
  return checks;
}

const VERDICT = { met: '✅ met', missed: '❌ missed', 'not measured': '– not measured' } as const;

/** The results page: the table first, then the handoff, the targets, the machine. */
export function renderMarkdown(result: BenchResult, targets: TargetCheck[]): string {
  const t = result.tree;
  const rsync = find(result, 'rsync');
  const lines: string[] = [];
  lines.push(`# Pullback benchmarks, ${result.date}`, '');
  lines.push(
    `Source tree: ${t.files.toLocaleString('en')} small files (${formatBytes(t.smallBytes)}) in ${t.dirs.toLocaleString('en')} directories` +
      (t.bigFiles ? ` + ${t.bigFiles} × ${formatBytes(t.bigFileBytes)} files` : '') +
      ` = ${formatBytes(t.bytes)}. 1 %-change: ${result.change.files} files, ${formatBytes(result.change.changedBytes)} changed` +
      ` (${formatBytes(result.change.changedBlockBytes)} in 4 KiB blocks)` +
      (t.bigFiles ? `, of which ${formatBytes(t.appendBytes)} appended to one big file.` : '.'),
  );
  lines.push(
    `Median of ${result.runs} run${result.runs > 1 ? 's' : ''} (each: fresh repository, full, no-change, 1 %-change), everything over SSH to loopback. ` +
      `Command: \`${result.command}\`; took ${(result.durationSeconds / 60).toFixed(1)} min. Method: [docs/benchmarks.md](../../docs/benchmarks.md).`,
    '',
  );
  lines.push('| tool | phase | median time | × bare rsync | storage added | all runs |');
  lines.push('|---|---|---:|---:|---:|---|');
  for (const tool of result.tools) {
    if (tool.skipped) {
      lines.push(`| ${tool.label} | – | skipped | | | ${tool.skipped.replace(/\|/g, '\\|')} |`);
      continue;
    }
    for (const phase of PHASES) {
      const s = median(tool.seconds[phase]);
      const r = medianSeconds(rsync, phase);
      lines.push(
        `| ${tool.label} | ${PHASE_LABELS[phase]} | ${formatSeconds(s)} | ${ratio(s / r)} | ${formatBytes(median(tool.added[phase]))} | ${tool.seconds[phase].map((x) => x.toFixed(2)).join(' / ')} |`,
      );
    }
  }
  lines.push('');
  lines.push('## Handoff overhead', '');
  if ('skipped' in result.handoff) {
    lines.push(`Not measured: ${result.handoff.skipped}`, '');
  } else {
    const h = result.handoff;
    lines.push(
      `A one-file tree, the file changed before each run; median of ${h.samples} runs, seconds from \`runBackup\` being called.`,
      '',
    );
    lines.push('| step reached | median |', '|---|---:|');
    lines.push(
      `| SSH to the backup host up, \`pullback serve\` started | ${formatSeconds(h.connected)} |`,
    );
    lines.push(`| one-shot sshd listening | ${formatSeconds(h.oneShotReady)} |`);
    lines.push(`| request accepted (lock, run prepared) | ${formatSeconds(h.accepted)} |`);
    lines.push(
      `| **rsync’s first byte** (first progress line at the client) | **${formatSeconds(h.firstByte)}** |`,
    );
    lines.push(`| done (promoted, reply received) | ${formatSeconds(h.done)} |`);
    lines.push(
      `| for comparison: a whole bare rsync pull of the same tree | ${formatSeconds(h.bareRsync)} |`,
    );
    lines.push('');
  }
  lines.push('## Targets', '');
  lines.push('| target | measured | verdict |', '|---|---|---|');
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
