import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { createAgent, type AgentOptions } from '../../core/agent/controller.js';
import { recordRunFinished, recordRunStarted } from '../../core/agent/run-records.js';
import { readHostRecords } from '../../core/agent/status-store.js';
import type { AgentEvent } from '../../core/agent/types.js';
import {
  readClientConfig,
  writeClientConfig,
  parseClientConfig,
} from '../../core/config/client-store.js';
import { freePort } from '../support/ports.js';

/**
 * The controller without a backup host: the host's port is closed, so everything it decides
 * here (waiting, overdue, pause, refusals) must happen without a backup ever starting.
 */
const DAY = 24 * 3600_000;

/** `ssh-ed25519 AAAA…` for a fresh key: the pinned key of a backup host that never answers. */
function ed25519PublicKeyLine(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const withLength = (b: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(b.length, 0);
    return Buffer.concat([length, b]);
  };
  const blob = Buffer.concat([withLength(Buffer.from('ssh-ed25519')), withLength(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')}`;
}

async function closedHostClient(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-agent-unit-'));
  const env = {
    ...process.env,
    PULLBACK_CONFIG_DIR: join(dir, 'config'),
    PULLBACK_STATE_DIR: join(dir, 'state'),
  };
  const hostKey = ed25519PublicKeyLine();
  const port = await freePort('127.0.0.1');
  const config = parseClientConfig({
    name: 'unit',
    sources: [dir],
    hosts: [{ name: 'home', user: 'pullback', address: '127.0.0.1', port, hostKey }],
    ...extra,
  });
  writeClientConfig(config, env);
  return { dir, env };
}

function agentFor(env: NodeJS.ProcessEnv, options: Partial<AgentOptions> = {}) {
  const events: AgentEvent[] = [];
  const agent = createAgent({
    env,
    checkIntervalMs: 60_000,
    networkWatcher: false,
    powerSupplyDir: join(tmpdir(), 'pullback-no-power-supplies'),
    ...options,
  });
  agent.subscribe((e) => events.push(e));
  return { agent, events };
}

const started = (events: AgentEvent[]) => events.filter((e) => e.type === 'backup-started');

test('an unreachable backup host makes a due backup wait, and nothing starts', async () => {
  const { env } = await closedHostClient();
  const { agent, events } = agentFor(env);
  await agent.start();
  await agent.checkNow();
  const [home] = agent.getState().hosts;
  assert.equal(home!.reachable, 'unreachable');
  assert.equal(home!.phase, 'waiting');
  assert.match(home!.waitingFor!, /not reachable/);
  await agent.stop();
  assert.equal(started(events).length, 0);
  assert.deepEqual(await agent.getHistory(), []);
});

test('on battery (fake power_supply) a due backup waits and says why', async () => {
  const { dir, env } = await closedHostClient();
  const power = join(dir, 'power_supply');
  for (const [name, files] of Object.entries({
    AC: { type: 'Mains', online: '0' },
    BAT0: { type: 'Battery', status: 'Discharging' },
  })) {
    mkdirSync(join(power, name), { recursive: true });
    for (const [f, v] of Object.entries(files)) writeFileSync(join(power, name, f), `${v}\n`);
  }
  const { agent } = agentFor(env, { powerSupplyDir: power });
  await agent.start();
  await agent.checkNow();
  assert.match(agent.getState().hosts[0]!.waitingFor!, /battery/);
  await agent.stop();
});

test('overdue fires once, is remembered across a restart, and shows as the phase', async () => {
  const { env } = await closedHostClient({ schedule: { overdueDays: 7 } });
  let now = Date.now();
  const first = agentFor(env, { clock: () => now });
  await first.agent.start();
  await first.agent.checkNow();
  assert.equal(first.events.filter((e) => e.type === 'overdue').length, 0);
  now += 8 * DAY;
  await first.agent.checkNow();
  await first.agent.checkNow();
  now += DAY;
  await first.agent.checkNow();
  const overdue = first.events.filter((e) => e.type === 'overdue');
  assert.equal(overdue.length, 1);
  assert.deepEqual(overdue[0], { type: 'overdue', host: 'home', days: 8, lastSuccess: undefined });
  assert.equal(first.agent.getState().hosts[0]!.phase, 'overdue');
  assert.equal(first.agent.getState().hosts[0]!.overdue, true);
  await first.agent.stop();

  const second = agentFor(env, { clock: () => now });
  await second.agent.start();
  await second.agent.checkNow();
  await second.agent.stop();
  assert.equal(second.events.filter((e) => e.type === 'overdue').length, 0, 'no second warning');
});

test('pause writes pausedUntil to the config, blocks automatic backups, and resume clears it', async () => {
  const { env } = await closedHostClient();
  const { agent } = agentFor(env);
  await agent.start();
  const until = new Date(Date.now() + 3600_000);
  await agent.pause(until);
  assert.equal(readClientConfig(env).schedule.pausedUntil, until.toISOString());
  assert.equal(agent.getState().pausedUntil, until.toISOString());
  await agent.checkNow();
  assert.match(agent.getState().hosts[0]!.waitingFor!, /paused until/);
  await agent.pause(null);
  assert.equal(readClientConfig(env).schedule.pausedUntil, undefined);
  assert.equal(agent.getState().pausedUntil, undefined);
  await agent.stop();
});

test('Back up now needs a reachable backup host and says so otherwise', async () => {
  const { env } = await closedHostClient();
  const { agent, events } = agentFor(env);
  await agent.start();
  await assert.rejects(agent.backupNow('home'), { code: 'UNREACHABLE' });
  await assert.rejects(agent.backupNow('elsewhere'), { code: 'NOT_FOUND' });
  await agent.stop();
  assert.equal(started(events).length, 0);
});

test('nothing paired: the state asks for pairing and Back up now says NOT_PAIRED', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-agent-unit-'));
  const env = {
    ...process.env,
    PULLBACK_CONFIG_DIR: join(dir, 'c'),
    PULLBACK_STATE_DIR: join(dir, 's'),
  };
  const { agent } = agentFor(env);
  await agent.start();
  assert.equal(agent.getState().needsPairing, true);
  await assert.rejects(agent.backupNow(), { code: 'NOT_PAIRED' });
  await agent.stop();
});

test('a config changed on disk (by the CLI) reaches a running agent at its next check', async () => {
  const { env } = await closedHostClient();
  const { agent } = agentFor(env);
  await agent.start();
  const config = readClientConfig(env);
  writeClientConfig({ ...config, hosts: [{ ...config.hosts[0]!, name: 'office' }] }, env);
  await agent.checkNow();
  assert.deepEqual(
    agent.getState().hosts.map((h) => h.host),
    ['office'],
  );
  await agent.stop();
});

test('a broken config file stops the agent from starting with BAD_CONFIG, until a reload finds it fixed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-agent-unit-'));
  mkdirSync(join(dir, 'c'));
  writeFileSync(join(dir, 'c', 'config.json'), '{"hosts": 3}');
  const env = {
    ...process.env,
    PULLBACK_CONFIG_DIR: join(dir, 'c'),
    PULLBACK_STATE_DIR: join(dir, 's'),
  };
  const { agent } = agentFor(env);
  await assert.rejects(agent.start(), { code: 'BAD_CONFIG' });
  // Fixed in Preferences: the reload starts the agent that the broken file kept from starting.
  writeFileSync(join(dir, 'c', 'config.json'), '{}');
  await agent.reload();
  assert.equal(agent.getState().needsPairing, true);
  await agent.stop();
});

