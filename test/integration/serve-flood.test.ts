import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientChannel } from 'ssh2';
import {
  startBackupHost,
  makeTestClient,
  type BackupHost,
  type TestClient,
} from '../support/backup-host.js';
import { rssBytes, servePids } from '../support/serve-processes.js';
import { connectToBackupHost, type HandoffConnection } from '../../core/handoff/connect.js';
import { parseServerConfig, writeServerConfig } from '../../core/config/server-store.js';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import { LAST_RUN_FILE } from '../../core/server/last-run.js';
import { REQUEST_READ_TIMEOUT_MS } from '../../core/handoff/messages.js';

/**
 * R: a flood of handoffs by one client does not starve the backup host. Each connection used
 * to be a serve process waiting 15 s for its request before taking any lock.
 */
let host: BackupHost;
let source: string;
let client: TestClient;

before(async () => {
  host = await startBackupHost();
  source = mkdtempSync(join(tmpdir(), 'pullback-flood-src-'));
  for (let i = 0; i < 8; i++) writeFileSync(join(source, `f${i}.bin`), randomBytes(512 * 1024));
  client = await makeTestClient(host, { sources: [source], name: 'flood-laptop' });
});
after(async () => {
  await host?.stop();
  rmSync(source, { recursive: true, force: true });
});

function setClientSettings(settings: Record<string, unknown>): void {
  const config = JSON.parse(readFileSync(host.configFile, 'utf8')) as Record<string, unknown>;
  writeServerConfig(
    host.configFile,
    parseServerConfig({ ...config, clients: { [client.name]: settings } }),
  );
}

function cli(args: string[]) {
  return spawnSync(process.execPath, [PULLBACK_CLI_SCRIPT, ...args], {
    env: client.env,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

/** Opens the handoff channel and sends nothing; resolves with the first line and its delay. */
function silentHandoff(conn: HandoffConnection): Promise<{ line: string; ms: number }> {
  return new Promise((resolve, reject) => {
    conn.ssh.exec('pullback serve', (err: Error | undefined, channel: ClientChannel) => {
      if (err) return reject(err);
      const opened = Date.now();
      let out = '';
      channel.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve({ line: out.split('\n')[0]!, ms: Date.now() - opened });
      });
      channel.on('close', () =>
        resolve({ line: out.split('\n')[0] ?? '', ms: Date.now() - opened }),
      );
    });
  });
}

test('R: of 20 parallel handoffs of one client that send nothing, all but one are answered BUSY at once and exit', async () => {
  const hostConfig = client.config.hosts[0]!;
  const conns = await Promise.all(
    Array.from({ length: 20 }, () => connectToBackupHost(hostConfig, client.identityKey)),
  );
  let peakRss = 0;
  let peakProcs = 0;
  const sampler = setInterval(() => {
    const pids = servePids(client.name);
    peakProcs = Math.max(peakProcs, pids.length);
    peakRss = Math.max(
      peakRss,
      pids.reduce((sum, pid) => sum + rssBytes(pid), 0),
    );
  }, 20);
  try {
    const waiting = conns.map((c) => silentHandoff(c));
    // the 19 answers come at once; the one holding the slot waits for its request
    const settled = await Promise.all(
      waiting.map((w) =>
        Promise.race([
          w,
          new Promise((r) => setTimeout(() => r(null), REQUEST_READ_TIMEOUT_MS - 2000)),
        ]),
      ),
    );
    const answers = settled.filter((a): a is { line: string; ms: number } => a !== null);
    assert.equal(
      answers.length,
      19,
      `19 answered before the request timeout, got ${answers.length} (peak ${peakProcs} serve processes, ${peakRss >> 20} MiB)`,
    );
    for (const a of answers) {
      const msg = JSON.parse(a.line) as { type: string; code: string; message: string };
      assert.equal(msg.type, 'error');
      assert.equal(msg.code, 'BUSY', msg.message);
    }
    const slowest = Math.max(...answers.map((a) => a.ms));
    await new Promise((r) => setTimeout(r, 500));
    const left = servePids(client.name).length;
    console.log(
      `# flood: BUSY after ${answers
        .map((a) => a.ms)
        .sort((x, y) => x - y)
        .join(
          ' ',
        )} ms; peak ${peakProcs} serve processes, ${Math.round(peakRss / 2 ** 20)} MiB; ${left} left`,
    );
    // "At once" is as fast as twenty Node processes can start on this machine (seconds on a
    // loaded two-core box); the old serve answered none of them before its 15 s request timeout.
    assert.ok(
      slowest < REQUEST_READ_TIMEOUT_MS / 2,
      `BUSY long before the request timeout (slowest ${slowest} ms)`,
    );
    assert.equal(left, 1, 'only the one waiting for its request is left');
    // Each serve is one Node process (about 50 MiB resident); on a loaded machine all twenty may
    // be alive at once. What must not happen is a waiting serve growing (buffering, leaks).
    assert.ok(
      peakRss < peakProcs * 64 * 2 ** 20,
      `peak memory bounded: at most 64 MiB per serve, got ${peakRss >> 20} MiB for ${peakProcs}`,
    );
    const holder = await waiting[settled.indexOf(null)]!;
    assert.match(holder.line, /"code":"TIMEOUT"/, 'the one holding the slot times out as before');
  } finally {
    clearInterval(sampler);
    for (const c of conns) c.close();
  }
});

test('R: a backup holds the client lock; more backups are BUSY at once, while "snapshots" (list) still answers', async () => {
  setClientSettings({ bwlimitKiB: 300 });
  try {
    const first = spawn(process.execPath, [PULLBACK_CLI_SCRIPT, 'backup', '--json'], {
      env: client.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((r) => first.once('close', r));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      first.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"type":"progress"')) resolve();
      });
      void exited.then(() => reject(new Error(`backup ended early: ${out}`)));
    });
    const started = Date.now();
    const second = cli(['backup']);
    assert.equal(second.status, 3, `BUSY exit status: ${second.stderr}`);
    assert.match(second.stderr, /BUSY: .*already running/);
    assert.ok(Date.now() - started < 5000, 'at once');
    const list = cli(['snapshots']);
    assert.equal(list.status, 0, `list works during a backup: ${list.stderr}`);
    first.kill('SIGTERM');
    await exited;
  } finally {
    setClientSettings({});
  }
});

test('R: a client over its quota is refused before anything is pulled, with one line, and the run is recorded', async () => {
  setClientSettings({});
  const ok = cli(['backup']);
  assert.equal(ok.status, 0, ok.stderr);
  const snapshotsBefore = readdirSync(join(host.storage, client.name, 'snapshots')).sort();
  setClientSettings({ quota: 1024 * 1024 });
  writeFileSync(join(source, 'new.bin'), randomBytes(64 * 1024));
  const refused = cli(['backup']);
  assert.equal(refused.status, 6, `NO_SPACE exit status: ${refused.stderr}`);
  const lines = refused.stderr.trim().split('\n');
  assert.equal(lines.length, 1, refused.stderr);
  assert.match(lines[0]!, /NO_SPACE: client flood-laptop already uses .* of its quota of 1.0 MiB/);
  assert.deepEqual(
    readdirSync(join(host.storage, client.name, 'snapshots')).sort(),
    snapshotsBefore,
    'no new snapshot',
  );
  const last = JSON.parse(readFileSync(join(host.storage, client.name, LAST_RUN_FILE), 'utf8')) as {
    result: string;
    code: string;
  };
  assert.deepEqual([last.result, last.code], ['failed', 'NO_SPACE']);
  setClientSettings({});
});
