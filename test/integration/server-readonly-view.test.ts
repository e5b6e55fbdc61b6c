import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type BackupHost, type TestClient } from '../support/backup-host.js';
import { backupOf, startHostWithClients } from '../support/host-with-clients.js';
import { listRemoteSnapshots } from '../../core/handoff/backup-client.js';
import { connectToBackupHost } from '../../core/handoff/connect.js';
import { exchange } from '../../core/handoff/exchange.js';
import { PROTOCOL_VERSION } from '../../core/handoff/messages.js';
import { PullbackError } from '../../core/errors.js';
import { fingerprintSnapshots } from '../system/crash-harness.js';

/**
 * S7, the client's side of the storage is append-only and its own: the one read-only request
 * is `list`, and nothing a client can send deletes, renames or changes a snapshot.
 */
let host: BackupHost;
let source: string;
let alice: TestClient;

before(async () => {
  ({
    host,
    source,
    clients: [alice],
  } = await startHostWithClients(['view-alice', 'view-bob'], {
    sourcePrefix: 'pullback-view-src-',
  }));
  await backupOf(alice);
  await backupOf(alice);
});
after(async () => {
  await host?.stop();
  rmSync(source, { recursive: true, force: true });
});

async function send(request: Record<string, unknown>): Promise<PullbackError> {
  const conn = await connectToBackupHost(alice.config.hosts[0]!, alice.identityKey);
  try {
    await exchange(conn, request as unknown as Parameters<typeof exchange>[1]);
  } catch (err) {
    assert.ok(err instanceof PullbackError, String(err));
    return err;
  } finally {
    conn.close();
  }
  assert.fail(`${JSON.stringify(request)} was accepted`);
}

test('S7: no request can delete, rename, prune or change a snapshot: there is no such request', async () => {
  const before = await fingerprintSnapshots(host.storage, 'view-alice');
  const [first] = [...before.keys()];
  for (const type of ['delete', 'remove', 'prune', 'rename', 'restore', 'write', 'set-retention']) {
    const err = await send({ v: PROTOCOL_VERSION, type, snapshot: first, client: 'view-bob' });
    assert.equal(err.code, 'BAD_REQUEST', `${type}: ${err.message}`);
  }
  assert.deepEqual(
    await fingerprintSnapshots(host.storage, 'view-alice'),
    before,
    'every snapshot is unchanged',
  );
  assert.ok(!existsSync(join(host.storage, 'view-bob')), 'nothing appeared for bob');
});

test('S7: a list request with extra fields (another client, a path, a delete flag) is rejected', async () => {
  for (const extra of [
    { client: 'view-bob' },
    { path: '/' },
    { delete: true },
    { snapshot: 'x' },
  ]) {
    const err = await send({ v: PROTOCOL_VERSION, type: 'list', ...extra });
    assert.equal(err.code, 'BAD_REQUEST');
    assert.match(err.message, /unrecognized key/i);
  }
  const own = await listRemoteSnapshots(alice.config.hosts[0]!, alice.identityKey);
  assert.equal(own.length, 2, 'the plain list still shows alice her own two snapshots');
});
