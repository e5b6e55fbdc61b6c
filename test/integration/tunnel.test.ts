import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { makeHostileTree } from '../support/sample-tree.js';
import { assertTreesIdentical, restoreSnapshot } from '../support/tree-compare.js';
import { runBackup } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';

let host: BackupHost;
before(async () => {
  host = await startBackupHost();
});
after(async () => {
  await host?.stop();
});

test('tunnel mode: a backup of a hostile tree through the tunnel restores identical', async () => {
  const source = mkdtempSync(join(tmpdir(), 'pullback-src-'));
  makeHostileTree(source);
  const client = await makeTestClient(host, { sources: [source] });
  const result = await runBackup({
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher: launchUserOneShot,
    reach: 'tunnel',
  });
  const snap = join(host.storage, client.name, 'snapshots', result.snapshot);
  assert.ok(existsSync(join(snap, source)));
  const restored = mkdtempSync(join(tmpdir(), 'pullback-restore-'));
  restoreSnapshot(join(snap, source), restored);
  assertTreesIdentical(source, restored);
});
