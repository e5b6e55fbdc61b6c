import { compareWithIndex, encodeFileList, type TreeChanges } from './compare.js';
import { readChangeIndex, sourcesKey, type ChangeIndex } from './index-file.js';
import { scanTrees, type ScanResult } from './scan.js';
import { listFits } from './list-file.js';

/*
 * The client's part of choosing the pass: scan, then an incremental against the index when it
 * can be trusted, a full pass otherwise. The backup host still checks that the index's snapshot
 * is its newest (handoff/backup-pass.ts) and goes full by itself when it is not.
 */

export interface FullPassSchedule {
  /** a full pass at least this often (0: every run); the default is weekly */
  everyDays: number;
  /** make the scheduled full pass a --checksum pass (reads every file on both sides) */
  checksum: boolean;
}

export const DEFAULT_FULL_PASS: FullPassSchedule = { everyDays: 7, checksum: false };

export interface BackupPlan {
  scan: ScanResult;
  sourcesKey: string;
  /** the index this run started from, when it could be read */
  index?: ChangeIndex;
  /** set for a full pass: why, in words (for the log) */
  fullBecause?: string;
  /** the full pass the client asks for (a scheduled one may be a checksum pass) */
  pass?: 'full' | 'checksum';
  /** set for an incremental */
  incremental?: { basis: string; trees: TreeChanges[]; changed: number; deleted: number };
  lists?: { tree: string; data: Buffer }[];
}

export interface PlanOptions {
  indexFile: string;
  sources: readonly string[];
  excludes: readonly string[];
  /** `pullback backup --full` */
  forceFull?: boolean;
  schedule?: FullPassSchedule;
  now?: Date;
  /**
   * System mode: the sender reads what this account may not. A directory the scan could not
   * read could hide changes the sender would copy, so it makes the run a full pass.
   */
  senderReadsMore?: boolean;
}

const DAY_MS = 24 * 3600 * 1000;

export async function planBackup(o: PlanOptions): Promise<BackupPlan> {
  const scan = await scanTrees(o.sources, o.excludes);
  const key = sourcesKey(o.sources, o.excludes);
  const schedule = o.schedule ?? DEFAULT_FULL_PASS;
  const now = o.now ?? new Date();
  const read = readChangeIndex(o.indexFile);
  const index = typeof read === 'string' ? undefined : read;
  const full = (why: string, pass: 'full' | 'checksum' = 'full'): BackupPlan => ({
    scan,
    sourcesKey: key,
    ...(index ? { index } : {}),
    fullBecause: why,
    pass,
  });
  if (o.forceFull) return full('a full pass was asked for (--full)');
  if (o.senderReadsMore && scan.unreadable.length > 0)
    return full(
      `this account cannot read ${scan.unreadable.length} director${scan.unreadable.length === 1 ? 'y' : 'ies'} system mode backs up (${scan.unreadable[0]}${scan.unreadable.length > 1 ? ', …' : ''}): run the backup as root for incrementals`,
    );
  if (typeof read === 'string') return full(`the change index: ${read}`);
  if (read.header.sourcesKey !== key) return full('the sources or excludes changed');
  const lastFull = Date.parse(read.header.fullPassAt);
  if (now.getTime() - lastFull >= schedule.everyDays * DAY_MS)
    return full('the scheduled full pass is due', schedule.checksum ? 'checksum' : 'full');
  if (scan.lossyNames > 0) return full('a file name is not valid UTF-8 (it cannot be listed)');
  const changes = compareWithIndex(scan, read.trees);
  if (!changes.trees.every((t) => listFits(t.changed)))
    return full('too many changes for one list');
  return {
    scan,
    sourcesKey: key,
    index: read,
    incremental: {
      basis: read.header.snapshot,
      trees: changes.trees,
      changed: changes.changed,
      deleted: changes.deleted,
    },
    lists: changes.trees
      .filter((t) => t.changed.length > 0)
      .map((t) => ({ tree: t.tree, data: encodeFileList(t.changed) })),
  };
}
