import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository, type ClientRepository } from '../../core/storage/repository.js';
import { snapshotMetaSchema, type SnapshotMetaInput } from '../../core/storage/metadata.js';
import { validateClientName } from '../../core/storage/client-name.js';
import {
  formatSnapshotTime,
  nextSnapshotId,
  snapshotIdTime,
} from '../../core/storage/snapshot-id.js';
import { buildRestoreArgv } from '../../core/storage/restore-argv.js';
import { PullbackError, type ErrorCode } from '../../core/errors.js';

function code(c: ErrorCode) {
  return (err: unknown) => err instanceof PullbackError && err.code === c;
}

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-repo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const META: SnapshotMetaInput = {
  startedAt: '2026-11-26T18:00:00.000Z',
  finishedAt: '2026-11-26T18:01:02.000Z',
  durationMs: 62_000,
  sources: ['/home/u'],
  excludes: ['*.tmp'],
  rsyncExit: 0,
  warnings: [],
  stats: { files: 3, bytesTransferred: 10, totalBytes: 20 },
  clientVersion: '0.1.0',
};

/** A run: lock, prepare, write `files` into .incomplete, promote at `when`. */
async function backup(repo: ClientRepository, when: string, files: Record<string, string> = {}) {
  const lock = await repo.acquireLock();
  try {
    const run = await repo.prepareRun();
    for (const [name, content] of Object.entries(files))
      writeFileSync(join(run.dest, name), content);
    return { run, info: await repo.promote(META, new Date(when)) };
  } finally {
    await lock.release();
  }
}

test('client names: letters, digits, ".", "_", "-"; never "." or ".." or a path', () => {
  for (const ok of ['laptop', 'Work-PC.home', 'a', 'x'.repeat(63), '1host_2'])
    assert.equal(validateClientName(ok), ok);
  for (const bad of [
    '',
    '.',
    '..',
    '../etc',
    'a/b',
    '-x',
    '.hidden',
    'x'.repeat(64),
    'sp ace',
    'ü',
  ]) {
    assert.throws(() => validateClientName(bad), code('BAD_REQUEST'), bad);
  }
  assert.throws(
    () => openRepository('/srv', '../etc', { backend: 'hardlink' }),
    code('BAD_REQUEST'),
  );
});

test('snapshot ids are UTC seconds, get -1… when the second is taken, and always sort after existing ones', () => {
  const now = new Date('2026-11-26T18:01:02.345Z');
  assert.equal(formatSnapshotTime(now), '2026-11-26T180102Z');
  assert.equal(nextSnapshotId(now, []), '2026-11-26T180102Z');
  assert.equal(nextSnapshotId(now, ['2026-11-26T180102Z']), '2026-11-26T180102Z-1');
  assert.equal(
    nextSnapshotId(now, ['2026-11-26T180102Z', '2026-11-26T180102Z-1']),
    '2026-11-26T180102Z-2',
  );
  // the clock went back: still after the newest, so "newest" stays true
  assert.equal(
    nextSnapshotId(new Date('2026-01-01T00:00:00Z'), ['2026-11-26T180102Z']),
    '2026-11-26T180102Z-1',
  );
  const ids = [
    '2026-11-26T180102Z',
    '2026-11-26T180102Z-1',
    '2026-11-26T180102Z-9',
    '2026-11-26T180103Z',
  ];
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(snapshotIdTime('2026-11-26T180102Z-1').toISOString(), '2026-11-26T18:01:02.000Z');
});

test('the storage root is never created: a missing one (unmounted disk) is NOT_FOUND', async (t) => {
  const repo = openRepository(join(tempRoot(t), 'not-mounted'), 'laptop', { backend: 'hardlink' });
  await assert.rejects(repo.acquireLock(), code('NOT_FOUND'));
});

test('prepareRun and promote refuse to run without the lock', async (t) => {
  const repo = openRepository(tempRoot(t), 'laptop', { backend: 'hardlink' });
  await assert.rejects(repo.prepareRun(), code('INTERNAL'));
  await assert.rejects(repo.promote(META), code('INTERNAL'));
});

