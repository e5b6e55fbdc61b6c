import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBackupHost, type BackupHost } from '../support/backup-host.js';
import { RUNNING_APP_ROOT } from '../../core/system/app-copy.js';
import { PULLBACK_VERSION } from '../../core/version.js';

export const IS_ROOT = process.getuid?.() === 0;
export const NEEDS_ROOT =
  'needs root: installs into a throwaway root and backs up as a throwaway account (CI runs these as root)';

/** `argv…` as `user` (or root), from `/` (not the checkout), with a minimal login-like env. */
function runAs(user: string | undefined, argv: string[], home = '/root'): SpawnSyncReturns<string> {
  const drop = user ? ['setpriv', '--reuid', user, '--regid', user, '--init-groups', '--'] : [];
  const [cmd, ...args] = [...drop, ...argv];
  return spawnSync(cmd!, args, {
    encoding: 'utf8',
    cwd: '/',
    env: {
      PATH: '/usr/bin:/bin:/usr/sbin:/sbin',
      HOME: home,
      USER: user ?? 'root',
      LANG: 'C.UTF-8',
    },
    timeout: 180_000,
  });
}

/**
 * One installed `pullback` (argv prefix `program`), used as a user would: --version, `server
 * init` and `server add-client` on the backup host, then init, pair and two backups as a
 * throwaway account, from another directory. `upgrade` re-installs between the two backups.
 * Returns the forced command line add-client wrote.
 */
export async function exerciseInstalledProgram(
  program: string[],
  upgrade: () => void,
): Promise<string> {
  const user = `pbinst${randomBytes(3).toString('hex')}`;
  const home = `/home/${user}`;
  let host: BackupHost | undefined;
  const made = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', user], {
    encoding: 'utf8',
  });
  assert.equal(made.status, 0, `useradd: ${made.stderr}`);
  try {
    const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
    const version = runAs(user, [...program, '--version'], home);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), PULLBACK_VERSION);

    host = await startBackupHost();
    const init = runAs(undefined, [
      ...program,
      'server',
      'init',
      '--storage',
      host.storage,
      '--config',
      host.configFile,
    ]);
    assert.equal(init.status, 0, init.stderr);

    const docs = join(home, 'docs');
    mkdirSync(docs);
    writeFileSync(join(docs, 'letter.txt'), 'dear backup\n');
    chownSync(docs, uid, uid);
    chownSync(join(docs, 'letter.txt'), uid, uid);
    const clientInit = runAs(user, [...program, 'init', '--source', docs, '--name', user], home);
    assert.equal(clientInit.status, 0, clientInit.stderr);
    const publicKey = readFileSync(join(home, '.config/pullback/id_ed25519.pub'), 'utf8').trim();
    const add = runAs(undefined, [
      ...program,
      'server',
      'add-client',
      user,
      '--key',
      publicKey,
      '--config',
      host.configFile,
      '--authorized-keys',
      host.authorizedKeys,
    ]);
    assert.equal(add.status, 0, add.stderr);
    const forced = readFileSync(host.authorizedKeys, 'utf8')
      .split('\n')
      .find((l) => l.includes(`--client ${user}`));
    assert.ok(forced, 'add-client wrote the entry');
    assert.ok(
      !forced.includes(RUNNING_APP_ROOT.replace(/\/$/, '')),
      `the forced command does not point into the checkout: ${forced}`,
    );

    const pair = runAs(
      user,
      [
        ...program,
        'pair',
        `${host.user}@${host.address}:${host.port}`,
        '--name',
        'home',
        '--yes',
        '--local-address',
        '127.0.0.2',
      ],
      home,
    );
    assert.equal(pair.status, 0, pair.stderr + pair.stdout);
    assert.match(pair.stdout, /paired/);
    for (const round of ['installed', 'upgraded']) {
      if (round === 'upgraded') upgrade();
      writeFileSync(join(docs, 'letter.txt'), `dear backup, ${round}\n`);
      const backup = runAs(user, [...program, 'backup'], home);
      assert.equal(backup.status, 0, `${round}: ${backup.stderr}${backup.stdout}`);
      const latest = join(host.storage, user, 'latest');
      assert.equal(
        readFileSync(join(latest, docs, 'letter.txt'), 'utf8'),
        `dear backup, ${round}\n`,
      );
      assert.ok(
        !existsSync(join(latest, home, '.config/pullback/id_ed25519')),
        'the identity key is never backed up',
      );
    }
    return forced;
  } finally {
    await host?.stop();
    spawnSync('userdel', ['--remove', user]);
  }
}
