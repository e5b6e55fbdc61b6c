import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { HistoryEntry } from './types.js';
import { writeFileAtomicSync } from '../storage/durable-fs.js';

/**
 * The run history: one JSON object a line in `<stateDir>/history.jsonl`, appended after every
 * run, trimmed to the newest entries. The reader skips lines it cannot understand (a crash
 * mid-write, a newer version's fields) instead of losing the whole history.
 */
export const HISTORY_FILE = 'history.jsonl';
export const HISTORY_LIMIT = 1000;

const historyEntrySchema = z.object({
  host: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  result: z.enum(['success', 'failed', 'cancelled']),
  trigger: z.enum(['manual', 'automatic', 'cli']),
  snapshot: z.string().optional(),
  files: z.number().optional(),
  totalBytes: z.number().optional(),
  bytesTransferred: z.number().optional(),
  durationMs: z.number(),
  warnings: z.array(z.string()).optional(),
  error: z
    .object({ code: z.string(), message: z.string(), detail: z.string().optional() })
    .optional(),
});

export function historyFile(stateDir: string): string {
  return join(stateDir, HISTORY_FILE);
}

export function parseHistory(text: string): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = historyEntrySchema.safeParse(JSON.parse(line));
      if (parsed.success) entries.push(parsed.data);
    } catch {
      // a torn or foreign line: skip it, keep the rest
    }
  }
  return entries;
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim());
  } catch {
    return [];
  }
}

/** Appends one entry; rewrites the file (atomically) once it grows 10 % past the limit. */
export function appendHistory(stateDir: string, entry: HistoryEntry, limit = HISTORY_LIMIT): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = historyFile(stateDir);
  appendFileSync(file, JSON.stringify(entry) + '\n', { mode: 0o600 });
  const lines = readLines(file);
  if (lines.length > limit + Math.ceil(limit / 10)) {
    writeFileAtomicSync(file, lines.slice(-limit).join('\n') + '\n', 0o600);
  }
}

/** Newest first, optionally for one host only. */
export async function readHistory(
  stateDir: string,
  options: { host?: string; limit?: number } = {},
): Promise<HistoryEntry[]> {
  let text: string;
  try {
    text = await readFile(historyFile(stateDir), 'utf8');
  } catch {
    return [];
  }
  const entries = parseHistory(text)
    .filter((e) => options.host === undefined || e.host === options.host)
    .reverse();
  return options.limit === undefined ? entries : entries.slice(0, Math.max(0, options.limit));
}