test('promotion makes a complete snapshot: dir, valid metadata, relative latest link, no .incomplete', async (t) => {
  const root = tempRoot(t);
  const repo = openRepository(root, 'laptop', { backend: 'hardlink' });
  const { run, info } = await backup(repo, '2026-11-26T18:01:02.345Z', { 'a.txt': 'A' });
  assert.deepEqual(run, {
    dest: join(root, 'laptop', '.incomplete') + '/',
    inplace: false,
    partialDir: join(root, 'laptop', '.partial'),
    resumed: false,
  });
  assert.equal(info.id, '2026-11-26T180102Z');
  assert.equal(info.path, join(root, 'laptop', 'snapshots', info.id));
  assert.equal(readFileSync(join(info.path, 'a.txt'), 'utf8'), 'A');
  assert.equal(existsSync(join(root, 'laptop', '.incomplete')), false);
  assert.equal(readlinkSync(join(root, 'laptop', 'latest')), `snapshots/${info.id}`);
  const meta = snapshotMetaSchema.parse(JSON.parse(readFileSync(`${info.path}.json`, 'utf8')));
  assert.deepEqual(meta, {
    ...META,
    version: 1,
    id: info.id,
    client: 'laptop',
    backend: 'hardlink',
  });
  assert.equal(
    statSync(info.path).mode & 0o777,
    0o700,
    'snapshots are for the backup account only',
  );
  assert.deepEqual(await repo.listSnapshots(), [info]);
  assert.deepEqual(await repo.latest(), info);
});

test('the next run links against the newest snapshot; one in the same second gets -1', async (t) => {
  const root = tempRoot(t);
  const repo = openRepository(root, 'laptop', { backend: 'hardlink' });
  const first = await backup(repo, '2026-11-26T18:01:02Z');
  const second = await backup(repo, '2026-11-26T18:01:02.900Z');
  assert.equal(second.run.linkDest, first.info.path);
  assert.equal(second.info.id, '2026-11-26T180102Z-1');
  const third = await backup(repo, '2026-11-27T08:00:00Z');
  assert.equal(third.run.linkDest, second.info.path);
  assert.deepEqual(
    (await repo.listSnapshots()).map((s) => s.id),
    ['2026-11-26T180102Z', '2026-11-26T180102Z-1', '2026-11-27T080000Z'],
  );
  assert.equal(readlinkSync(join(root, 'laptop', 'latest')), 'snapshots/2026-11-27T080000Z');
});

test('an interrupted run is resumed: prepareRun keeps .incomplete and still links to the newest snapshot', async (t) => {
  const root = tempRoot(t);
  const repo = openRepository(root, 'laptop', { backend: 'hardlink' });
  const first = await backup(repo, '2026-11-26T18:01:02Z');
  let lock = await repo.acquireLock();
  const run = await repo.prepareRun();
  writeFileSync(join(run.dest, 'half.bin'), 'half');
  await lock.release(); // the run died here

  lock = await repo.acquireLock();
  const resumed = await repo.prepareRun();
  assert.deepEqual(resumed, {
    dest: run.dest,
    linkDest: first.info.path,
    inplace: false,
    partialDir: join(root, 'laptop', '.partial'),
    resumed: true,
  });
  assert.equal(readFileSync(join(resumed.dest, 'half.bin'), 'utf8'), 'half');
  await lock.release();
});

