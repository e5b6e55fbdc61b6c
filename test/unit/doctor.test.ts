import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rsyncWarning, compareVersions } from '../../core/doctor.js';

test('doctor warns loudly about rsync older than 3.4.0 (CVE-2024-12084…12088)', () => {
  assert.match(rsyncWarning('3.2.7') ?? '', /CVE-2024-12084/);
  assert.equal(rsyncWarning('3.4.0'), undefined);
  assert.equal(rsyncWarning('3.5.0'), undefined);
  assert.ok(compareVersions('3.10.0', '3.4.0') > 0);
});
