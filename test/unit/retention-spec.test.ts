import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETENTION_SPEC, parseRetentionSpec } from '../../core/storage/retention-spec.js';
import { PullbackError } from '../../core/errors.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test('retention: the default spec parses to all 24 h, daily 30 d, weekly 52 w, monthly forever', () => {
  assert.equal(DEFAULT_RETENTION_SPEC, '24h:all,30d:daily,52w:weekly,*:monthly');
  const policy = parseRetentionSpec(DEFAULT_RETENTION_SPEC);
  assert.deepEqual(
    policy.rules.map((r) => [r.upToMs, r.keep]),
    [
      [24 * HOUR, 'all'],
      [30 * DAY, 'daily'],
      [52 * 7 * DAY, 'weekly'],
      [Infinity, 'monthly'],
    ],
  );
  assert.equal(policy.keepLast, 0);
});

test('retention: every unit, last:<n>, spaces around items and a spec without * parse', () => {
  const policy = parseRetentionSpec(' last:10 , 6h:all,2d:hourly,3w:daily,6m:weekly,2y:monthly ');
  assert.equal(policy.keepLast, 10);
  assert.deepEqual(
    policy.rules.map((r) => r.upToMs),
    [6 * HOUR, 2 * DAY, 21 * DAY, 180 * DAY, 730 * DAY],
  );
  assert.deepEqual(parseRetentionSpec('last:3').rules, []);
  assert.deepEqual(
    parseRetentionSpec('1y:yearly,*:none').rules.map((r) => r.keep),
    ['yearly', 'none'],
  );
});

// Each bad spec, and the part of it the message must name.
const BAD_SPECS: [spec: string, names: string][] = [
  ['', 'empty'],
  ['   ', 'empty'],
  ['24h:all,,30d:daily', 'item 2'],
  ['24h:all,', 'item 2'],
  ['30d', '"30d"'],
  ['30d:daily:extra', '"30d:daily:extra"'],
  ['30x:daily', '"30x"'],
  ['d:daily', '"d"'],
  ['-1d:daily', '"-1d"'],
  ['0d:all', '"0" in "0d:all"'],
  ['24H:all', '"24H"'],
  ['30d:dayly', '"dayly"'],
  ['30d:', '"" in "30d:"'],
  ['*:monthly,30d:daily', '"*:monthly"'],
  ['30d:daily,24h:all', '"24h:all"'],
  ['24h:all,1d:daily', '"1d:daily"'],
  ['7d:daily,30d:all', '"30d:all"'],
  ['7d:none,30d:daily', '"30d:daily"'],
  ['52w:monthly,*:weekly', '"*:weekly"'],
  ['last:0', '"0" in "last:0"'],
  ['last:ten', '"ten"'],
  ['last:3,24h:all,last:5', '"last:5"'],
  ['999999d:daily', '"999999"'],
  ['24h:all,30d:daily;52w:weekly', 'daily;52w'],
];

test(`retention: ${BAD_SPECS.length} bad specs are refused with BAD_CONFIG naming the bad part`, () => {
  for (const [spec, names] of BAD_SPECS) {
    assert.throws(
      () => parseRetentionSpec(spec),
      (err: unknown) => {
        assert.ok(err instanceof PullbackError, `${JSON.stringify(spec)}: not a PullbackError`);
        assert.equal(err.code, 'BAD_CONFIG', JSON.stringify(spec));
        assert.match(err.message, /^retention: /, JSON.stringify(spec));
        assert.ok(
          err.message.includes(names),
          `${JSON.stringify(spec)}: message ${JSON.stringify(err.message)} does not name ${names}`,
        );
        return true;
      },
      `${JSON.stringify(spec)} was accepted`,
    );
  }
});
