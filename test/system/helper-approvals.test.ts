import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { encodeHelperInput } from '../../core/system/helper-stdin.js';
import { lookupAccount } from '../../core/system/accounts.js';
import { HELPER_WRAPPER, SETPRIV, SUDO_GROUP, SYSTEM_APPROVALS } from '../../core/system/paths.js';
import {
  installSystemModeForTests,
  IS_ROOT,
  NEEDS_ROOT,
  oneShotDirs,
  pullback,
  type SystemModeSession,
} from './system-mode-fixture.js';

/**
 * S4 / issue 9 §2: whoever may call the helper (group pullback through sudo, the active desktop
 * user through polkit) used to choose the one-time key and the peer address, so they could let
 * any machine read every file. Now the helper serves only what root approved.
 */
const USER = 'pullback-test-approve';
let session: SystemModeSession | undefined;
let approved: string;
before(async () => {
  if (!IS_ROOT) return;
  session = await installSystemModeForTests();
  if (!lookupAccount(USER))
    spawnSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', USER]);
  spawnSync('gpasswd', ['-a', USER, SUDO_GROUP]);
  // root approves one backup host for one tree (only that, for this file's tests)
  approved = mkdtempSync(join('/var/tmp', 'pullback-approved-'));
  mkdirSync(join(approved, 'inner'));
  writeFileSync(SYSTEM_APPROVALS, '{"version":1,"backupHosts":[]}\n', { mode: 0o644 });
  const allow = pullback(['system', 'allow', '127.0.0.3', '--source', approved]);
  assert.equal(allow.status, 0, allow.stderr);
  assert.match(allow.stdout, /^approved: 127\.0\.0\.3:22 \(127\.0\.0\.3\) may read \/var\/tmp\//);
});
after(() => {
  if (IS_ROOT) spawnSync('userdel', [USER]);
  session?.restore();
});

const K = generateKeyPair('attacker-k');
const H = generateKeyPair('attacker-h');

/** The helper, run through sudo -n by an unprivileged member of group pullback, with H on stdin. */
function helperAsUser(allowFrom: string, sources: string[]) {
  const account = lookupAccount(USER)!;
  const gid = spawnSync('getent', ['group', SUDO_GROUP], { encoding: 'utf8' }).stdout.split(':')[2];
  const argv = [
    `--reuid=${account.uid}`,
    `--regid=${account.gid}`,
    `--groups=${gid}`,
    '--',
    '/usr/bin/sudo',
    '-n',
    HELPER_WRAPPER,
    'oneshot',
    '--bind',
    '127.0.0.2',
    '--allow-from',
    allowFrom,
    '--client-key',
    K.publicKey.split(' ').slice(0, 2).join(' '),
    '--deadline',
    '60',
    ...sources.flatMap((s) => ['--source', s]),
  ];
  const child = spawn(SETPRIV, argv, {
    cwd: '/',
    env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('\n')) child.stdin.end(); // ready: closing stdin ends the one-shot
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => {});
  child.stdin.write(encodeHelperInput(H.privateKey, [])); // H, and no change lists
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function assertRefused(
  r: { status: number | null; stdout: string; stderr: string },
  message: RegExp,
): void {
  assert.notEqual(r.status, 0, `refused: ${r.stdout}`);
  assert.equal(r.stdout, '', 'no one-shot was started (no port)');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, message);
  assert.deepEqual(oneShotDirs(), [], 'no one-shot directory');
}

test('S4: a member of group pullback asking the helper to let an unapproved peer in is refused with one line', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  assertRefused(
    await helperAsUser('127.0.0.9', [approved]),
    /^BAD_ARGS: helper: backup host 127\.0\.0\.9 is not approved for system mode/,
  );
});

test('S4: a member of group pullback asking the helper for an unapproved source is refused with one line', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  for (const sources of [['/etc'], [approved, '/root'], ['/'], [`${approved}-other`]]) {
    if (sources[0] === `${approved}-other`) mkdirSync(sources[0], { recursive: true });
    assertRefused(
      await helperAsUser('127.0.0.3', sources),
      /^BAD_ARGS: helper: source \S+ is not approved for backup host 127\.0\.0\.3/,
    );
  }
});

test('S4: the approved backup host with an approved source (or a directory inside it) is served', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  for (const sources of [[approved], [join(approved, 'inner')]]) {
    const r = await helperAsUser('127.0.0.3', sources);
    assert.match(r.stdout, /^\{"port":\d+,"user":"pullback-reader"\}\n$/, r.stderr);
  }
  assert.deepEqual(oneShotDirs(), []);
});

test('S4: approvals root cannot trust (not root-owned, or writable by others) approve nothing', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const good = readFileSync(SYSTEM_APPROVALS);
  const account = lookupAccount(USER)!;
  try {
    chmodSync(SYSTEM_APPROVALS, 0o666);
    assertRefused(
      await helperAsUser('127.0.0.3', [approved]),
      /^HELPER_FAILED: \/etc\/pullback\/system\.json must be owned and writable by root only, but .* writable by group or others/,
    );
    chmodSync(SYSTEM_APPROVALS, 0o644);
    chownSync(SYSTEM_APPROVALS, account.uid, account.gid);
    assertRefused(
      await helperAsUser('127.0.0.3', [approved]),
      /^HELPER_FAILED: .*system\.json is owned by uid \d+, not root/,
    );
    const status = pullback(['system', 'status']);
    assert.equal(status.status, 1, 'system status reports it');
    assert.match(status.stdout, /PROBLEM approvals/);
  } finally {
    chownSync(SYSTEM_APPROVALS, 0, 0);
    writeFileSync(SYSTEM_APPROVALS, good);
  }
});

test('S4: system status lists the approvals, and disallow withdraws one', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const status = pullback(['system', 'status']);
  assert.match(
    status.stdout,
    /ok\s+approvals\s+.*127\.0\.0\.3:22 \(127\.0\.0\.3\) may read \/var\/tmp\//,
  );
  const asUser = spawnSync(
    SETPRIV,
    [
      `--reuid=${lookupAccount(USER)!.uid}`,
      '--regid=65534',
      '--clear-groups',
      '--',
      process.execPath,
      ...pullbackArgs(['system', 'allow', '127.0.0.9', '--source', '/']),
    ],
    { encoding: 'utf8' },
  );
  assert.notEqual(asUser.status, 0, 'only root approves');
  assert.match(asUser.stderr, /^HELPER_FAILED: system allow needs root/);
  const off = pullback(['system', 'disallow', '127.0.0.3']);
  assert.equal(off.status, 0, off.stderr);
  assert.match(pullback(['system', 'status']).stdout, /no backup host approved yet/);
  assert.equal(pullback(['system', 'allow', '127.0.0.3', '--source', approved]).status, 0);
});

function pullbackArgs(args: string[]): string[] {
  return [new URL('../../cli/main.js', import.meta.url).pathname, ...args];
}
