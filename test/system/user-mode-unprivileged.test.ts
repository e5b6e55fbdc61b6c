import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, chownSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startBackupHost, type BackupHost } from '../support/backup-host.js';
import { IS_ROOT, makeThrowawayUser, type ThrowawayUser } from '../support/throwaway-user.js';

// User mode promises "no root anywhere on the client": here the whole client side — init,
// pair, the one-shot sshd, the gate, rsync — runs as a freshly made unprivileged account.
let account: ThrowawayUser | undefined;
let host: BackupHost | undefined;

before(async () => {
  if (!IS_ROOT) return;
  account = makeThrowawayUser('pbuser');
  host = await startBackupHost();
});

after(async () => {
  await host?.stop();
  account?.remove();
});

test('user mode: an unprivileged account pairs and backs up its own files with no root on the client side', (t) => {
  if (!IS_ROOT)
    return t.skip(
      'needs root to create a throwaway account; as a normal user, every other test is already user mode',
    );
  if (account!.cannotRun) return t.skip(account!.cannotRun);
  const { name: user, home, uid } = account!;
  const asUser = (args: string[]) => account!.cli(args);
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
