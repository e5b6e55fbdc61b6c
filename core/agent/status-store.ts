import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../storage/durable-fs.js';

/**
 * What this machine remembers per backup host across restarts and processes, in
 * `<stateDir>/status.json`: the last success (drives the schedule), the last attempt and its
 * result, consecutive failures and the back-off, and whether the overdue warning was already
 * given. The agent, the tray and `pullback backup` all write it (read, change, rename), so
 * there is one truth about "last backup".
 */
export const STATUS_FILE = 'status.json';

const hostRecordSchema = z.object({
  /** when this machine started tracking the host: the overdue clock for a never-backed-up host */
  trackedSince: z.string(),
  lastSuccess: z.string().optional(),
  lastAttempt: z.string().optional(),
  lastSnapshot: z.string().optional(),
  lastResult: z.enum(['success', 'failed', 'cancelled']).optional(),
  lastError: z
    .object({
      code: z.string(),
      message: z.string(),
      hint: z.string(),
      detail: z.string().optional(),
    })
    .optional(),
  failures: z.number().int().min(0).default(0),
  retryAt: z.string().optional(),
  overdueWarnedAt: z.string().optional(),
  /** a backup to this host is running in this process (set at its start, cleared at its end) */
  running: z.object({ pid: z.number().int().positive(), since: z.string() }).optional(),
});

const statusFileSchema = z.object({
  version: z.literal(1),
  hosts: z.record(z.string(), z.unknown()),
});

export type HostRecord = z.infer<typeof hostRecordSchema>;
export type HostRecords = Record<string, HostRecord>;

export function statusFile(stateDir: string): string {
  return join(stateDir, STATUS_FILE);
}

/** Changes whenever another process rewrote the file (each write is a rename: a new inode). */
export function hostRecordsStamp(stateDir: string): string {
  try {
    const s = statSync(statusFile(stateDir));
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}

/** A missing or broken file gives no records; a broken host entry is dropped, not fatal. */
export function readHostRecords(stateDir: string): HostRecords {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(statusFile(stateDir), 'utf8'));
  } catch {
    return {};
  }
  const parsed = statusFileSchema.safeParse(raw);
  if (!parsed.success) return {};
  const records: HostRecords = {};
  for (const [name, value] of Object.entries(parsed.data.hosts)) {
    const record = hostRecordSchema.safeParse(value);
    if (record.success) records[name] = record.data;
  }
  return records;
}

/** Written atomically (temp file + rename): a crash never leaves half a status file. */
export function writeHostRecords(stateDir: string, records: HostRecords): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = statusFile(stateDir);
  writeFileAtomicSync(file, JSON.stringify({ version: 1, hosts: records }, null, 2) + '\n', 0o600);
}

export function newHostRecord(now: number): HostRecord {
  return { trackedSince: new Date(now).toISOString(), failures: 0 };
}

/**
 * Reads the newest file, changes one host's record and writes it back: what another process
 * (a CLI backup beside the agent) wrote meanwhile is kept. Returns all records as written.
 */
export function updateHostRecord(
  stateDir: string,
  host: string,
  now: number,
  change: (record: HostRecord) => void,
): HostRecords {
  const records = readHostRecords(stateDir);
  const record = (records[host] ??= newHostRecord(now));
  change(record);
  writeHostRecords(stateDir, records);
  return records;
}
