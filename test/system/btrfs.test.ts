import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startBackupHost,
  makeTestClient,
  type BackupHost,
  type TestClient,
} from '../support/backup-host.js';
import { assertTreesIdentical, restoreSnapshot } from '../support/tree-compare.js';
import { runBackup } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { writeServerConfig, parseServerConfig } from '../../core/config/server-store.js';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import { changeIndexFile } from '../../core/change-index/index-file.js';
import { makeLoopFilesystem, type LoopFilesystem } from '../support/loop-fs.js';

/**
 * The btrfs backend on a real btrfs (a loop device): snapshots are read-only subvolumes, an
 * increment costs about what changed, and prune deletes subvolumes. Chosen by `backend: auto`.
 */
const isRoot = process.getuid?.() === 0;
const FILES = 100;
const FILE_BYTES = 512 * 1024;
let fs: LoopFilesystem | undefined;
let host: BackupHost | undefined;
let client: TestClient;
let source: string;
let work: string;
const snapshots: string[] = [];

before(async () => {
  if (!isRoot) return;
  work = mkdtempSync(join(tmpdir(), 'pullback-btrfs-'));
  source = join(work, 'src');
  mkdirSync(source);
  for (let i = 0; i < FILES; i++)
    writeFileSync(join(source, `f-${i}.bin`), randomBytes(FILE_BYTES));
  fs = makeLoopFilesystem('btrfs', 512);
  const storage = join(fs.mountPoint, 'storage');
  mkdirSync(storage);
  host = await startBackupHost({ storage, backend: 'auto', retention: '*:all' });
  client = await makeTestClient(host, { sources: [source], name: 'btrfs-laptop' });
});
after(async () => {
  await host?.stop();
  fs?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

function skipUnlessRoot(t: { skip: (m: string) => void }): boolean {
  if (isRoot) return false;
  t.skip('needs root: loop devices and mount (run the system tests as root)');
  return true;
}

function btrfs(...args: string[]): string {
  const r = spawnSync('btrfs', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `btrfs ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function backup(): Promise<string> {
  const result = await runBackup({
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher: launchUserOneShot,
  });
  const path = join(host!.storage, client.name, 'snapshots', result.snapshot);
  snapshots.push(path);
  return path;
}

/** Bytes only this subvolume holds (`btrfs filesystem du`'s "Exclusive"). */
function exclusiveBytes(path: string): { total: number; exclusive: number } {
  // The run's writable .incomplete was deleted after sealing; until btrfs' cleaner has really
  // freed it, it still shares every extent with the snapshot.
  btrfs('subvolume', 'sync', fs!.mountPoint);
  spawnSync('sync');
  const fields = btrfs('filesystem', 'du', '-s', '--raw', path)
    .trim()
    .split('\n')
    .pop()!
    .trim()
    .split(/\s+/);
  return { total: Number(fields[0]), exclusive: Number(fields[1]) };
}

test('btrfs: with backend auto, each snapshot is a read-only subvolume, and .incomplete is gone', async (t) => {
  if (skipUnlessRoot(t)) return;
  const path = await backup();
  assert.equal(statSync(path).ino, 256, 'a subvolume root');
  assert.match(btrfs('property', 'get', '-ts', path, 'ro'), /ro=true/);
  assert.ok(!existsSync(join(host!.storage, client.name, '.incomplete')));
  const meta = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { backend: string };
  assert.equal(meta.backend, 'btrfs', 'auto picked btrfs');
  const write = spawnSync('touch', [join(path, 'new-file')], { encoding: 'utf8' });
  assert.notEqual(write.status, 0, 'even root cannot write into a snapshot');
});

test('btrfs: a 1 % change costs about the changed bytes, and the snapshot equals the source', async (t) => {
  if (skipUnlessRoot(t)) return;
  writeFileSync(join(source, 'f-7.bin'), randomBytes(FILE_BYTES));
  unlinkSync(join(source, 'f-8.bin'));
  const path = await backup();
  assert.match(btrfs('property', 'get', '-ts', path, 'ro'), /ro=true/);
  const { total, exclusive } = exclusiveBytes(path);
  assert.ok(total >= (FILES - 1) * FILE_BYTES, `the snapshot holds everything (${total})`);
  assert.ok(
    exclusive >= FILE_BYTES / 2 && exclusive <= 3 * FILE_BYTES,
    `the increment holds about the changed ${FILE_BYTES} bytes, not more: exclusive ${exclusive}`,
  );
  const restored = join(work, 'restored');
  restoreSnapshot(join(path, source), restored);
  assertTreesIdentical(source, restored);
});

test('btrfs: ACLs survive files rewritten in place and an ACL removed is removed, in full passes and incrementals', async (t) => {
  if (skipUnlessRoot(t)) return;
  // rsync 3.5's --fake-super --inplace drops an unchanged ACL of a file it rewrites, and keeps
  // one the client removed (core/storage/stored-acls.ts)
  const tree = join(work, 'acl-src');
  mkdirSync(tree);
  const [kept, removed] = [join(tree, 'kept.txt'), join(tree, 'removed.txt')];
  for (const file of [kept, removed]) {
    writeFileSync(file, 'v1\n');
    assert.equal(spawnSync('setfacl', ['-m', 'u:nobody:r', file]).status, 0);
  }
  const aclClient = await makeTestClient(host!, { sources: [tree], name: 'btrfs-acl' });
  const run = async (incremental: boolean) => {
    const result = await runBackup({
      config: aclClient.config,
      host: aclClient.config.hosts[0]!,
      identityKey: aclClient.identityKey,
      launcher: launchUserOneShot,
      ...(incremental ? { indexFile: changeIndexFile('home', aclClient.env) } : {}),
    });
    const restored = mkdtempSync(join(tmpdir(), 'pullback-btrfs-acl-'));
    restoreSnapshot(
      join(host!.storage, aclClient.name, 'snapshots', result.snapshot, tree),
      restored,
    );
    assertTreesIdentical(tree, restored);
    return result;
  };
  await run(false);
  for (const incremental of [false, true, true]) {
    writeFileSync(kept, `${readFileSync(kept, 'utf8')}more\n`);
    writeFileSync(removed, `${readFileSync(removed, 'utf8')}more\n`);
    assert.equal(spawnSync('setfacl', ['-b', removed]).status, 0);
    const result = await run(incremental);
    if (incremental && result.pass !== 'full') assert.equal(result.pass, 'incremental');
    assert.equal(spawnSync('setfacl', ['-m', 'u:nobody:r', removed]).status, 0);
  }
});

test('btrfs: prune deletes subvolumes, never the newest', async (t) => {
  if (skipUnlessRoot(t)) return;
  const config = JSON.parse(readFileSync(host!.configFile, 'utf8')) as Record<string, unknown>;
  writeServerConfig(host!.configFile, parseServerConfig({ ...config, retention: '1h:none' }));
  const r = spawnSync(
    process.execPath,
    [PULLBACK_CLI_SCRIPT, 'server', 'prune', client.name, '--config', host!.configFile],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /removed 1, keeps 1/);
  const [first, second] = snapshots;
  assert.ok(!existsSync(first!), 'the older snapshot is gone');
  btrfs('subvolume', 'sync', fs!.mountPoint);
  const list = btrfs('subvolume', 'list', fs!.mountPoint);
  // Whole path segments: two snapshots in one second are <id> and <id>-1.
  const listed = list.split('\n').map((line) => line.split(' path ')[1]?.split('/').pop());
  assert.ok(!listed.includes(first!.split('/').pop()), 'its subvolume is deleted');
  assert.match(list, new RegExp(second!.split('/').pop()!), 'the newest stays');
  assert.match(btrfs('property', 'get', '-ts', second!, 'ro'), /ro=true/);
});
