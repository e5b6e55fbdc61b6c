import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startBackupHost,
  makeTestClient,
  type BackupHost,
  type TestClient,
} from '../support/backup-host.js';
import { runBackup } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { PullbackError } from '../../core/errors.js';
import { writeServerConfig, parseServerConfig } from '../../core/config/server-store.js';

/** Different clients run in parallel up to maxParallel; beyond it BUSY with a retry hint. */
const hosts: BackupHost[] = [];
const dirs: string[] = [];
after(async () => {
  for (const h of hosts) await h.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sourceWith(bytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-parallel-src-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'data.bin'), randomBytes(bytes));
  return dir;
}

/** Slows one client down on the backup host's side (its per-client bandwidth limit). */
function limitBandwidth(host: BackupHost, client: string, kib: number): void {
  const config = JSON.parse(readFileSync(host.configFile, 'utf8')) as Record<string, unknown>;
  writeServerConfig(
    host.configFile,
    parseServerConfig({ ...config, clients: { [client]: { bwlimitKiB: kib } } }),
  );
}

const backupOf = (c: TestClient, onStage?: (s: string) => void) =>
  runBackup({
    config: c.config,
    host: c.config.hosts[0]!,
    identityKey: c.identityKey,
    launcher: launchUserOneShot,
    ...(onStage ? { onStage } : {}),
  });

test('two clients back up at the same time and both complete', async () => {
  const host = await startBackupHost({ maxParallel: 2 });
  hosts.push(host);
  const a = await makeTestClient(host, { sources: [sourceWith(4 * 1024 * 1024)], name: 'para-a' });
  const b = await makeTestClient(host, { sources: [sourceWith(4 * 1024 * 1024)], name: 'para-b' });
  limitBandwidth(host, 'para-a', 2000);
  let aTransferring = false;
  const runA = backupOf(a, (s) => (aTransferring ||= s === 'transferring'));
  while (!aTransferring) await new Promise((r) => setTimeout(r, 20));
  const [ra, rb] = await Promise.all([runA, backupOf(b)]);
  assert.ok(ra.snapshot && rb.snapshot);
  assert.ok(
    Date.parse(rb.finishedAt) < Date.parse(ra.finishedAt),
    'b ran while a was still running',
  );
});

test('with maxParallel 1, a second client gets BUSY with a retry hint while the first runs', async () => {
  const host = await startBackupHost({ maxParallel: 1 });
  hosts.push(host);
  const a = await makeTestClient(host, { sources: [sourceWith(4 * 1024 * 1024)], name: 'solo-a' });
  const b = await makeTestClient(host, { sources: [sourceWith(1024)], name: 'solo-b' });
  limitBandwidth(host, 'solo-a', 2000);
  let aTransferring = false;
  const runA = backupOf(a, (s) => (aTransferring ||= s === 'transferring'));
  while (!aTransferring) await new Promise((r) => setTimeout(r, 20));
  const started = Date.now();
  await assert.rejects(backupOf(b), (err: unknown) => {
    assert.ok(err instanceof PullbackError);
    assert.equal(err.code, 'BUSY', err.message);
    assert.match(err.message, /maximum of 1 backup at once; retry in \d+ s/);
    return true;
  });
  assert.ok(Date.now() - started < 5000, 'BUSY comes at once, nobody waits');
  assert.ok((await runA).snapshot, 'the first run completes');
  assert.ok((await backupOf(b)).snapshot, 'once the slot is free the second client gets its turn');
});
