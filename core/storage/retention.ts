import { PullbackError } from '../errors.js';
import type { Period, RetentionPolicy, RetentionRule } from './retention-spec.js';
import { compareSnapshotIds, isSnapshotId } from './snapshot-id.js';

export {
  DEFAULT_RETENTION_SPEC,
  parseRetentionSpec,
  type RetentionPolicy,
  type RetentionRule,
} from './retention-spec.js';

/** One entry of a client's snapshot list, as retention sees it. */
export interface RetentionCandidate {
  id: string;
  time: Date;
  /** absent means complete */
  complete?: boolean;
}

export interface RetentionPlan {
  keep: string[];
  remove: string[];
  /** why each id is kept or removed, in words */
  reasons: Map<string, string>;
}

/**
 * Decides which snapshots retention keeps. Pure: the caller lists, this decides, prune.ts deletes.
 *
 * Each snapshot falls under the rule for its age. A thinning rule (hourly … yearly) keeps the
 * OLDEST snapshot of each calendar bucket (UTC hour, UTC day, ISO week, YYYY-MM, YYYY), judged over
 * all snapshots, not only those under that rule. Buckets nest (the oldest of a month is the oldest
 * of its day), so what a rule wants later was never thinned away by a younger rule: re-planning
 * with a later clock never wants back what an earlier plan removed, and pruning twice removes
 * nothing. For the nesting, a week that straddles a month boundary counts as two buckets when a
 * monthly or yearly rule follows. Oldest rather than newest: a bucket's oldest is fixed by its
 * first backup, so the choice never depends on backups still to come (a newest pick would move
 * with each backup into the current bucket). A bucket cut by a rule boundary keeps only its
 * oldest snapshot, and only if the rule that one falls under keeps it.
 *
 * Always kept: the newest complete snapshot, the `last:<n>` newest, and snapshots dated after
 * `now` (clock skew). Incomplete entries are not snapshots: they appear in neither list.
 */
export function planRetention(
  snapshots: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  now: Date,
): RetentionPlan {
  const bad = snapshots.find((s) => Number.isNaN(s.time.getTime()));
  if (bad)
    throw new PullbackError('BAD_REQUEST', `retention: snapshot ${bad.id} has no valid time`);
  const oldestFirst = snapshots
    .filter((s) => s.complete !== false)
    .sort((a, b) => a.time.getTime() - b.time.getTime() || compareIds(a.id, b.id));
  const newest = oldestFirst[oldestFirst.length - 1]?.id;
  const lastN = new Set(
    policy.keepLast ? oldestFirst.slice(-policy.keepLast).map((s) => s.id) : [],
  );
  const keys = oldestFirst.map((s) => bucketKeys(policy.rules, s.time));
  // Per rule, bucket key → id of the oldest snapshot in it, over all snapshots, not only the rule's.
  const oldestInBucket = policy.rules.map((_, i) => {
    const oldest = new Map<string, string>();
    oldestFirst.forEach((s, n) => {
      if (!oldest.has(keys[n]![i]!)) oldest.set(keys[n]![i]!, s.id);
    });
    return oldest;
  });

  const plan: RetentionPlan = { keep: [], remove: [], reasons: new Map() };
  const decide = (id: string, keep: boolean, reason: string): void => {
    (keep ? plan.keep : plan.remove).push(id);
    plan.reasons.set(id, reason);
  };
  oldestFirst.forEach((s, n) => {
    const age = now.getTime() - s.time.getTime();
    const index = policy.rules.findIndex((r) => age < r.upToMs);
    const rule = policy.rules[index];
    if (age < 0) decide(s.id, true, 'dated after now (clock skew?)');
    else if (s.id === newest) decide(s.id, true, 'the newest complete snapshot');
    else if (lastN.has(s.id)) decide(s.id, true, `one of the newest (last:${policy.keepLast})`);
    else if (!rule) decide(s.id, false, 'older than every rule');
    else if (rule.keep === 'all') decide(s.id, true, `kept by ${rule.text}`);
    else if (rule.keep === 'none') decide(s.id, false, `removed by ${rule.text}`);
    else {
      const bucket = bucketName(rule.keep, s.time);
      if (oldestInBucket[index]!.get(keys[n]![index]!) === s.id)
        decide(s.id, true, `the oldest of ${bucket} (${rule.text})`);
      else decide(s.id, false, `${bucket} has an older one (${rule.text})`);
    }
  });
  return plan;
}

/** A snapshot's bucket under each rule, split by the buckets of the rules after it so that
 * buckets nest. */
function bucketKeys(rules: readonly RetentionRule[], time: Date): string[] {
  const iso = time.toISOString();
  const names = rules.map((r) =>
    r.keep === 'all' || r.keep === 'none' ? '' : bucketName(r.keep, time, iso),
  );
  return names.map((_, i) => names.slice(i).join('|'));
}

/** The UTC calendar bucket of `time` for a period, e.g. `day 2026-11-26`, `week 2026-W48`. */
export function bucketName(period: Period, time: Date, iso = time.toISOString()): string {
  switch (period) {
    case 'hourly':
      return `hour ${iso.slice(0, 13)}h`;
    case 'daily':
      return `day ${iso.slice(0, 10)}`;
    case 'weekly':
      return `week ${isoWeek(time)}`;
    case 'monthly':
      return `month ${iso.slice(0, 7)}`;
    case 'yearly':
      return `year ${iso.slice(0, 4)}`;
  }
}

/** ISO 8601 week, `YYYY-Www`: weeks start on Monday; week 1 holds the year's first Thursday. */
function isoWeek(time: Date): string {
  const day = Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate());
  const thursday = new Date(day + (3 - ((time.getUTCDay() + 6) % 7)) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Snapshot ids in creation order (`…Z-9` before `…Z-10`); other names as strings. */
function compareIds(a: string, b: string): number {
  if (isSnapshotId(a) && isSnapshotId(b)) return compareSnapshotIds(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}
