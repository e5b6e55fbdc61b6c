import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../storage/durable-fs.js';

/**
 * `<root>/<client>/.last-run.json`: how the client's most recent run ended, failed and
 * cancelled ones too (such a run leaves no snapshot, so without this `status` could not tell
 * "failing" from "quiet"). Written by `serve` while it holds the client's lock; a run cut short
 * by the client going away, or by SIGTERM/SIGHUP to serve, is "cancelled".
 */
export const LAST_RUN_FILE = '.last-run.json';

export const lastRunSchema = z
  .object({
    version: z.literal(1),
    result: z.enum(['success', 'failed', 'cancelled']),
    startedAt: z.string().datetime(),
    finishedAt: z.string().datetime(),
    durationMs: z.number().int().min(0),
    snapshot: z.string().optional(),
    code: z.string().optional(),
    message: z.string().optional(),
  })
  .strict();

export type LastRun = z.infer<typeof lastRunSchema>;

export async function writeLastRun(
  clientDir: string,
  run: Omit<LastRun, 'version'>,
): Promise<void> {
  const valid = lastRunSchema.parse({ version: 1, ...run });
  await writeFileAtomic(
    join(clientDir, LAST_RUN_FILE),
    JSON.stringify(valid, null, 2) + '\n',
    0o644,
  );
}

/** The last run, or undefined when there is none or the file is unreadable. */
export async function readLastRun(clientDir: string): Promise<LastRun | undefined> {
  try {
    const parsed = lastRunSchema.safeParse(
      JSON.parse(await readFile(join(clientDir, LAST_RUN_FILE), 'utf8')),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
