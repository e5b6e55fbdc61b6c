import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHistory } from '../../core/agent/history.js';
import { readHostRecords } from '../../core/agent/status-store.js';
import { readClientConfig, writeClientConfig } from '../../core/config/client-store.js';
import { pullbackCommand } from '../../core/self-command.js';
import { fingerprint, generateKeyPair } from '../../core/ssh/keys.js';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { freePort } from '../support/ports.js';
import { makeSource, snapshotsOf, waitUntil } from './agent-harness.js';

/**
 * One truth about "last backup", through the real CLI: `pullback backup`, the agent and
 * `pullback status` read and write the same history and status on the client.
 */
function pullback(args: string[], env: NodeJS.ProcessEnv) {
  const [node, ...rest] = pullbackCommand(...args);
  return spawnSync(node!, rest, { encoding: 'utf8', env, timeout: 120_000 });
}

/** A paired client with a small source tree, both removed after the test. */
async function newClient(
  t: { after(fn: () => void): void },
  extra?: Parameters<typeof makeTestClient>[1]['extra'],
) {
  const source = makeSource();
  const client = await makeTestClient(host, { sources: [source], ...(extra && { extra }) });
  t.after(() => {
    rmSync(source, { recursive: true, force: true });
    rmSync(client.dir, { recursive: true, force: true });
  });
  return client;
}

let host: BackupHost;
before(async () => {
  host = await startBackupHost();
});
after(async () => {
  await host?.stop();
});

test('R: a CLI backup counts for the agent: pullback status shows it, and agent --once does not back up again', async (t) => {
  // Due at once without the CLI backup: never backed up, interval one hour.
  const client = await newClient(t, { schedule: { intervalHours: 1 } } as never);
  const backup = pullback(['backup'], client.env);
  assert.equal(backup.status, 0, backup.stderr);
  assert.equal(snapshotsOf(host.storage, client.name).length, 1);

  const status = pullback(['status', '--json'], client.env);
  assert.equal(status.status, 0, status.stderr);
  const [home] = JSON.parse(status.stdout).hosts;
  assert.equal(home.host, 'home');
  assert.equal(home.lastResult, 'success');
  assert.ok(home.lastSuccess && home.lastAttempt, status.stdout);
  assert.equal(home.lastSnapshot, snapshotsOf(host.storage, client.name)[0]);
  assert.equal(home.due, false);
  const inAnHour = Date.parse(home.lastSuccess) + 3600_000;
  assert.equal(Date.parse(home.nextDue), inAnHour);

  const human = pullback(['status'], client.env);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /^home \(127\.0\.0\.3\)$/m);
  assert.match(human.stdout, /last attempt: .*, success$/m);
  assert.match(human.stdout, /next backup: +\S+ \(in (1 h|59 min)\)$/m);

  const agent = pullback(['agent', '--once'], client.env);
  assert.equal(agent.status, 0, agent.stdout + agent.stderr);
  assert.doesNotMatch(agent.stdout, /backup started \(/, 'the agent waits: the CLI backup counts');
  assert.equal(snapshotsOf(host.storage, client.name).length, 1, 'no second snapshot');

  const history = await readHistory(client.env.PULLBACK_STATE_DIR!);
  assert.deepEqual(
    history.map((e) => [e.trigger, e.result]),
    [['cli', 'success']],
  );
});

test('R: a failed CLI backup is recorded with what happened and what to do, never the raw Node text', async (t) => {
  const client = await newClient(t);
  const config = readClientConfig(client.env);
  const closedPort = await freePort('127.0.0.3');
  writeClientConfig({ ...config, hosts: [{ ...config.hosts[0]!, port: closedPort }] }, client.env);
  const backup = pullback(['backup'], client.env);
  assert.equal(backup.status, 4, backup.stderr);
  const status = pullback(['status', '--json'], client.env);
  const [home] = JSON.parse(status.stdout).hosts;
  assert.equal(home.lastResult, 'failed');
  assert.equal(home.lastSuccess, undefined);
  assert.equal(home.lastError.code, 'UNREACHABLE');
  assert.equal(
    home.lastError.message,
    `The backup host (127.0.0.3:${closedPort}) refused the connection: no SSH server answers.`,
  );
  assert.match(home.lastError.hint, /^Check that the SSH server runs on the backup host/);
  assert.ok(home.retryAt, 'the agent backs off after the CLI failure too');
  const human = pullback(['status'], client.env);
  assert.doesNotMatch(human.stdout, /ECONNREFUSED/);
  assert.match(human.stdout, /last attempt: .*, failed: The backup host .* refused the connection/);
});

