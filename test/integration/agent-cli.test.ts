import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { readHistory } from '../../core/agent/history.js';
import { writeClientConfig } from '../../core/config/client-store.js';
import { makeSource, snapshotsOf, waitUntil } from './agent-harness.js';

/**
 * `pullback agent` as a process: one log line per event, SIGTERM stops it cleanly. Runs the
 * command through a tiny stand-in for the CLI dispatcher (errors → one line + exit code).
 */
const agentModule = fileURLToPath(new URL('../../cli/commands/agent.js', import.meta.url));
const errorsModule = fileURLToPath(new URL('../../core/errors.js', import.meta.url));
const exitCodesModule = fileURLToPath(new URL('../../cli/exit-codes.js', import.meta.url));
const RUNNER = `
const { agentCommand } = await import(${JSON.stringify(agentModule)});
const { asPullbackError } = await import(${JSON.stringify(errorsModule)});
const { exitCodeFor } = await import(${JSON.stringify(exitCodesModule)});
try { process.exitCode = await agentCommand(process.argv.slice(1)); }
catch (err) { const e = asPullbackError(err); console.error(e.toLine()); process.exitCode = exitCodeFor(e.code); }
`;
const nodeArgs = (args: string[]) => ['--input-type=module', '-e', RUNNER, '--', ...args];

let host: BackupHost;
before(async () => {
  host = await startBackupHost();
});
after(async () => {
  await host?.stop();
});

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /;

test('pullback agent --help explains itself; unknown options are refused with BAD_ARGS', () => {
  const help = spawnSync(process.execPath, nodeArgs(['--help']), { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: pullback agent/);
  assert.match(help.stdout, /systemctl --user enable --now pullback-agent.service/);
  const bad = spawnSync(process.execPath, nodeArgs(['--frobnicate']), { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^BAD_ARGS: agent: /);
  const interval = spawnSync(process.execPath, nodeArgs(['--check-interval', '0']), {
    encoding: 'utf8',
  });
  assert.equal(interval.status, 2);
  assert.match(interval.stderr, /--check-interval must be a whole number/);
});

test('pullback agent logs one line per event, backs up when due, and exits 0 on SIGTERM', async () => {
  const client = await makeTestClient(host, { sources: [makeSource()] });
  const child = spawn(process.execPath, nodeArgs(['--check-interval', '1']), {
    env: client.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  try {
    await waitUntil(
      () => /backup finished/.test(out),
      60_000,
      'a finished backup',
      () => out + err,
    );
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, err);
  const lines = out.trim().split('\n');
  for (const line of lines) assert.match(line, LINE, `every line starts with a UTC time: ${line}`);
  assert.ok(
    lines.some((l) => / host=home backup started \(automatic\)$/.test(l)),
    out,
  );
  assert.ok(
    lines.some((l) => / host=home backup finished \(automatic\): snapshot \S+, \d+ files/.test(l)),
    out,
  );
  assert.match(lines.at(-1)!, / agent stopped$/);
  assert.equal(snapshotsOf(host.storage, client.name).length, 1);
});

test('SIGTERM during a backup cancels it and still exits 0; the history says the agent stopped', async () => {
  const client = await makeTestClient(host, { sources: [makeSource(40 * 1024 * 1024)] });
  writeClientConfig(
    { ...client.config, hosts: [{ ...client.config.hosts[0]!, bwlimitKiB: 2048 }] },
    client.env,
  );
  const child = spawn(process.execPath, nodeArgs(['--check-interval', '1', '--json']), {
    env: client.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  await waitUntil(
    () => /"type":"backup-started"/.test(out),
    20_000,
    'the backup to start',
    () => out,
  );
  await new Promise((r) => setTimeout(r, 3000));
  const stopAt = Date.now();
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(Date.now() - stopAt < 30_000, 'stopped promptly');
  const events = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; entry?: { result: string } });
  const ended = events.find((e) => e.type === 'backup-failed');
  assert.equal(ended?.entry?.result, 'cancelled');
  const [entry] = await readHistory(client.env.PULLBACK_STATE_DIR!);
  assert.equal(entry!.result, 'cancelled');
  assert.match(entry!.error!.message, /agent stopped/);
  assert.deepEqual(snapshotsOf(host.storage, client.name), []);
});

test('pullback agent --once runs the due backup, waits for it and exits 0; with nothing due it just exits', async () => {
  const client = await makeTestClient(host, { sources: [makeSource()] });
  const first = spawnSync(process.execPath, nodeArgs(['--once']), {
    env: client.env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(first.status, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /host=home backup finished \(automatic\)/);
  assert.equal(snapshotsOf(host.storage, client.name).length, 1);
  const second = spawnSync(process.execPath, nodeArgs(['--once']), {
    env: client.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.doesNotMatch(second.stdout, /backup started/);
  assert.equal(snapshotsOf(host.storage, client.name).length, 1);
});

test('pullback agent --once exits with the failure code when the due backup fails', async () => {
  const client = await makeTestClient(host, { sources: [makeSource()] });
  const config = client.config;
  writeClientConfig({ ...config, sources: ['/nonexistent/pullback-agent-test'] }, client.env);
  const r = spawnSync(process.execPath, nodeArgs(['--once']), {
    env: client.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /host=home backup failed \(automatic\): BAD_CONFIG: /);
});
