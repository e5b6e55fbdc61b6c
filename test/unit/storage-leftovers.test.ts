import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository, type ClientRepository } from '../../core/storage/repository.js';
import type { SnapshotMetaInput } from '../../core/storage/metadata.js';
import { processStartTime } from '../../core/storage/lock.js';
import { writeServerConfig, parseServerConfig } from '../../core/config/server-store.js';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import * as storageRoot from '../../core/storage/storage-root.js';
import { PullbackError } from '../../core/errors.js';

/**
 * What crashes leave behind is removed once its owner is gone, by the next backup and by
 * `server prune`; a snapshot with damaged metadata is reported, skipped and never deleted; and
 * `server status` says what is left, or that the storage is not there. Through the real CLI.
 */
const META: SnapshotMetaInput = {
  startedAt: '2026-11-26T18:00:00.000Z',
  finishedAt: '2026-11-26T18:01:02.000Z',
  durationMs: 62_000,
  sources: ['/home/u'],
  excludes: [],
  rsyncExit: 0,
  warnings: [],
  stats: {},
};
/** A pid no process has (above the kernel's pid_max limit). */
const DEAD_PID = 4_194_305;

function setup(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-leftovers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const storage = join(dir, 'storage');
  mkdirSync(storage);
  const configFile = join(dir, 'server.json');
  writeServerConfig(configFile, parseServerConfig({ storage, retention: '*:all' }));
  return {
    dir,
    storage,
    configFile,
    repo: openRepository(storage, 'laptop', { backend: 'hardlink' }),
  };
}

async function backupAt(repo: ClientRepository, when: string) {
  const lock = await repo.acquireLock();
  try {
    const run = await repo.prepareRun();
    writeFileSync(join(run.dest, 'f'), when);
    return await repo.promote(META, new Date(when));
  } finally {
    await lock.release();
  }
}

function cli(configFile: string, ...args: string[]) {
  return spawnSync(
    process.execPath,
    [PULLBACK_CLI_SCRIPT, 'server', ...args, '--config', configFile],
    { encoding: 'utf8' },
  );
}

test("R: lock files of dead takers (.lock.new-*, .lock.stale-*) and a killed prune's .deleting-* are removed by `server prune`; a live process's are kept and reported", async (t) => {
  const { storage, configFile, repo } = setup(t);
  await backupAt(repo, '2026-11-26T10:00:00Z');
  const self = `${process.pid}-${processStartTime(process.pid)}`;
  const dead = [
    `.lock.new-${DEAD_PID}-1234-0a1b2c3d`, // a full disk: written, never linked
    `.lock.stale-${DEAD_PID}-1234-0a1b2c3e`,
    `.lock.new-${DEAD_PID}-0a1b2c3f`, // the older name, pid only
    `.lock.stale-${process.pid}-1-0a1b2c40`, // our pid, but another start time: reused pid
  ];
  const alive = `.lock.new-${self}-0a1b2c41`;
  for (const name of [...dead, alive]) writeFileSync(join(repo.dir, name), '{}\n');
  mkdirSync(join(repo.dir, 'snapshots', '.deleting-2026-11-20T000000Z', 'deep'), {
    recursive: true,
  });
  writeFileSync(join(repo.dir, 'snapshots', '.deleting-2026-11-20T000000Z', 'deep', 'x'), 'x');

  const before = cli(configFile, 'status', '--json', '--no-size');
  assert.equal(before.status, 0, before.stderr);
  const reported = (JSON.parse(before.stdout) as { clients: { leftovers: string[] }[] }).clients[0]!
    .leftovers;
  assert.deepEqual(
    [...reported].sort(),
    [...dead, alive, 'snapshots/.deleting-2026-11-20T000000Z'].sort(),
    'status reports every leftover',
  );

  const pruned = cli(configFile, 'prune');
  assert.equal(pruned.status, 0, pruned.stderr);
  const left = readdirSync(repo.dir).filter((n) => n.startsWith('.lock.'));
  assert.deepEqual(left, [alive], 'only the live process keeps its file');
  assert.equal(existsSync(join(repo.dir, 'snapshots', '.deleting-2026-11-20T000000Z')), false);
  const after = cli(configFile, 'status', '--no-size');
  assert.match(after.stdout, new RegExp(`left by crashes .*${alive.replace(/\./g, '\\.')}`));
  void storage;
});

