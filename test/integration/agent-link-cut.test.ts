import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { ip, mustIp } from '../support/netns.js';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { readHostRecords } from '../../core/agent/status-store.js';
import { writeClientConfig } from '../../core/config/client-store.js';
import type { AgentHarness } from './agent-harness.js';
import { makeSource, snapshotsOf, startTestAgent, waitUntil } from './agent-harness.js';

/**
 * The wire cut mid-run: the backup host's sshd runs in a network namespace of our own, joined
 * to the root namespace by a veth pair (10.200.N.0/24, private to this test). The client (this
 * process) is in the root namespace; `ip link set … down` cuts the wire during a slow transfer.
 */
const n = (process.pid % 200) + 20;
const NS = `pullback-agent-${process.pid}`;
const VETH = `pbag${process.pid % 100000}`;
const PEER = `${VETH}p`;
const HOST_IP = `10.200.${n}.1`;
const CLIENT_IP = `10.200.${n}.2`;

/** Sets up the namespace and veth pair; returns why not, if it cannot be done here. */
function makeNamespace(): string | undefined {
  const add = ip('netns', 'add', NS);
  if (!add.ok) return `cannot create a network namespace (ip netns add: ${add.out})`;
  try {
    mustIp('link', 'add', VETH, 'type', 'veth', 'peer', 'name', PEER);
    mustIp('link', 'set', PEER, 'netns', NS);
    mustIp('addr', 'add', `${CLIENT_IP}/24`, 'dev', VETH);
    mustIp('link', 'set', VETH, 'up');
    mustIp('netns', 'exec', NS, 'ip', 'addr', 'add', `${HOST_IP}/24`, 'dev', PEER);
    mustIp('netns', 'exec', NS, 'ip', 'link', 'set', PEER, 'up');
    mustIp('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    return `cannot wire the network namespace: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * startBackupHost picks the sshd port by binding the host address in *our* namespace, where
 * 10.200.N.1 does not exist; allow a non-local bind for that moment only.
 */
async function startHostInNamespace(): Promise<BackupHost> {
  const sysctl = '/proc/sys/net/ipv4/ip_nonlocal_bind';
  const before = readFileSync(sysctl, 'utf8').trim();
  writeFileSync(sysctl, '1');
  try {
    return await startBackupHost({ address: HOST_IP, netns: NS });
  } finally {
    writeFileSync(sysctl, before);
  }
}

let host: BackupHost | undefined;
let harness: AgentHarness | undefined;
after(async () => {
  await harness?.agent.stop();
  await host?.stop();
  ip('link', 'del', VETH);
  ip('netns', 'del', NS);
});

test('the link cut mid-run: the backup fails, the agent backs off, and succeeds once the link is back', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root: creates a network namespace and a veth pair to cut the wire');
    return;
  }
  const why = makeNamespace();
  if (why) {
    t.skip(`SKIPPED LOUDLY: ${why}`);
    return;
  }
  host = await startHostInNamespace();
  // ~40 s at 1 MiB/s: long enough to cut the wire in the middle.
  const client = await makeTestClient(host, {
    sources: [makeSource(40 * 1024 * 1024)],
    localAddress: CLIENT_IP,
  });
  writeClientConfig(
    { ...client.config, hosts: [{ ...client.config.hosts[0]!, bwlimitKiB: 1024 }] },
    client.env,
  );
  const h = startTestAgent(client.env, {
    networkWatcher: true,
    networkDebounceMs: 300,
    backoff: { initialMs: 3000, maxMs: 10_000 },
  });
  harness = h;
  await h.agent.start();
  const describe = () =>
    JSON.stringify({
      state: h.host(),
      log: h.events.filter((e) => e.type === 'log' || e.type === 'backup-failed'),
    });

  await waitUntil(
    () => (h.host().progress?.bytes ?? 0) > 2 * 1024 * 1024,
    60_000,
    'the transfer to be under way',
    describe,
  );
  mustIp('link', 'set', VETH, 'down');
  const cutAt = Date.now();
  // The SSH keepalive (15 s × 4) notices a silent link; allow for it.
  await waitUntil(
    () => h.count('backup-failed') >= 1,
    150_000,
    'the run to fail after the cut',
    describe,
  );
  const failedAfter = Date.now() - cutAt;
  const failure = h.events.find((e) => e.type === 'backup-failed');
  assert.ok(failure?.type === 'backup-failed');
  assert.equal(failure.entry.result, 'failed');
  assert.equal(h.host().phase, 'failed');
  const record = readHostRecords(client.env.PULLBACK_STATE_DIR!).home!;
  assert.equal(record.lastResult, 'failed');
  assert.ok(record.failures >= 1 && record.retryAt, 'a back-off is in place');
  assert.deepEqual(snapshotsOf(host.storage, client.name), [], 'no snapshot from the cut run');
  // While the wire stays cut, nothing more is started: the host is unreachable.
  await new Promise((r) => setTimeout(r, 5000));
  assert.equal(h.count('backup-started'), 1, 'no new run while unreachable');
  assert.equal(h.host().reachable, 'unreachable');

  mustIp('link', 'set', VETH, 'up');
  await waitUntil(
    () => h.count('backup-finished') >= 1,
    240_000,
    'a success after the link returns',
    describe,
  );
  assert.equal(h.host().phase, 'succeeded');
  assert.equal(snapshotsOf(host.storage, client.name).length, 1);
  t.diagnostic(
    `the cut run failed ${Math.round(failedAfter / 1000)} s after the cut; then ${h.count('backup-failed')} failure(s) in all before the success`,
  );
});
