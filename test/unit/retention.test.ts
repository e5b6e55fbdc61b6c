import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_RETENTION_SPEC,
  bucketName,
  parseRetentionSpec,
  planRetention,
  type RetentionPolicy,
} from '../../core/storage/retention.js';
import { mulberry32 } from '../support/prng.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const YEAR = 365 * DAY;
const HISTORIES = 300;
// PULLBACK_RETENTION_SEED=<n> replays one history from a failure message.
const ONLY_SEED = process.env.PULLBACK_RETENTION_SEED;

interface Snap {
  id: string;
  time: Date;
  complete: boolean;
}
interface History {
  seed: number;
  spec: string;
  policy: RetentionPolicy;
  snapshots: Snap[];
  now: Date;
  rand: () => number;
}

/** A random valid spec: ages grow, keeps thin out; sometimes `*`, `none` or `last:<n>`. */
function randomSpec(rand: () => number): string {
  if (rand() < 0.4) return DEFAULT_RETENTION_SPEC;
  const keeps = ['all', 'hourly', 'daily', 'weekly', 'monthly', 'yearly', 'none'];
  const items: string[] = [];
  let keep = Math.floor(rand() * 3);
  let hours = 0;
  for (let n = 1 + Math.floor(rand() * 4); n > 0 && keep < keeps.length; n--) {
    hours += 1 + Math.floor(rand() * 24 * 200);
    items.push(`${hours % 24 === 0 ? `${hours / 24}d` : `${hours}h`}:${keeps[keep]}`);
    keep += Math.floor(rand() * 2.5);
  }
  if (rand() < 0.5 && keep < keeps.length) items.push(`*:${keeps[keep]}`);
  if (rand() < 0.3)
    items.splice(Math.floor(rand() * items.length), 0, `last:${1 + Math.floor(rand() * 20)}`);
  return items.join(',');
}

/** Backups at random intervals (seconds to weeks, with gaps), over up to 3 years; a random now. */
function randomHistory(seed: number): History {
  const rand = mulberry32(seed);
  const spec = randomSpec(rand);
  const typical = [5 * MINUTE, HOUR, DAY, 3 * DAY][Math.floor(rand() * 4)]!;
  const start = Date.UTC(2019, 0, 1) + rand() * 6 * YEAR;
  const end = start + rand() * 3 * YEAR;
  const snapshots: Snap[] = [];
  for (let t = start; t <= end && snapshots.length < 400;) {
    const id = `s${String(snapshots.length).padStart(4, '0')}`;
    snapshots.push({ id, time: new Date(Math.round(t)), complete: rand() > 0.03 });
    const r = rand();
    if (r < 0.02)
      t += 0; // two backups in the same millisecond
    else if (r < 0.07)
      t += rand() * 90 * DAY; // the laptop was away
    else if (r < 0.3) t += Math.exp(Math.log(MINUTE) + rand() * Math.log((3 * WEEK) / MINUTE));
    else t += typical * (0.5 + rand());
  }
  const last = snapshots[snapshots.length - 1]!.time.getTime();
  const now = new Date(last + (rand() < 0.1 ? rand() * 2 * YEAR : (rand() - 0.1) * 60 * DAY));
  return { seed, spec, policy: parseRetentionSpec(spec), snapshots, now, rand };
}

