import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../storage/durable-fs.js';

/**
 * What `reach: auto` learnt, per backup host and network: whether the backup host could connect
 * back (direct) or the run had to come through the tunnel. In `<stateDir>/reach.json`. A
 * choice is tried afresh after REMEMBER_MS, so a network that changes is noticed.
 */
export const REACH_FILE = 'reach.json';
export const REMEMBER_MS = 7 * 24 * 60 * 60 * 1000;
const MAX_NETWORKS_PER_HOST = 32;

const entrySchema = z.object({ reach: z.enum(['direct', 'tunnel']), at: z.string().datetime() });
const fileSchema = z.object({
  version: z.literal(1),
  hosts: z.record(z.string(), z.record(z.string(), entrySchema)),
});
type ReachFile = z.infer<typeof fileSchema>;
export type LearntReach = z.infer<typeof entrySchema>['reach'];

function readFile(stateDir: string): ReachFile {
  try {
    const parsed = fileSchema.safeParse(
      JSON.parse(readFileSync(join(stateDir, REACH_FILE), 'utf8')),
    );
    if (parsed.success) return parsed.data;
  } catch {
    // missing or broken: nothing learnt (it is a cache, the next run learns again)
  }
  return { version: 1, hosts: {} };
}

export function recallReach(
  stateDir: string,
  host: string,
  network: string,
  now = Date.now(),
): LearntReach | undefined {
  const entry = readFile(stateDir).hosts[host]?.[network];
  if (!entry || now - Date.parse(entry.at) > REMEMBER_MS) return undefined;
  return entry.reach;
}

export function rememberReach(
  stateDir: string,
  host: string,
  network: string,
  reach: LearntReach,
  now = Date.now(),
): void {
  const file = readFile(stateDir);
  const networks = {
    ...(file.hosts[host] ?? {}),
    [network]: { reach, at: new Date(now).toISOString() },
  };
  // the oldest go first: a laptop visits many networks
  const kept = Object.entries(networks)
    .sort(([, a], [, b]) => Date.parse(b.at) - Date.parse(a.at))
    .slice(0, MAX_NETWORKS_PER_HOST);
  file.hosts[host] = Object.fromEntries(kept);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileAtomicSync(join(stateDir, REACH_FILE), `${JSON.stringify(file, null, 2)}\n`);
}