test('the state directory keeps status.json once the agent has seen a host', async () => {
  const { env } = await closedHostClient();
  const { agent } = agentFor(env);
  await agent.start();
  await agent.stop();
  assert.ok(existsSync(join(env.PULLBACK_STATE_DIR, 'status.json')));
});

test('R: a backup another process recorded (pullback backup) counts at once: the running agent is not due, and keeps it', async () => {
  const { env } = await closedHostClient();
  const { agent } = agentFor(env);
  await agent.start();
  await agent.checkNow();
  assert.match(agent.getState().hosts[0]!.waitingFor!, /not reachable/, 'due: never backed up');
  const stateDir = env.PULLBACK_STATE_DIR;
  const at = Date.now();
  recordRunStarted(stateDir, { host: 'home', trigger: 'cli', startedAt: at - 5000 });
  recordRunFinished(
    stateDir,
    { host: 'home', trigger: 'cli', startedAt: at - 5000 },
    {
      result: {
        host: 'home',
        snapshot: '2026-12-02T070000Z',
        stats: { files: 3, totalBytes: 10, bytesTransferred: 10, durationMs: 5000 },
        warnings: [],
        startedAt: new Date(at - 5000).toISOString(),
        finishedAt: new Date(at).toISOString(),
      } as never,
    },
    at,
    5000,
  );
  await agent.checkNow();
  const home = agent.getState().hosts[0]!;
  assert.equal(home.lastSnapshot, '2026-12-02T070000Z');
  assert.equal(home.lastResult, 'success');
  assert.equal(home.waitingFor, undefined, 'not due any more');
  // A second host makes the agent write the status file itself…
  const config = readClientConfig(env);
  writeClientConfig(
    { ...config, hosts: [...config.hosts, { ...config.hosts[0]!, name: 'office' }] },
    env,
  );
  await agent.reload();
  await agent.stop();
  assert.ok(readHostRecords(stateDir).office, 'the agent wrote its record for the new host');
  assert.equal(readHostRecords(stateDir).home?.lastSnapshot, '2026-12-02T070000Z', '…keeping it');
  assert.deepEqual(
    (await agent.getHistory()).map((e) => e.trigger),
    ['cli'],
  );
});
