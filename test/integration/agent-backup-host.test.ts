import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { readHostRecords } from '../../core/agent/status-store.js';
import { writeClientConfig } from '../../core/config/client-store.js';
import {
  fakePowerSupply,
  makeSource,
  sleep,
  snapshotsOf,
  startTestAgent,
  waitUntil,
} from './agent-harness.js';

/**
 * The agent against a real backup host (OpenSSH sshd on 127.0.0.3, `pullback serve`, rsync):
 * it backs up when it should, and only then. Tests run one after another; each has its own
 * client (config, state, key) on the one backup host.
 */
let host: BackupHost;
before(async () => {
  host = await startBackupHost();
});
after(async () => {
  await host?.stop();
});

const DAY = 24 * 3600_000;

/** The backup host's sshd down for a while; `sshdOn` (also in a finally) starts it only if down. */
let sshdDown = false;
async function sshdOff() {
  await host.stopSshd();
  sshdDown = true;
}
async function sshdOn() {
  if (!sshdDown) return;
  await host.startSshd();
  sshdDown = false;
}

test('the agent does nothing while the backup host is down; once sshd is up a backup begins within 10 s and succeeds', async () => {
  const source = makeSource();
  const client = await makeTestClient(host, { sources: [source] });
  await sshdOff();
  const h = startTestAgent(client.env);
  try {
    await h.agent.start();
    await sleep(3000);
    assert.equal(h.count('backup-started'), 0, 'no backup while the backup host is down');
    assert.equal(h.host().reachable, 'unreachable');
    assert.equal(h.host().phase, 'waiting');
    assert.match(h.host().waitingFor ?? '', /not reachable/);
    assert.deepEqual(snapshotsOf(host.storage, client.name), []);

    await sshdOn();
    const took = await waitUntil(() => h.count('backup-started') > 0, 10_000, 'backup-started');
    assert.ok(took <= 10_000);
    await waitUntil(
      () => h.count('backup-finished') + h.count('backup-failed') > 0,
      60_000,
      'the backup to end',
    );
    const finished = h.events.find((e) => e.type === 'backup-finished');
    assert.ok(
      finished && finished.type === 'backup-finished',
      JSON.stringify(h.events.filter((e) => e.type === 'backup-failed')),
    );
    const snapshot = finished.entry.snapshot!;
    assert.deepEqual(snapshotsOf(host.storage, client.name), [snapshot]);
    assert.ok(existsSync(join(host.storage, client.name, 'snapshots', snapshot)));
    assert.equal(h.host().phase, 'succeeded');
    assert.equal(h.host().lastSnapshot, snapshot);
    const history = await h.agent.getHistory('home');
    assert.equal(history.length, 1);
    assert.equal(history[0]!.result, 'success');
    assert.equal(history[0]!.trigger, 'automatic');
    // Not due again for 24 h: no second automatic backup; Back up now ignores the schedule.
    await sleep(2500);
    assert.equal(h.count('backup-started'), 1);
    // a change, so that the manual backup makes a snapshot (an unchanged tree makes none)
    writeFileSync(join(source, 'changed-since.txt'), 'new\n');
    await h.agent.backupNow('home');
    await waitUntil(() => h.count('backup-finished') === 2, 60_000, 'the manual backup');
    const [latest] = await h.agent.getHistory('home', 1);
    assert.equal(latest!.trigger, 'manual');
    assert.equal(snapshotsOf(host.storage, client.name).length, 2);
  } finally {
    await h.agent.stop();
    await sshdOn();
  }
});

test('on battery (a fake power_supply) a due backup waits; plugged in, it runs', async () => {
  const client = await makeTestClient(host, { sources: [makeSource()] });
  const power = fakePowerSupply(false);
  const h = startTestAgent(client.env, { powerSupplyDir: power.dir });
  try {
    await h.agent.start();
    await waitUntil(() => h.host().reachable === 'reachable', 10_000, 'reachable');
    await sleep(2500);
    assert.equal(h.count('backup-started'), 0, 'no backup on battery');
    assert.equal(h.host().phase, 'waiting');
    assert.match(h.host().waitingFor ?? '', /battery/);
    power.plug(true);
    await waitUntil(() => h.count('backup-finished') > 0, 60_000, 'a backup once on mains');
    assert.equal(snapshotsOf(host.storage, client.name).length, 1);
  } finally {
    await h.agent.stop();
  }
});

test('overdue fires once, not on every check; a success resets it, so it can fire again later', async () => {
  const client = await makeTestClient(host, {
    sources: [makeSource()],
    extra: {
      schedule: {
        intervalHours: 24,
        overdueDays: 7,
        runOnBattery: false,
        runOnMetered: false,
        networks: [],
      },
    },
  });
  let now = Date.now();
  await sshdOff();
  const h = startTestAgent(client.env, { clock: () => now });
  try {
    await h.agent.start();
    await sleep(1500);
    assert.equal(h.count('overdue'), 0);
    now += 8 * DAY;
    await sleep(3000);
    assert.equal(h.count('overdue'), 1, 'warned once after 8 days');
    assert.equal(h.host().phase, 'overdue');
    now += DAY;
    await sleep(2000);
    assert.equal(h.count('overdue'), 1, 'not again on later checks');
    assert.ok(readHostRecords(client.env.PULLBACK_STATE_DIR!).home?.overdueWarnedAt);

    await sshdOn();
    await waitUntil(() => h.count('backup-finished') > 0, 60_000, 'a backup once reachable');
    assert.equal(h.host().overdue, false);
    assert.equal(h.host().phase, 'succeeded');
    assert.equal(readHostRecords(client.env.PULLBACK_STATE_DIR!).home?.overdueWarnedAt, undefined);

    await sshdOff();
    now += 8 * DAY;
    await waitUntil(
      () => h.count('overdue') === 2,
      10_000,
      'a new warning 8 days after the success',
    );
  } finally {
    await h.agent.stop();
    await sshdOn();
  }
});

