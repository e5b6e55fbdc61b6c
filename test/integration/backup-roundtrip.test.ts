import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  statSync,
  writeFileSync,
  appendFileSync,
  readdirSync,
  existsSync,
  readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { makeHostileTree } from '../support/sample-tree.js';
import { assertTreesIdentical, restoreSnapshot } from '../support/tree-compare.js';
import { runBackup } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { defaultRuntimeBase } from '../../core/ssh/oneshot.js';

let host: BackupHost;
before(async () => {
  host = await startBackupHost();
});
after(async () => {
  await host?.stop();
});

function snapshotDir(client: string, id: string): string {
  return join(host.storage, client, 'snapshots', id);
}

test('a backup of a hostile tree restores identical (hardlinks, symlinks, sparse, xattrs, ACL, fifo, odd names)', async () => {
  const source = mkdtempSync(join(tmpdir(), 'pullback-src-'));
  makeHostileTree(source);
  const client = await makeTestClient(host, { sources: [source] });
  let progressSeen = 0;
  const result = await runBackup({
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher: launchUserOneShot,
    onProgress: () => progressSeen++,
  });
  assert.match(result.snapshot, /^\d{4}-\d{2}-\d{2}T\d{6}Z/);
  assert.ok(progressSeen > 0, 'progress reached the client');
  const snap = snapshotDir(client.name, result.snapshot);
  // The snapshot mirrors absolute paths: browsable as plain files.
  assert.ok(existsSync(join(snap, source, 'docs', 'report.txt')));
  const restored = mkdtempSync(join(tmpdir(), 'pullback-restore-'));
  restoreSnapshot(join(snap, source), restored);
  assertTreesIdentical(source, restored);
});

test('a second backup hardlinks unchanged files to the previous snapshot and stores a changed one anew', async () => {
  const source = mkdtempSync(join(tmpdir(), 'pullback-src-'));
  writeFileSync(join(source, 'unchanged.txt'), 'same\n'.repeat(1000));
  writeFileSync(join(source, 'changed.txt'), 'before\n');
  const client = await makeTestClient(host, { sources: [source] });
  const opts = {
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher: launchUserOneShot,
  };
  const first = await runBackup(opts);
  appendFileSync(join(source, 'changed.txt'), 'after\n');
  const second = await runBackup(opts);
  assert.notEqual(first.snapshot, second.snapshot);
  const a = snapshotDir(client.name, first.snapshot);
  const b = snapshotDir(client.name, second.snapshot);
  assert.equal(
    statSync(join(a, source, 'unchanged.txt')).ino,
    statSync(join(b, source, 'unchanged.txt')).ino,
    'unchanged file shares its inode',
  );
  assert.notEqual(
    statSync(join(a, source, 'changed.txt')).ino,
    statSync(join(b, source, 'changed.txt')).ino,
    'changed file stored anew',
  );
  const latest = join(host.storage, client.name, 'latest');
  assert.equal(statSync(latest).ino, statSync(b).ino, 'latest points at the newest snapshot');
});

for (const reach of ['direct', 'tunnel'] as const)
  test(`S9${reach === 'tunnel' ? ' (tunnel)' : ''}: no one-time secret is left on either side after a backup`, async () => {
    const source = mkdtempSync(join(tmpdir(), 'pullback-src-'));
    writeFileSync(join(source, 'a.txt'), 'a\n');
    const client = await makeTestClient(host, { sources: [source] });
    await runBackup({
      config: client.config,
      host: client.config.hosts[0]!,
      identityKey: client.identityKey,
      launcher: launchUserOneShot,
      reach,
    });
    // Other test files may be mid-backup right now: only their live runs may own a directory.
    const base = defaultRuntimeBase();
    const left = existsSync(base) ? readdirSync(base).filter((n) => n.startsWith('oneshot')) : [];
    const orphaned = left.filter((name) => {
      const pidFile = join(base, name, 'pid');
      if (!existsSync(pidFile)) return false; // being set up by a concurrent run
      const pid = Number(readFileSync(pidFile, 'utf8').trim().split(/\s+/)[0]);
      return !existsSync(`/proc/${pid}`);
    });
    assert.deepEqual(orphaned, [], `one-shot directories of finished runs left in ${base}`);
  });
