import { parseCommandArgs } from '../args.js';
import { deriveHostStatus } from '../../core/agent/host-status.js';
import { isPaused } from '../../core/agent/schedule.js';
import { runningElsewhere } from '../../core/agent/run-records.js';
import { newHostRecord, readHostRecords, type HostRecord } from '../../core/agent/status-store.js';
import type { HostStatus } from '../../core/agent/types.js';
import { readClientConfig } from '../../core/config/client-store.js';
import { clientStateDir } from '../../core/config/paths.js';
import { relativeWhen } from '../../core/format.js';

const HELP = `Usage: pullback status [--json]

Shows, for each paired backup host, the last successful backup, the last attempt and how it
ended (whoever started it: the agent, the tray or "pullback backup"), and when the next
automatic backup is due. Read from this machine's status file; it does not contact the
backup hosts. With --json one object: {"hosts": [...], "pausedUntil"?: ISO time}.`;

/** One host as `pullback status --json` prints it. */
interface StatusLine {
  host: string;
  address: string;
  lastSuccess?: string;
  lastSnapshot?: string;
  lastAttempt?: string;
  lastResult?: HostStatus['lastResult'];
  lastError?: HostStatus['lastError'];
  /** when the next automatic backup may start (ISO): the due time, or later after a failure */
  nextDue: string;
  /** the next backup is due now (or overdue) */
  due: boolean;
  retryAt?: string;
  overdue: boolean;
  /** a backup to this host runs now in another process (`pullback backup`, the agent) */
  runningPid?: number;
}

function statusLine(s: HostStatus, record: HostRecord, now: number): StatusLine {
  const nextDue = s.retryAt && s.retryAt > (s.nextDue ?? '') ? s.retryAt : (s.nextDue ?? '');
  const { host, address, lastSuccess, lastSnapshot, lastAttempt, lastResult, lastError } = s;
  // Fields left undefined are left out of the JSON.
  return {
    host,
    address,
    lastSuccess,
    lastSnapshot,
    lastAttempt,
    lastResult,
    lastError,
    nextDue,
    due: Date.parse(nextDue) <= now,
    retryAt: s.retryAt,
    overdue: s.overdue,
    runningPid: runningElsewhere(record, now),
  };
}

const when = (iso: string, now: number) => `${iso} (${relativeWhen(iso, now)})`;

function printHuman(line: StatusLine, pausedUntil: string | undefined, now: number): void {
  console.log(`${line.host} (${line.address})`);
  if (line.runningPid !== undefined) console.log(`  running now:   pid ${line.runningPid}`);
  console.log(
    `  last success:  ${line.lastSuccess ? `${when(line.lastSuccess, now)}, snapshot ${line.lastSnapshot ?? '?'}` : 'never'}`,
  );
  if (line.lastAttempt) {
    const result =
      line.lastResult === 'failed' && line.lastError
        ? `failed: ${line.lastError.message} ${line.lastError.hint}`
        : (line.lastResult ?? 'did not finish');
    console.log(`  last attempt:  ${when(line.lastAttempt, now)}, ${result}`);
  } else {
    console.log('  last attempt:  never');
  }
  let next = line.due ? 'now' : when(line.nextDue, now);
  if (line.overdue) next += ' (overdue)';
  else if (line.retryAt && line.nextDue === line.retryAt) next += ' (waiting after a failure)';
  if (pausedUntil) next += `; automatic backups paused until ${pausedUntil}`;
  console.log(`  next backup:   ${next}`);
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, { command: 'status' });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const config = readClientConfig();
  const records = readHostRecords(clientStateDir());
  const now = Date.now();
  const pausedUntil = isPaused(config.schedule.pausedUntil, now)
    ? config.schedule.pausedUntil
    : undefined;
  const lines = config.hosts.map((host) => {
    const record = records[host.name] ?? newHostRecord(now);
    const status = deriveHostStatus(host, record, { reachable: 'unknown' }, config.schedule, now);
    return statusLine(status, record, now);
  });
  if (values.json) {
    console.log(JSON.stringify({ hosts: lines, ...(pausedUntil && { pausedUntil }) }, null, 2));
    return 0;
  }
  if (lines.length === 0) {
    console.log('No backup host paired yet; run "pullback pair USER@HOST".');
    return 0;
  }
  lines.forEach((line) => printHuman(line, pausedUntil, now));
  return 0;
}
