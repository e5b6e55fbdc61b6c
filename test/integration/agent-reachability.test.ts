import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackupHost, type BackupHost } from '../support/backup-host.js';
import { checkReachability } from '../../core/agent/reachability.js';
import { freePort } from '../support/ports.js';

/** "On the home network" means: the SSH port answers and shows the pinned host key. */
let host: BackupHost;
before(async () => {
  host = await startBackupHost();
});
after(async () => {
  await host?.stop();
});

const target = () => ({
  address: host.address,
  port: host.port,
  user: host.user,
  hostKey: host.hostKey,
  localAddress: '127.0.0.2',
});

test('the backup host is reachable when it answers with the pinned host key, and no login is tried', async () => {
  const result = await checkReachability(target(), 3000);
  assert.equal(result.reachable, 'reachable', result.detail);
  await new Promise((r) => setTimeout(r, 300));
  assert.doesNotMatch(host.sshdLog(), /Failed|Invalid user|Accepted/);
});

test('a port that does not answer is unreachable, quickly', async () => {
  const start = Date.now();
  const port = await freePort('127.0.0.3');
  const result = await checkReachability({ ...target(), port }, 3000);
  assert.equal(result.reachable, 'unreachable');
  assert.match(result.detail, /cannot connect|did not answer/);
  assert.ok(Date.now() - start < 3000);
});

test('sshd stopped: unreachable; started again: reachable', async () => {
  const pinned = target();
  await host.stopSshd();
  try {
    assert.equal((await checkReachability(pinned, 3000)).reachable, 'unreachable');
  } finally {
    await host.startSshd();
  }
  assert.equal((await checkReachability(pinned, 3000)).reachable, 'reachable');
});

test('a different host key on the same address is "host-key-changed", not reachable', async () => {
  const pinned = target();
  await host.replaceHostKey();
  const result = await checkReachability(pinned, 3000);
  assert.equal(result.reachable, 'host-key-changed');
  assert.match(result.detail, /different host key than the one pinned/);
  assert.equal((await checkReachability(target(), 3000)).reachable, 'reachable');
});