test('R: agent --once exits 5 when the backup host presents another host key, naming both fingerprints', async (t) => {
  const client = await newClient(t);
  const config = readClientConfig(client.env);
  const pinned = generateKeyPair('not-the-backup-host').publicKey;
  writeClientConfig({ ...config, hosts: [{ ...config.hosts[0]!, hostKey: pinned }] }, client.env);
  const agent = pullback(['agent', '--once'], client.env);
  assert.equal(agent.status, 5, agent.stdout + agent.stderr);
  assert.match(
    agent.stdout,
    new RegExp(
      `host=home needs attention: host key changed: pinned ${fingerprint(pinned).replace(/[+/]/g, '\\$&')}, presented ${fingerprint(host.hostKey).replace(/[+/]/g, '\\$&')}`,
    ),
  );
  assert.match(agent.stdout, /pair with it again/);
  const json = pullback(['agent', '--once', '--json'], client.env);
  assert.equal(json.status, 5, json.stderr);
  const attention = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .find((e) => e.type === 'attention');
  assert.equal(attention?.host, 'home');
  assert.match(attention?.what, /^host key changed: pinned SHA256:/);
  assert.equal(snapshotsOf(host.storage, client.name).length, 0);
});

test("R: agent --once exits 5 when the backup host no longer accepts this machine's key", async (t) => {
  const client = await newClient(t);
  // A new identity the backup host has never been told about.
  const stranger = generateKeyPair('stranger');
  writeFileSync(join(client.env.PULLBACK_CONFIG_DIR!, 'id_ed25519'), stranger.privateKey, {
    mode: 0o600,
  });
  const agent = pullback(['agent', '--once'], client.env);
  assert.equal(agent.status, 5, agent.stdout + agent.stderr);
  assert.match(
    agent.stdout,
    /host=home needs attention: The backup host no longer accepts this machine's key\./,
  );
});

test('R: while a CLI backup runs, agent --once waits for it instead of starting a second run', async (t) => {
  const client = await newClient(t, { schedule: { intervalHours: 1 } } as never);
  const big = join(client.config.sources[0]!, 'big.bin');
  writeFileSync(big, randomBytes(8 * 1024 * 1024));
  const config = readClientConfig(client.env);
  // ~4 s of transfer: time for the agent to look while the CLI backup runs.
  writeClientConfig({ ...config, hosts: [{ ...config.hosts[0]!, bwlimitKiB: 2048 }] }, client.env);
  const [node, ...rest] = pullbackCommand('backup');
  const cli = spawn(node!, rest, { env: client.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const cliDone = new Promise<number | null>((resolve) => cli.once('exit', resolve));
  t.after(() => cli.kill());
  const stateDir = client.env.PULLBACK_STATE_DIR!;
  await waitUntil(
    () => readHostRecords(stateDir).home?.running !== undefined,
    20_000,
    'the CLI backup marked as running',
  );

  const status = pullback(['status', '--json'], client.env);
  assert.equal(JSON.parse(status.stdout).hosts[0].runningPid, cli.pid);
  const agent = pullback(['agent', '--once'], client.env);
  assert.equal(agent.status, 0, agent.stdout + agent.stderr);
  assert.match(
    agent.stdout,
    new RegExp(`waiting: .*"pullback backup", pid ${cli.pid}\\) is running`),
  );
  assert.doesNotMatch(agent.stdout, /backup started \(/);

  assert.equal(await cliDone, 0);
  assert.equal(snapshotsOf(host.storage, client.name).length, 1, 'one run, one snapshot');
  assert.equal(readHostRecords(stateDir).home?.running, undefined, 'the mark is gone');
  const again = pullback(['agent', '--once'], client.env);
  assert.doesNotMatch(again.stdout, /backup started \(/, 'and after it, the CLI backup counts');
});
