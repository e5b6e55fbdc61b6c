import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { lookupAccount, lookupGroup } from '../../core/system/accounts.js';
import { renderPolkitPolicy } from '../../core/system/polkit-policy.js';
import { renderSudoers } from '../../core/system/sudoers.js';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import {
  HELPER_WRAPPER,
  POLKIT_POLICY_PATH,
  SETPRIV,
  READER_USER,
  RSYNC_COPY,
  SUDO_GROUP,
  SUDOERS_PATH,
  SYSTEM_PREFIX,
} from '../../core/system/paths.js';
import { systemModeChecks } from '../../core/system/status.js';
import {
  installSystemModeForTests,
  IS_ROOT,
  NEEDS_ROOT,
  pullback,
  type SystemModeSession,
} from './system-mode-fixture.js';

let session: SystemModeSession | undefined;
before(async () => {
  if (IS_ROOT) session = await installSystemModeForTests();
});
after(() => session?.restore());

test('the packaged polkit policy and sudoers rule are exactly what install writes', () => {
  const root = new URL('../../../', import.meta.url);
  assert.equal(
    readFileSync(new URL('build/polkit/org.pullback.helper.policy', root), 'utf8'),
    renderPolkitPolicy(),
  );
  assert.equal(readFileSync(new URL('build/sudoers/pullback', root), 'utf8'), renderSudoers());
});

test('install twice, then uninstall twice, is clean', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  for (let i = 0; i < 2; i++) {
    const install = pullback(['system', 'install']);
    assert.equal(install.status, 0, `install #${i + 1}: ${install.stderr}`);
    const status = pullback(['system', 'status']);
    assert.equal(status.status, 0, `status after install #${i + 1}: ${status.stdout}`);
    assert.ok(systemModeChecks().every((c) => c.ok));
  }
  assert.equal(readFileSync(SUDOERS_PATH, 'utf8'), renderSudoers());
  assert.equal(readFileSync(POLKIT_POLICY_PATH, 'utf8'), renderPolkitPolicy());
  assert.equal(lookupAccount(READER_USER)?.shell, '/bin/sh');
  for (let i = 0; i < 2; i++) {
    const uninstall = pullback(['system', 'uninstall']);
    assert.equal(uninstall.status, 0, `uninstall #${i + 1}: ${uninstall.stderr}`);
  }
  for (const path of [SYSTEM_PREFIX, SUDOERS_PATH, POLKIT_POLICY_PATH])
    assert.ok(!existsSync(path), `${path} is gone`);
  assert.equal(lookupAccount(READER_USER), undefined, 'the reader account is gone');
  assert.equal(lookupGroup(SUDO_GROUP), undefined, 'the pullback group is gone');
  const status = pullback(['system', 'status']);
  assert.equal(status.status, 1, 'status says system mode is missing');
  assert.match(status.stdout, /PROBLEM reader account/);
  assert.equal(pullback(['system', 'install']).status, 0, 'and it installs again from scratch');
});

test('status reports a lost capability after the rsync copy is replaced, with the fix', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  assert.equal(pullback(['system', 'install']).status, 0);
  const cp = spawnSync('cp', ['/usr/bin/rsync', RSYNC_COPY]); // writing over the file drops its capability
  assert.equal(cp.status, 0);
  const status = pullback(['system', 'status']);
  assert.equal(status.status, 1);
  assert.match(
    status.stdout,
    /PROBLEM rsync copy .*capabilities "none", expected "cap_dac_read_search=ei"/,
  );
  assert.match(status.stdout, /fix: sudo pullback system install/);
  const check = systemModeChecks().find((c) => c.name === 'rsync copy');
  assert.equal(check?.ok, false);
  assert.equal(pullback(['system', 'install']).status, 0);
  assert.equal(pullback(['system', 'status']).status, 0, 'install again repairs it');
});

test('install refuses without root, and the helper wrapper runs a root-owned Node with an empty environment', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const asNobody = spawnSync(
    SETPRIV,
    [
      '--reuid=nobody',
      '--regid=nogroup',
      '--clear-groups',
      '--',
      process.execPath,
      PULLBACK_CLI_SCRIPT,
      'system',
      'install',
    ],
    { encoding: 'utf8' },
  );
  assert.notEqual(asNobody.status, 0);
  assert.match(
    asNobody.stderr,
    /^HELPER_FAILED: system install needs root: run sudo pullback system install$/m,
  );
  assert.equal(pullback(['system', 'install']).status, 0);
  const wrapper = readFileSync(HELPER_WRAPPER, 'utf8');
  assert.match(
    wrapper,
    /^exec \/usr\/bin\/env -i PATH=\S+ LANG=C\.UTF-8 \/\S+ \/usr\/lib\/pullback\/app\/dist\/helper\/main\.js "\$@"$/m,
  );
});