test('after a failure the agent backs off, then succeeds once the cause is gone', async () => {
  const client = await makeTestClient(host, { sources: [makeSource()] });
  // The cause: the backup host no longer lists this client's key (reachability still passes).
  const authorized = readFileSync(host.authorizedKeys, 'utf8');
  writeFileSync(host.authorizedKeys, '');
  const h = startTestAgent(client.env, { backoff: { initialMs: 3000, maxMs: 6000 } });
  const starts: number[] = [];
  h.agent.subscribe((e) => {
    if (e.type === 'backup-started') starts.push(Date.now());
  });
  try {
    await h.agent.start();
    await waitUntil(() => h.count('backup-failed') >= 1, 20_000, 'the first failure');
    const failedAt = Date.now();
    const failure = h.events.find((e) => e.type === 'backup-failed');
    assert.ok(failure?.type === 'backup-failed');
    assert.equal(failure.entry.error?.code, 'AUTH_FAILED');
    assert.match(failure.hint, /add-client/);
    assert.equal(h.host().phase, 'failed');
    assert.ok(h.host().retryAt, 'a retry time is shown');
    await sleep(1500);
    assert.equal(starts.length, 1, 'no new attempt during the back-off');

    await waitUntil(() => h.count('backup-failed') >= 2, 20_000, 'the second failure');
    assert.ok(starts[1]! - failedAt >= 2500, `retried after ${starts[1]! - failedAt} ms`);
    writeFileSync(host.authorizedKeys, authorized);
    await waitUntil(
      () => h.count('backup-finished') > 0,
      30_000,
      'a success after the cause is gone',
    );
    assert.equal(h.host().phase, 'succeeded');
    assert.equal(h.host().lastError, undefined);
    assert.equal(readHostRecords(client.env.PULLBACK_STATE_DIR!).home?.failures, 0);
    const history = await h.agent.getHistory('home');
    assert.deepEqual(
      history.map((e) => e.result),
      ['success', 'failed', 'failed'],
    );
  } finally {
    writeFileSync(host.authorizedKeys, authorized);
    await h.agent.stop();
  }
});

test('a running backup can be cancelled: recorded as cancelled, no snapshot, and automatic backups wait', async () => {
  const client = await makeTestClient(host, { sources: [makeSource(40 * 1024 * 1024)] });
  const config = { ...client.config, hosts: [{ ...client.config.hosts[0]!, bwlimitKiB: 2048 }] };
  writeClientConfig(config, client.env);
  const h = startTestAgent(client.env);
  try {
    await h.agent.start();
    await waitUntil(() => h.count('backup-started') > 0, 10_000, 'the first automatic backup');
    await waitUntil(
      () => (h.host().progress?.bytes ?? 0) > 0,
      30_000,
      'progress',
      () => JSON.stringify(h.host()),
    );
    assert.equal(h.host().phase, 'running');
    await h.agent.cancel('home');
    const ended = h.events.find((e) => e.type === 'backup-failed');
    assert.ok(ended?.type === 'backup-failed');
    assert.equal(ended.entry.result, 'cancelled');
    assert.equal(
      snapshotsOf(host.storage, client.name).length,
      0,
      'no snapshot from a cancelled run',
    );
    assert.ok(h.host().retryAt, 'automatic backups wait after a cancel');
    await sleep(2000);
    assert.equal(h.count('backup-started'), 1, 'no automatic restart right after a cancel');
  } finally {
    await h.agent.stop();
  }
});

test('the backup host key changed: no backup, a clear host-key-changed state, Back up now refused', async () => {
  const client = await makeTestClient(host, { sources: [makeSource()] });
  await host.replaceHostKey();
  const h = startTestAgent(client.env);
  try {
    await h.agent.start();
    await waitUntil(() => h.host().reachable === 'host-key-changed', 10_000, 'host-key-changed');
    assert.equal(h.count('host-key-changed'), 1);
    const status = h.host();
    assert.equal(status.phase, 'failed');
    assert.equal(status.lastError?.code, 'HOST_KEY_MISMATCH');
    assert.match(status.lastError!.message, /different identity \(host key\)/);
    assert.match(status.lastError!.hint, /reinstalled, pair with it again/);
    assert.ok(status.hostKeyChange?.presented, 'the presented fingerprint is shown');
    assert.match(status.waitingFor ?? '', /host key changed/);
    await assert.rejects(h.agent.backupNow('home'), { code: 'HOST_KEY_MISMATCH' });
    await sleep(2500);
    assert.equal(h.count('backup-started'), 0);
    assert.equal(h.count('host-key-changed'), 1, 'said once, not on every check');
    assert.deepEqual(snapshotsOf(host.storage, client.name), []);
  } finally {
    await h.agent.stop();
  }
});
