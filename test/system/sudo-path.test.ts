import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { lookupAccount } from '../../core/system/accounts.js';
import { SETPRIV, SUDO_GROUP } from '../../core/system/paths.js';
import {
  installSystemModeForTests,
  IS_ROOT,
  NEEDS_ROOT,
  oneShotDirs,
  type SystemModeSession,
} from './system-mode-fixture.js';

const USER = 'pullback-test-desk';
let session: SystemModeSession | undefined;
before(async () => {
  if (!IS_ROOT) return;
  session = await installSystemModeForTests();
  if (!lookupAccount(USER))
    spawnSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', USER]);
});
after(() => {
  if (IS_ROOT) spawnSync('userdel', [USER]);
  session?.restore();
});

const LAUNCHER = new URL('../../core/handoff/launch-system-oneshot.js', import.meta.url).href;

/** Starts and stops a system-mode one-shot as an ordinary user, the way `pullback backup` would. */
function launchAsUser(groups: string[], source: string) {
  const H = generateKeyPair('pullback-test-h');
  const K = generateKeyPair('pullback-test-k');
  const script = `
    const { launchSystemOneShot } = await import(${JSON.stringify(LAUNCHER)});
    try {
      const one = await launchSystemOneShot({ bindAddress: '127.0.0.2', allowFrom: '127.0.0.3',
        clientPublicKey: ${JSON.stringify(K.publicKey)}, hostPrivateKey: ${JSON.stringify(H.privateKey)},
        sources: [${JSON.stringify(source)}], deadlineMs: 60000 });
      console.log(JSON.stringify({ port: one.port, user: one.user }));
      await one.stop();
    } catch (err) { console.log(err.toLine()); process.exitCode = 1; }`;
  const account = lookupAccount(USER)!;
  const groupIds = groups.map(
    (g) => spawnSync('getent', ['group', g], { encoding: 'utf8' }).stdout.split(':')[2],
  );
  return spawnSync(
    SETPRIV,
    [
      `--reuid=${account.uid}`,
      `--regid=${account.gid}`,
      groupIds.length ? `--groups=${groupIds.join(',')}` : '--clear-groups',
      '--',
      process.execPath,
      '--input-type=module',
      '-e',
      script,
    ],
    {
      encoding: 'utf8',
      cwd: '/',
      env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' },
      timeout: 60_000,
    },
  );
}

test('a member of the pullback group starts a system-mode one-shot through sudo -n, and stopping it leaves nothing', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = mkdtempSync(join(tmpdir(), 'pullback-sudo-src-'));
  writeFileSync(join(source, 'root-only'), 'x\n', { mode: 0o600 });
  chmodSync(source, 0o700);
  spawnSync('gpasswd', ['-a', USER, SUDO_GROUP]);
  const started = launchAsUser([SUDO_GROUP], source);
  assert.equal(started.status, 0, `${started.stdout} ${started.stderr}`);
  assert.match(started.stdout, /^\{"port":\d+,"user":"pullback-reader"\}$/m);
  assert.deepEqual(
    oneShotDirs(),
    [],
    "closing the helper's stdin ended the one-shot and removed its directory",
  );
});

test('a user outside the pullback group gets a clear HELPER_FAILED with the fix', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = mkdtempSync(join(tmpdir(), 'pullback-sudo-src-'));
  spawnSync('gpasswd', ['-d', USER, SUDO_GROUP]);
  const refused = launchAsUser([], source);
  assert.notEqual(refused.status, 0);
  assert.equal(
    refused.stdout.trim(),
    `HELPER_FAILED: you are not in the pullback group: sudo adduser ${USER} pullback (then log in again)`,
  );
});
