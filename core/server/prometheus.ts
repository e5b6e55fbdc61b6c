import type { ServerStatus } from './status.js';

/**
 * The status in Prometheus' text format, for node_exporter's textfile collector. Ages are not
 * exported (they would be stale between writes): alert on `time() - pullback_last_success_timestamp_seconds`.
 */
interface Metric {
  name: string;
  help: string;
  value: (c: ServerStatus['clients'][number]) => number | undefined;
}

const METRICS: Metric[] = [
  {
    name: 'pullback_last_success_timestamp_seconds',
    help: 'Unix time the newest complete snapshot of the client was finished.',
    value: (c) => seconds(c.lastSuccessAt),
  },
  {
    name: 'pullback_last_run_timestamp_seconds',
    help: 'Unix time the last run of the client ended, successful or not.',
    value: (c) => seconds(c.lastRunAt),
  },
  {
    name: 'pullback_last_run_success',
    help: '1 if the last run of the client made a snapshot, 0 if it failed.',
    value: (c) => (c.lastResult === undefined ? undefined : c.lastResult === 'success' ? 1 : 0),
  },
  {
    name: 'pullback_last_run_duration_seconds',
    help: 'How long the last run of the client took.',
    value: (c) => (c.lastDurationMs === undefined ? undefined : c.lastDurationMs / 1000),
  },
  {
    name: 'pullback_snapshots',
    help: 'Number of complete snapshots of the client.',
    value: (c) => c.snapshots,
  },
  {
    name: 'pullback_storage_bytes',
    help: "Bytes the client's snapshots take, each stored file counted once.",
    value: (c) => c.sizeBytes,
  },
  {
    name: 'pullback_damaged_snapshots',
    help: 'Snapshot directories of the client that cannot be listed (damaged or missing metadata).',
    value: (c) => c.damaged.length,
  },
  {
    name: 'pullback_running',
    help: '1 while a backup of the client runs.',
    value: (c) => (c.running ? 1 : 0),
  },
];

function seconds(iso: string | undefined): number | undefined {
  return iso === undefined ? undefined : Date.parse(iso) / 1000;
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function formatPrometheus(status: ServerStatus): string {
  const lines: string[] = [];
  for (const m of METRICS) {
    lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} gauge`);
    for (const c of status.clients) {
      const v = m.value(c);
      if (v !== undefined) lines.push(`${m.name}{client="${label(c.client)}"} ${v}`);
    }
  }
  lines.push(
    '# HELP pullback_status_timestamp_seconds Unix time this status was collected.',
    '# TYPE pullback_status_timestamp_seconds gauge',
    `pullback_status_timestamp_seconds ${Date.parse(status.generatedAt) / 1000}`,
  );
  return lines.join('\n') + '\n';
}
