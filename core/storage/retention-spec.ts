import { PullbackError } from '../errors.js';

/**
 * A retention spec is a comma-separated list of rules, youngest first:
 *
 *   `<age>:<keep>`  up to this age (counted back from now) keep `<keep>`;
 *                   age is `<n>h|<n>d|<n>w|<n>m|<n>y` (m = 30 days, y = 365 days) or `*` (forever,
 *                   last rule only); keep is `all|hourly|daily|weekly|monthly|yearly|none`.
 *   `last:<n>`      also always keep the n newest snapshots (at most once, anywhere in the list).
 *
 * Ages must grow and keeps must thin out from rule to rule (all, hourly, daily, weekly, monthly,
 * yearly, none): a snapshot thinned away young would otherwise be wanted again when older.
 * Snapshots older than the last rule are removed (a spec without `*` ends in `none`).
 */
export const DEFAULT_RETENTION_SPEC = '24h:all,30d:daily,52w:weekly,*:monthly';

export const KEEPS = ['all', 'hourly', 'daily', 'weekly', 'monthly', 'yearly', 'none'] as const;
export type Keep = (typeof KEEPS)[number];
export type Period = Exclude<Keep, 'all' | 'none'>;

export interface RetentionRule {
  /** the rule covers snapshots younger than this many ms (Infinity for `*`) */
  readonly upToMs: number;
  readonly keep: Keep;
  /** the rule as written, for messages and reasons */
  readonly text: string;
}

export interface RetentionPolicy {
  readonly rules: readonly RetentionRule[];
  /** `last:<n>`, 0 when absent */
  readonly keepLast: number;
}

const HOUR_MS = 3_600_000;
const UNIT_MS: Record<string, number> = {
  h: HOUR_MS,
  d: 24 * HOUR_MS,
  w: 7 * 24 * HOUR_MS,
  m: 30 * 24 * HOUR_MS,
  y: 365 * 24 * HOUR_MS,
};
const MAX_COUNT = 100_000;

function bad(what: string): PullbackError {
  return new PullbackError('BAD_CONFIG', `retention: ${what}`);
}

export function parseRetentionSpec(spec: string): RetentionPolicy {
  if (spec.trim() === '')
    throw bad(`the spec is empty; expected rules like "${DEFAULT_RETENTION_SPEC}"`);
  const rules: RetentionRule[] = [];
  let keepLast = 0;
  spec.split(',').forEach((raw, index) => {
    const item = raw.trim();
    if (item === '') throw bad(`item ${index + 1} of "${spec}" is empty`);
    const parts = item.split(':');
    if (parts.length !== 2)
      throw bad(`"${item}" is not <age>:<keep> or last:<n> (e.g. "30d:daily")`);
    const [left, right] = parts as [string, string];
    if (left === 'last') {
      if (keepLast > 0) throw bad(`"${item}": last:<n> may appear only once`);
      keepLast = parseCount(right, item);
      return;
    }
    const previous = rules[rules.length - 1];
    if (previous?.upToMs === Infinity) throw bad(`"${previous.text}": * must be the last rule`);
    const rule = { upToMs: parseAge(left, item), keep: parseKeep(right, item), text: item };
    if (previous && rule.upToMs <= previous.upToMs)
      throw bad(`"${item}" must cover a longer age than the rule before it, "${previous.text}"`);
    if (previous && KEEPS.indexOf(rule.keep) < KEEPS.indexOf(previous.keep))
      throw bad(
        `"${item}" keeps more than the younger rule "${previous.text}"; rules must thin out with age`,
      );
    rules.push(rule);
  });
  return { rules, keepLast };
}

function parseCount(text: string, item: string): number {
  if (!/^[0-9]+$/.test(text)) throw bad(`"${text}" in "${item}" is not a whole number`);
  const n = Number(text);
  if (n < 1 || n > MAX_COUNT) throw bad(`"${text}" in "${item}" must be 1..${MAX_COUNT}`);
  return n;
}

function parseAge(text: string, item: string): number {
  if (text === '*') return Infinity;
  const m = /^([0-9]+)([hdwmy])$/.exec(text);
  if (!m) throw bad(`"${text}" in "${item}" is not an age (<n>h, <n>d, <n>w, <n>m, <n>y or *)`);
  return parseCount(m[1]!, item) * UNIT_MS[m[2]!]!;
}

function parseKeep(text: string, item: string): Keep {
  if ((KEEPS as readonly string[]).includes(text)) return text as Keep;
  throw bad(`"${text}" in "${item}" is not one of ${KEEPS.join(', ')}`);
}