test('listing survives what crashes and people leave behind; the next run cleans up only what is ours', async (t) => {
  const root = tempRoot(t);
  const repo = openRepository(root, 'laptop', { backend: 'hardlink' });
  const good = await backup(repo, '2026-11-26T18:01:02Z', { 'a.txt': 'A' });
  const snaps = join(root, 'laptop', 'snapshots');
  // a crash between writing the json and the rename: orphan json
  writeFileSync(
    join(snaps, '2026-11-27T000000Z.json'),
    JSON.stringify({
      ...META,
      version: 1,
      id: '2026-11-27T000000Z',
      client: 'laptop',
      backend: 'hardlink',
    }),
  );
  // a dir without json (not made by us): not listed, not touched
  mkdirSync(join(snaps, '2026-11-25T000000Z'));
  // json that is damaged, or about another client
  mkdirSync(join(snaps, '2026-11-24T000000Z'));
  writeFileSync(join(snaps, '2026-11-24T000000Z.json'), '{ not json');
  mkdirSync(join(snaps, '2026-11-23T000000Z'));
  writeFileSync(
    join(snaps, '2026-11-23T000000Z.json'),
    JSON.stringify({
      ...META,
      version: 1,
      id: '2026-11-23T000000Z',
      client: 'other',
      backend: 'hardlink',
    }),
  );
  // names that are not snapshot ids, an interrupted delete, a dead process's temp files
  mkdirSync(join(snaps, 'notes'));
  writeFileSync(join(snaps, 'README'), 'hi');
  mkdirSync(join(snaps, '.deleting-2026-11-20T000000Z', 'deep'), { recursive: true });
  writeFileSync(join(snaps, '.2026-11-28T000000Z.json.tmp-999999999'), '{');
  symlinkSync('snapshots/gone', join(root, 'laptop', '.latest.tmp-999999999'));
  // and `latest` left pointing at nothing
  rmSync(join(root, 'laptop', 'latest'));
  symlinkSync('snapshots/2026-01-01T000000Z', join(root, 'laptop', 'latest'));

  assert.deepEqual(
    (await repo.listSnapshots()).map((s) => s.id),
    [good.info.id],
  );

  const lock = await repo.acquireLock();
  const run = await repo.prepareRun();
  await lock.release();
  assert.equal(run.linkDest, good.info.path);
  assert.deepEqual(readdirSync(snaps).sort(), [
    '2026-11-23T000000Z',
    '2026-11-23T000000Z.json',
    '2026-11-24T000000Z',
    '2026-11-24T000000Z.json',
    '2026-11-25T000000Z',
    good.info.id,
    `${good.info.id}.json`,
    'README',
    'notes',
  ]);
  assert.equal(existsSync(join(root, 'laptop', '.latest.tmp-999999999')), false);
  assert.equal(readlinkSync(join(root, 'laptop', 'latest')), `snapshots/${good.info.id}`);
});

test('deleteSnapshot removes an old snapshot whole, and never the newest', async (t) => {
  const root = tempRoot(t);
  const repo = openRepository(root, 'laptop', { backend: 'hardlink' });
  const old = await backup(repo, '2026-11-26T18:01:02Z', { 'a.txt': 'A' });
  const newest = await backup(repo, '2026-11-27T18:01:02Z', { 'b.txt': 'B' });
  await assert.rejects(repo.deleteSnapshot(newest.info.id), code('BAD_REQUEST'));
  await assert.rejects(repo.deleteSnapshot('2020-01-01T000000Z'), code('NOT_FOUND'));
  await assert.rejects(repo.deleteSnapshot('../../etc'), code('BAD_REQUEST'));
  await repo.deleteSnapshot(old.info.id);
  assert.deepEqual(
    (await repo.listSnapshots()).map((s) => s.id),
    [newest.info.id],
  );
  assert.deepEqual(readdirSync(join(root, 'laptop', 'snapshots')).sort(), [
    newest.info.id,
    `${newest.info.id}.json`,
  ]);
});

test('deleteSnapshot waits for nobody: while a run holds the lock it is BUSY', async (t) => {
  const root = tempRoot(t);
  const repo = openRepository(root, 'laptop', { backend: 'hardlink' });
  const old = await backup(repo, '2026-11-26T18:01:02Z');
  await backup(repo, '2026-11-27T18:01:02Z');
  const running = openRepository(root, 'laptop', { backend: 'hardlink' });
  const lock = await running.acquireLock();
  await assert.rejects(repo.deleteSnapshot(old.info.id), code('BUSY'));
  await running.deleteSnapshot(old.info.id); // the lock holder itself may
  await lock.release();
});

test('off btrfs, auto means hardlink and asking for the btrfs backend is a clear BAD_CONFIG', async (t) => {
  const root = tempRoot(t);
  assert.equal(openRepository(root, 'laptop', { backend: 'auto' }).backend, 'hardlink');
  const repo = openRepository(root, 'laptop', { backend: 'btrfs' });
  const lock = await repo.acquireLock();
  await assert.rejects(repo.prepareRun(), code('BAD_CONFIG'));
  await lock.release();
});

test('the restore command reads --fake-super attributes and writes them for real as root', () => {
  assert.deepEqual(
    buildRestoreArgv('/srv/pb/laptop/snapshots/2026-11-26T180102Z/home/u', '/home/u', {
      superUser: true,
    }),
    [
      'rsync',
      '-aHAXS',
      '--numeric-ids',
      '--fake-super',
      '-M--super',
      '--',
      '/srv/pb/laptop/snapshots/2026-11-26T180102Z/home/u/',
      '/home/u/',
    ],
  );
  assert.ok(buildRestoreArgv('/a', '/b', { superUser: false }).includes('-M--no-super'));
  assert.throws(() => buildRestoreArgv('relative', '/b'), code('BAD_ARGS'));
});