/** Runs `check` on 300 random histories; a failure names the seed, spec and clock to replay it. */
function forEachHistory(check: (h: History) => void): void {
  const seeds = ONLY_SEED ? [Number(ONLY_SEED)] : [...Array(HISTORIES).keys()].map((i) => 9001 + i);
  for (const seed of seeds) {
    const h = randomHistory(seed);
    try {
      check(h);
    } catch (err) {
      const where = `seed ${seed} (PULLBACK_RETENTION_SEED=${seed}), spec ${h.spec}, now ${h.now.toISOString()}, ${h.snapshots.length} entries`;
      assert.fail(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

const complete = (snaps: readonly Snap[]) => snaps.filter((s) => s.complete);
const newestComplete = (snaps: readonly Snap[]) =>
  complete(snaps).reduce((a, b) => (b.time >= a.time ? b : a)); // ids grow with time
const without = (snaps: readonly Snap[], ids: readonly string[]) => {
  const gone = new Set(ids);
  return snaps.filter((s) => !gone.has(s.id));
};

/** ISO week by a different route than the code: count Mondays from week 1's Monday. */
function isoWeekRef(time: Date): string {
  const mondayOf = (ms: number) => {
    const midnight = Math.floor(ms / DAY) * DAY;
    return midnight - ((new Date(midnight).getUTCDay() + 6) % 7) * DAY;
  };
  const monday = mondayOf(time.getTime());
  for (const year of [
    time.getUTCFullYear() + 1,
    time.getUTCFullYear(),
    time.getUTCFullYear() - 1,
  ]) {
    const week1 = mondayOf(Date.UTC(year, 0, 4));
    if (monday >= week1) return `${year}-W${(monday - week1) / WEEK + 1}`;
  }
  throw new Error('unreachable');
}

/** The test's own calendar buckets (UTC), split by every coarser rule after `index`. */
function refBucket(policy: RetentionPolicy, index: number, time: Date): string {
  const iso = time.toISOString();
  const of = { hourly: iso.slice(0, 13), daily: iso.slice(0, 10), weekly: isoWeekRef(time) };
  const name = (keep: string) =>
    ({ ...of, monthly: iso.slice(0, 7), yearly: iso.slice(0, 4) })[keep] ?? '';
  return policy.rules
    .slice(index)
    .map((r) => name(r.keep))
    .join('|');
}

const zoneOf = (policy: RetentionPolicy, now: Date, s: Snap) =>
  policy.rules.findIndex((r) => now.getTime() - s.time.getTime() < r.upToMs);

test('retention: the newest complete snapshot always survives (300 random histories)', () => {
  forEachHistory(({ snapshots, policy, now }) => {
    const plan = planRetention(snapshots, policy, now);
    const newest = newestComplete(snapshots).id;
    assert.ok(plan.keep.includes(newest), `removed the newest complete snapshot ${newest}`);
    assert.ok(!plan.remove.includes(newest));
  });
});

test('retention: every complete snapshot is kept or removed with a reason, incomplete ones are in neither list (300 random histories)', () => {
  forEachHistory(({ snapshots, policy, now }) => {
    const plan = planRetention(snapshots, policy, now);
    assert.deepEqual(
      [...plan.keep, ...plan.remove].sort(),
      complete(snapshots)
        .map((s) => s.id)
        .sort(),
    );
    for (const id of [...plan.keep, ...plan.remove]) assert.ok(plan.reasons.get(id), id);
    assert.equal(plan.reasons.size, plan.keep.length + plan.remove.length);
  });
});

test('retention: each rule keeps all, or exactly the oldest of each calendar bucket, and the last:<n> newest (300 random histories)', () => {
  forEachHistory(({ snapshots, policy, now }) => {
    const plan = planRetention(snapshots, policy, now);
    const kept = new Set(plan.keep);
    const done = complete(snapshots);
    const newestFirst = [...done].reverse();
    const protectedIds = new Set(
      newestFirst.slice(0, Math.max(1, policy.keepLast)).map((s) => s.id),
    );
    for (const id of protectedIds) assert.ok(kept.has(id), `${id} is one of the newest`);
    const keptPerBucket = new Map<string, string[]>();
    const oldestPerBucket = new Map<string, Snap>();
    for (const s of done) {
      if (s.time > now) {
        assert.ok(kept.has(s.id), `${s.id} is dated after now and must be kept`);
        continue;
      }
      const zone = zoneOf(policy, now, s);
      const rule = policy.rules[zone];
      if (rule?.keep === 'all') assert.ok(kept.has(s.id), `${s.id} falls under ${rule.text}`);
      if (!rule || rule.keep === 'none') {
        assert.equal(
          kept.has(s.id),
          protectedIds.has(s.id),
          `${s.id} is beyond every keeping rule`,
        );
        continue;
      }
      if (rule.keep === 'all' || protectedIds.has(s.id) || !kept.has(s.id)) continue;
      const bucket = `${rule.text} ${refBucket(policy, zone, s.time)}`;
      keptPerBucket.set(bucket, [...(keptPerBucket.get(bucket) ?? []), s.id]);
    }
    for (const [bucket, ids] of keptPerBucket)
      assert.equal(ids.length, 1, `${bucket} keeps ${ids.join(', ')}`);
    // At least one per bucket: its oldest, unless that one is already under an older rule.
    policy.rules.forEach((rule, zone) => {
      if (rule.keep === 'all' || rule.keep === 'none') return;
      oldestPerBucket.clear();
      for (const s of done) {
        const bucket = refBucket(policy, zone, s.time);
        if (!oldestPerBucket.has(bucket)) oldestPerBucket.set(bucket, s);
      }
      for (const [bucket, oldest] of oldestPerBucket) {
        if (oldest.time <= now && zoneOf(policy, now, oldest) === zone)
          assert.ok(kept.has(oldest.id), `${rule.text}: ${bucket} lost its oldest, ${oldest.id}`);
      }
    });
  });
});

test('retention: pruning twice removes nothing the second time (300 random histories)', () => {
  forEachHistory(({ snapshots, policy, now }) => {
    const first = planRetention(snapshots, policy, now);
    const second = planRetention(without(snapshots, first.remove), policy, now);
    assert.deepEqual(second.remove, [], 'the second prune removed more');
    assert.deepEqual(second.keep.sort(), first.keep.sort());
  });
});

test('retention: a later clock never keeps what an earlier plan removed (300 random histories)', () => {
  forEachHistory(({ snapshots, policy, now, rand }) => {
    const earlier = new Set(planRetention(snapshots, policy, now).keep);
    const later = new Date(now.getTime() + rand() * 2 * YEAR);
    for (const id of planRetention(snapshots, policy, later).keep)
      assert.ok(
        earlier.has(id),
        `${id} removed at ${now.toISOString()} but wanted at ${later.toISOString()}`,
      );
  });
});

test('retention: pruning after every backup: what a rule kept stays until an older rule takes over, and nothing the final plan wants is gone (300 random histories)', () => {
  forEachHistory(({ snapshots, policy, rand }) => {
    let live: Snap[] = [];
    let clock = 0;
    const keptUnderRule = new Map<string, number>(); // id → the rule that last kept it
    for (const s of snapshots) {
      live.push(s);
      clock = Math.max(clock, s.time.getTime() + rand() * 10 * MINUTE);
      const now = new Date(clock);
      const plan = planRetention(live, policy, now);
      for (const id of plan.remove) {
        const was = keptUnderRule.get(id);
        const zone = zoneOf(
          policy,
          now,
          live.find((l) => l.id === id)!,
        );
        assert.ok(
          was !== zone,
          `${id}, kept by ${policy.rules[zone]?.text}, removed by it when ${s.id} arrived`,
        );
      }
      const newest = new Set(
        complete(live)
          .slice(-Math.max(1, policy.keepLast))
          .map((l) => l.id),
      );
      for (const l of without(live, plan.remove))
        if (!newest.has(l.id)) keptUnderRule.set(l.id, zoneOf(policy, now, l));
      live = without(live, plan.remove);
    }
    const end = new Date(clock + rand() * YEAR);
    const alive = new Set(live.map((s) => s.id));
    for (const id of planRetention(snapshots, policy, end).keep)
      assert.ok(
        alive.has(id),
        `${id} is wanted at ${end.toISOString()} but an earlier prune removed it`,
      );
  });
});

test('retention: the oldest of a day survives and the reasons say why', () => {
  const at = (iso: string, complete = true) => ({ id: iso, time: new Date(iso), complete });
  const plan = planRetention(
    [
      at('2026-06-10T00:30:00Z'),
      at('2026-06-10T05:00:00Z'),
      at('2026-06-14T09:00:00Z', false),
      at('2026-06-15T11:00:00Z'),
      at('2026-06-16T00:00:00Z'),
    ],
    parseRetentionSpec(DEFAULT_RETENTION_SPEC),
    new Date('2026-06-15T12:00:00Z'),
  );
  assert.deepEqual(plan.remove, ['2026-06-10T05:00:00Z']);
  assert.deepEqual(Object.fromEntries(plan.reasons), {
    '2026-06-10T00:30:00Z': 'the oldest of day 2026-06-10 (30d:daily)',
    '2026-06-10T05:00:00Z': 'day 2026-06-10 has an older one (30d:daily)',
    '2026-06-15T11:00:00Z': 'kept by 24h:all',
    '2026-06-16T00:00:00Z': 'dated after now (clock skew?)',
  });
});

test('retention: a week that straddles a month boundary is two buckets when a monthly rule follows', () => {
  // Sunday 2026-03-01 closes ISO week 2026-W09, which began in February.
  const snaps = ['2026-02-27T10:00:00Z', '2026-03-01T10:00:00Z', '2026-04-01T10:00:00Z'].map(
    (iso) => ({ id: iso, time: new Date(iso) }),
  );
  const now = new Date('2026-04-20T00:00:00Z');
  assert.deepEqual(
    planRetention(snaps, parseRetentionSpec('52w:weekly,*:monthly'), now).remove,
    [],
  );
  assert.deepEqual(planRetention(snaps, parseRetentionSpec('52w:weekly'), now).remove, [
    '2026-03-01T10:00:00Z',
  ]);
});

test('retention: calendar buckets are UTC hours, days, ISO weeks, months and years', () => {
  const cases: [string, string][] = [
    ['2020-12-31T23:59:59Z', 'week 2020-W53'],
    ['2021-01-03T12:00:00Z', 'week 2020-W53'],
    ['2021-01-04T00:00:00Z', 'week 2021-W01'],
    ['2024-12-30T00:00:00Z', 'week 2025-W01'],
    ['2026-11-26T18:01:02Z', 'week 2026-W48'],
  ];
  for (const [iso, week] of cases) assert.equal(bucketName('weekly', new Date(iso)), week, iso);
  const t = new Date('2026-11-26T18:01:02Z');
  assert.deepEqual(
    (['hourly', 'daily', 'monthly', 'yearly'] as const).map((p) => bucketName(p, t)),
    ['hour 2026-11-26T18h', 'day 2026-11-26', 'month 2026-11', 'year 2026'],
  );
  for (let ms = Date.UTC(2015, 0, 1); ms < Date.UTC(2031, 0, 1); ms += 13 * HOUR) {
    const week = isoWeekRef(new Date(ms)).replace(/W(\d)$/, 'W0$1');
    assert.equal(bucketName('weekly', new Date(ms)), `week ${week}`, new Date(ms).toISOString());
  }
});
