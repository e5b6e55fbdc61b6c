import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestClient, type BackupHost, type TestClient } from '../support/backup-host.js';
import { backupOf, rejects, startHostWithClients } from '../support/host-with-clients.js';
import { runBackup, listRemoteSnapshots } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { connectToBackupHost } from '../../core/handoff/connect.js';
import { exchange } from '../../core/handoff/exchange.js';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { PROTOCOL_VERSION } from '../../core/handoff/messages.js';
import type { OneShotLauncher } from '../../core/handoff/oneshot-launcher.js';

let host: BackupHost;
let source: string;
let alice: TestClient;
let bob: TestClient;

before(async () => {
  ({
    host,
    source,
    clients: [alice, bob],
  } = await startHostWithClients(['alice', 'bob']));
});
after(async () => {
  await host?.stop();
});

function snapshotsOn(name: string): string[] {
  const dir = join(host.storage, name, 'snapshots');
  return existsSync(dir) ? readdirSync(dir) : [];
}

test('S6: the client refuses a backup host whose host key is not the pinned one', async () => {
  const impostor = { ...alice.config.hosts[0]!, hostKey: generateKeyPair('impostor').publicKey };
  let launched = false;
  const err = await rejects(
    runBackup({
      config: alice.config,
      host: impostor,
      identityKey: alice.identityKey,
      launcher: async (r) => {
        launched = true;
        return launchUserOneShot(r);
      },
    }),
    'HOST_KEY_MISMATCH',
  );
  assert.match(err.message, /different host key/);
  assert.equal(launched, false, 'no one-shot was started, no one-time key was sent');
});

for (const reach of ['direct', 'tunnel'] as const)
  test(`S5${reach === 'tunnel' ? ' (tunnel)' : ''}: the backup host refuses to pull from a one-shot whose host key is not H`, async () => {
    const before = snapshotsOn('alice').length;
    // A launcher that lies about H: the request carries a key the one-shot does not have.
    const lying: OneShotLauncher = async (r) =>
      launchUserOneShot({ ...r, hostPrivateKey: generateKeyPair('not-H').privateKey });
    const err = await rejects(backupOf(alice, lying, reach), 'HOST_KEY_MISMATCH');
    assert.match(err.message, /host key/i);
    assert.equal(snapshotsOn('alice').length, before, 'nothing promoted');
  });

test('S7: a backup request that names a storage path or another client is rejected and nothing is written', async () => {
  const conn = await connectToBackupHost(alice.config.hosts[0]!, alice.identityKey);
  try {
    const k = generateKeyPair('k');
    const h = generateKeyPair('h');
    const base = {
      v: PROTOCOL_VERSION,
      type: 'backup',
      port: 2222,
      privateKey: k.privateKey,
      hostKey: h.publicKey,
      user: 'root',
      sources: [source],
      excludes: [],
      options: {},
      clientVersion: 'test',
    };
    for (const extra of [{ client: 'bob' }, { storage: '/tmp/elsewhere' }, { dest: '/' }]) {
      const request = { ...base, ...extra } as unknown as Parameters<typeof exchange>[1];
      const err = await rejects(exchange(conn, request), 'BAD_REQUEST');
      assert.match(err.message, /unrecognized key/i);
    }
  } finally {
    conn.close();
  }
  assert.ok(!existsSync(join(host.storage, 'bob', '.incomplete')), 'nothing written for bob');
  assert.ok(!existsSync('/tmp/elsewhere'), 'nothing written elsewhere');
});

test('S7: a client sees only its own snapshots, named by its key', async () => {
  await backupOf(alice);
  await backupOf(bob);
  const aliceView = await listRemoteSnapshots(alice.config.hosts[0]!, alice.identityKey);
  const bobView = await listRemoteSnapshots(bob.config.hosts[0]!, bob.identityKey);
  assert.deepEqual(
    aliceView.map((s) => s.id).sort(),
    snapshotsOn('alice')
      .filter((n) => !n.endsWith('.json'))
      .sort(),
  );
  assert.deepEqual(
    bobView.map((s) => s.id).sort(),
    snapshotsOn('bob')
      .filter((n) => !n.endsWith('.json'))
      .sort(),
  );
  // alice's config name says nothing: the backup host names her by her key
  const renamed = { ...alice, config: { ...alice.config, name: 'bob' } };
  const result = await backupOf(renamed);
  assert.ok(snapshotsOn('alice').includes(result.snapshot), 'the snapshot went to the key owner');
});

test('S8: the backup host connects back only to the address the handoff came from', async () => {
  const conn = await connectToBackupHost(alice.config.hosts[0]!, alice.identityKey);
  try {
    const request = {
      v: PROTOCOL_VERSION,
      type: 'backup',
      port: 2222,
      privateKey: generateKeyPair('k').privateKey,
      hostKey: generateKeyPair('h').publicKey,
      user: 'root',
      sources: [source],
      excludes: [],
      options: {},
      clientVersion: 'test',
      address: '127.0.0.9',
    } as unknown as Parameters<typeof exchange>[1];
    await rejects(exchange(conn, request), 'BAD_REQUEST');
  } finally {
    conn.close();
  }
  // And a real run reports where it connects: our own source address.
  let seen: string | undefined;
  const spy: OneShotLauncher = async (r) => {
    seen = r.allowFrom;
    assert.equal(r.bindAddress, '127.0.0.2');
    return launchUserOneShot(r);
  };
  await backupOf(alice, spy);
  assert.equal(seen, host.address, 'the one-shot admits only the backup host address');
});

test('two backups of one client at once: one gets BUSY at once', async () => {
  const big = mkdtempSync(join(tmpdir(), 'pullback-big-'));
  writeFileSync(join(big, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 1));
  const carol = await makeTestClient(host, { sources: [big], name: 'carol' });
  const slowHost = { ...carol.config.hosts[0]!, bwlimitKiB: 2048 };
  const slow = runBackup({
    config: carol.config,
    host: slowHost,
    identityKey: carol.identityKey,
    launcher: launchUserOneShot,
  });
  await new Promise((r) => setTimeout(r, 1500));
  const started = Date.now();
  await rejects(backupOf(carol), 'BUSY');
  assert.ok(Date.now() - started < 5000, 'BUSY came at once');
  await slow;
});
