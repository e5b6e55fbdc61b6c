import { median } from './exec.js';
import { formatBytes, formatRatio, formatSeconds } from './figures.js';
import type { TargetCheck } from './results.js';
import type { Reach, TunnelResult, TunnelRow } from './tunnel.js';

/** The issue's target: tunnel mode keeps at least this share of direct mode's throughput. */
export const TUNNEL_TARGET_RATIO = 0.8;
const MiB = 1024 * 1024;

const mibPerSecond = (row: TunnelRow, reach: Reach, key: 'seconds' | 'transferSeconds') =>
  row.bytes / MiB / median(row.runs[reach][key]);

/** tunnel throughput / direct throughput, whole backups */
const ratio = (row: TunnelRow) =>
  mibPerSecond(row, 'tunnel', 'seconds') / mibPerSecond(row, 'direct', 'seconds');

const rate = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} MiB/s` : '–');

export function tunnelSection(result: TunnelResult): string[] {
  if ('skipped' in result) return [`Not measured: ${result.skipped}`];
  const lines = [
    `Full Pullback user-mode backups to the loopback backup host, \`reach: 'direct'\` and \`reach: 'tunnel'\` ` +
      `taking turns; ${result.runs === 1 ? 'one run' : `median of ${result.runs} runs`}. Throughput is the tree's ` +
      `bytes over the whole backup (handoff included); "pull" is from \`accepted\` to the end. ` +
      `CPU: the bench's process tree (client, both sshds, \`pullback serve\` and its relay, rsync, ssh).`,
    '',
    '| tree | mode | whole backup | throughput | pull alone | pull throughput | CPU | tunnel / direct |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of result.rows) {
    const label = `${row.tree} (${row.files.toLocaleString('en')} file${row.files === 1 ? '' : 's'}, ${formatBytes(row.bytes)})`;
    for (const reach of ['direct', 'tunnel'] as const) {
      const r = row.runs[reach];
      lines.push(
        `| ${label} | ${reach} | ${formatSeconds(median(r.seconds))} | ${rate(mibPerSecond(row, reach, 'seconds'))} ` +
          `| ${formatSeconds(median(r.transferSeconds))} | ${rate(mibPerSecond(row, reach, 'transferSeconds'))} ` +
          `| ${formatSeconds(median(r.cpuSeconds))} | ${reach === 'tunnel' ? formatRatio(ratio(row)) : ''} |`,
      );
    }
  }
  lines.push(
    '',
    'CPU per process (median), sampled from /proc every 50 ms:',
    '',
    ...cpuByRoleTable(result),
  );
  if (result.ciphers.length === 0) return lines;
  lines.push(
    '',
    `What encryption costs here (${formatBytes(result.cipherBytes)} each; CPU of the bench's processes per GiB):`,
    '',
    '| layer | cipher | throughput | CPU per GiB |',
    '|---|---|---:|---:|',
  );
  const layer = {
    primitive: 'primitive (`openssl speed`, 16 KiB blocks)',
    openssh: 'OpenSSH connection (inner)',
    ssh2: 'ssh2 connection (outer)',
  };
  for (const c of result.ciphers)
    lines.push(
      `| ${layer[c.layer]} | ${c.name} | ${rate(c.mibPerSecond)} | ${c.cpuSecondsPerGiB === undefined ? '–' : formatSeconds(c.cpuSecondsPerGiB)} |`,
    );
  return lines;
}

/** One target per tree: tunnel ≥ 0.8× direct throughput. */
export function tunnelTargets(result: TunnelResult | undefined): TargetCheck[] {
  if (!result) return [];
  const target = (tree: string) => `tunnel ≥ ${TUNNEL_TARGET_RATIO}× direct throughput, ${tree}`;
  if ('skipped' in result)
    return [
      { target: target('both trees'), measured: '–', verdict: 'not measured', why: result.skipped },
    ];
  return result.rows.map((row) => {
    const r = ratio(row);
    const met = r >= TUNNEL_TARGET_RATIO;
    const cpu = (reach: Reach) => formatSeconds(median(row.runs[reach].cpuSeconds));
    return {
      target: target(row.tree),
      measured: `${formatRatio(r)} (${rate(mibPerSecond(row, 'tunnel', 'seconds'))} vs ${rate(mibPerSecond(row, 'direct', 'seconds'))})`,
      verdict: met ? 'met' : 'missed',
      ...(met
        ? {}
        : {
            why:
              `CPU ${cpu('tunnel')} tunnelled vs ${cpu('direct')} direct. Five more processes read and write ` +
              `every byte (the client's Pullback with ssh2, the backup host's sshd, the tunnel channel's serve, ` +
              `the run's relay, tunnel-proxy; see CPU per process) and each run starts two more Node processes; ` +
              `the second encryption is a small part of it (see the cipher table, docs/benchmarks.md).`,
          }),
    };
  });
}

/** Median CPU per process role, both modes side by side, for every tree. */
export function cpuByRoleTable(result: Extract<TunnelResult, { rows: unknown }>): string[] {
  const columns = result.rows.flatMap((row) =>
    (['direct', 'tunnel'] as const).map((reach) => ({ row, reach })),
  );
  const roles = [
    ...new Set(columns.flatMap(({ row, reach }) => row.runs[reach].cpuByRole.flatMap(Object.keys))),
  ].sort();
  const lines = [
    `| process | ${columns.map(({ row, reach }) => `${row.tree}, ${reach}`).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
  ];
  const medianOf = (role: string, row: TunnelRow, reach: Reach) =>
    median(row.runs[reach].cpuByRole.map((r) => r[role] ?? 0));
  const cellOf = (role: string, row: TunnelRow, reach: Reach) =>
    formatSeconds(medianOf(role, row, reach));
  // a role that used next to nothing in every column (a shell between sshd and its command)
  const used = (role: string) =>
    columns.some(({ row, reach }) => medianOf(role, row, reach) >= 0.005);
  for (const role of roles.filter(used))
    lines.push(
      `| ${role} | ${columns.map(({ row, reach }) => cellOf(role, row, reach)).join(' | ')} |`,
    );
  return lines;
}
