import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, chownSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startBackupHost, type BackupHost } from '../support/backup-host.js';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';

// User mode promises "no root anywhere on the client": here the whole client side — init,
// pair, the one-shot sshd, the gate, rsync — runs as a freshly made unprivileged account.
const IS_ROOT = process.getuid?.() === 0;
const user = `pbuser${randomBytes(3).toString('hex')}`;
const home = `/home/${user}`;
let host: BackupHost | undefined;
let uid = 0;
let skipReason: string | undefined;

function asUser(args: string[]) {
  return spawnSync(
    'setpriv',
    [
      '--reuid',
      user,
      '--regid',
      user,
      '--init-groups',
      '--',
      process.execPath,
      PULLBACK_CLI_SCRIPT,
      ...args,
    ],
    {
      encoding: 'utf8',
      cwd: home,
      env: { PATH: '/usr/bin:/bin', HOME: home, USER: user, LOGNAME: user },
      timeout: 120_000,
    },
  );
}

before(async () => {
  if (!IS_ROOT) return;
  const made = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', user], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`useradd failed: ${made.stderr}`);
  uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
  const readable = spawnSync('setpriv', [
    '--reuid',
    user,
    '--regid',
    user,
    '--init-groups',
    '--',
    'test',
    '-r',
    PULLBACK_CLI_SCRIPT,
  ]);
  if (readable.status !== 0)
    skipReason = `${user} cannot read this checkout (${PULLBACK_CLI_SCRIPT}); clone it somewhere world-readable`;
  host = await startBackupHost();
});

after(async () => {
  await host?.stop();
  if (IS_ROOT) spawnSync('userdel', ['--remove', user]);
});

test('user mode: an unprivileged account pairs and backs up its own files with no root on the client side', (t) => {
  if (!IS_ROOT)
    return t.skip(
      'needs root to create a throwaway account; as a normal user, every other test is already user mode',
    );
  if (skipReason) return t.skip(skipReason);
  const docs = join(home, 'docs');
  mkdirSync(docs);
  writeFileSync(join(docs, 'letter.txt'), 'dear backup\n');
  writeFileSync(join(docs, 'private.key'), 'mine only\n', { mode: 0o600 });
  for (const path of [docs, join(docs, 'letter.txt'), join(docs, 'private.key')])
    chownSync(path, uid, uid);

  const init = asUser(['init', '--source', docs, '--name', user]);
  assert.equal(init.status, 0, init.stderr);
  const publicKey = readFileSync(
    join(home, '.config', 'pullback', 'id_ed25519.pub'),
    'utf8',
  ).trim();
  host!.addClient(user, publicKey);
  const pair = asUser([
    'pair',
    `${host!.user}@${host!.address}:${host!.port}`,
    '--name',
    'home',
    '--yes',
    '--local-address',
    '127.0.0.2',
  ]);
  assert.equal(pair.status, 0, pair.stderr);
  assert.match(pair.stdout, /paired/);

  const backup = asUser(['backup']);
  assert.equal(backup.status, 0, backup.stderr + backup.stdout);
  const snapshots = join(host!.storage, user, 'snapshots');
  const latest = join(host!.storage, user, 'latest');
  assert.ok(
    existsSync(join(latest, docs, 'private.key')),
    'the 0600 file of the user is in the snapshot',
  );
  assert.equal(readFileSync(join(latest, docs, 'letter.txt'), 'utf8'), 'dear backup\n');
  assert.ok(statSync(snapshots).isDirectory());
  // the one-shot's secrets lived in the user's own state dir and are gone
  const run = join(home, '.local', 'state', 'pullback', 'run');
  const left = existsSync(run) ? spawnSync('ls', [run], { encoding: 'utf8' }).stdout.trim() : '';
  assert.equal(left, '', 'no one-shot directory left behind');
});