test('R: a snapshot with a damaged <id>.json is shown by status, skipped with a warning by list and prune, and never deleted', async (t) => {
  const { configFile, repo } = setup(t);
  const old = await backupAt(repo, '2026-11-20T10:00:00Z');
  const damaged = await backupAt(repo, '2026-11-21T10:00:00Z');
  await backupAt(repo, '2026-11-26T10:00:00Z');
  writeFileSync(`${damaged.path}.json`, '{ "version": 1, "id": trunc');

  const status = cli(configFile, 'status', '--no-size');
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /2 snapshots/);
  assert.match(
    status.stdout,
    new RegExp(
      `WARNING snapshot ${damaged.id} is not listed .*${damaged.id}\\.json is unreadable: not JSON`,
    ),
  );
  const list = cli(configFile, 'snapshots', 'laptop');
  assert.equal(list.status, 0, list.stderr);
  assert.doesNotMatch(list.stdout, new RegExp(damaged.id));
  assert.match(list.stderr, new RegExp(`WARNING laptop: snapshot ${damaged.id} is not listed`));

  // Retention that removes all but the newest: the damaged one is skipped, not deleted.
  writeServerConfig(
    configFile,
    parseServerConfig({ ...JSON.parse(readFileSync(configFile, 'utf8')), retention: '1h:none' }),
  );
  const prune = cli(configFile, 'prune', 'laptop');
  assert.equal(prune.status, 0, prune.stderr);
  assert.match(prune.stdout, /removed 1, keeps 1/);
  assert.match(prune.stderr, new RegExp(`WARNING laptop: snapshot ${damaged.id} is not listed`));
  assert.equal(existsSync(old.path), false);
  assert.equal(existsSync(damaged.path), true, 'the damaged snapshot is still there');
  assert.equal(readFileSync(join(damaged.path, 'f'), 'utf8'), '2026-11-21T10:00:00Z');
});

test('R: `server status` with the storage missing (disk not mounted) says so in one line and exits non-zero', (t) => {
  const { storage, configFile } = setup(t);
  writeServerConfig(configFile, parseServerConfig({ storage, clients: { laptop: {} } }));
  rmSync(storage, { recursive: true });
  const r = cli(configFile, 'status');
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, '');
  assert.doesNotMatch(r.stderr, /never backed up/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `^NOT_FOUND: the storage directory ${storage} does not exist \\(is the backup disk mounted\\?\\)$`,
      'm',
    ),
  );
  for (const flag of ['--json', '--prometheus=-'])
    assert.notEqual(cli(configFile, 'status', flag).status, 0, `status ${flag} fails too`);
});

test('R: a storage below an /etc/fstab mount point that is not mounted is refused like a missing one', (t) => {
  const { dir, storage } = setup(t);
  const mnt = join(dir, 'mnt point');
  mkdirSync(join(mnt, 'pullback'), { recursive: true }); // the empty mount point on the system disk
  const fstab = join(dir, 'fstab');
  const mountinfo = join(dir, 'mountinfo');
  writeFileSync(
    fstab,
    `# comment\nUUID=1 / ext4 defaults 0 1\nUUID=2 ${mnt.replace(/ /g, '\\040')} btrfs noauto 0 2\n`,
  );
  writeFileSync(mountinfo, '22 27 0:21 / / rw - ext4 /dev/sda1 rw\n');
  const root = join(mnt, 'pullback');
  assert.throws(
    () => storageRoot.requireStorageRoot(root, { fstab, mountinfo }),
    (err: unknown) =>
      err instanceof PullbackError &&
      err.code === 'NOT_FOUND' &&
      err.message.includes(`is on ${mnt}, which /etc/fstab mounts but is not mounted now`),
  );
  // mounted: fine; and a storage under no fstab entry is judged by existence only
  writeFileSync(
    mountinfo,
    `22 27 0:21 / / rw - ext4 /dev/sda1 rw\n40 22 0:50 / ${mnt.replace(/ /g, '\\040')} rw - btrfs /dev/sdb rw\n`,
  );
  storageRoot.requireStorageRoot(root, { fstab, mountinfo });
  storageRoot.requireStorageRoot(storage, { fstab, mountinfo });
});
