import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rsyncWarning, compareVersions, rsyncConfineProblem } from '../../core/doctor.js';

test('doctor warns loudly about rsync older than 3.4.0 (CVE-2024-12084…12088)', () => {
  assert.match(rsyncWarning('3.2.7') ?? '', /CVE-2024-12084/);
  assert.equal(rsyncWarning('3.4.0'), undefined);
  assert.equal(rsyncWarning('3.5.0'), undefined);
  assert.ok(compareVersions('3.10.0', '3.4.0') > 0);
});

test('S3: doctor says which rsync the gate needs when rsync has no --confine-root', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-doctor-'));
  try {
    const old = join(dir, 'rsync');
    writeFileSync(old, "#!/bin/sh\necho ' --munge-links   munge symlinks'\n", { mode: 0o755 });
    assert.match(
      rsyncConfineProblem(old, '3.4.1') ?? '',
      /rsync 3\.4\.1 has no --confine-root: Pullback needs rsync 3\.5\.0 or later/,
    );
    assert.equal(rsyncConfineProblem('/usr/bin/rsync', '3.5.0'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
