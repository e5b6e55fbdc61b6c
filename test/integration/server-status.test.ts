import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
import { generateKeyPair } from '../../core/ssh/keys.js';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import { formatSnapshotTime } from '../../core/storage/snapshot-id.js';
import type { ServerStatus } from '../../core/server/status.js';

/** `server status` (JSON and Prometheus) and retention reflect the backups that just ran. */
let host: BackupHost;
let source: string;
let laptop: TestClient;

before(async () => {
  host = await startBackupHost();
  source = mkdtempSync(join(tmpdir(), 'pullback-status-src-'));
  writeFileSync(join(source, 'file.txt'), 'x'.repeat(100_000));
  laptop = await makeTestClient(host, { sources: [source], name: 'status-laptop' });
});
after(async () => {
  await host?.stop();
  rmSync(source, { recursive: true, force: true });
});

function server(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    [PULLBACK_CLI_SCRIPT, 'server', ...args, '--config', host.configFile],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `server ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const backup = () =>
  runBackup({
    config: laptop.config,
    host: laptop.config.hosts[0]!,
    identityKey: laptop.identityKey,
    launcher: launchUserOneShot,
  });

function statusOf(name: string) {
  const status = JSON.parse(
    server('status', '--json', '--authorized-keys', host.authorizedKeys),
  ) as ServerStatus;
  const c = status.clients.find((x) => x.client === name);
  assert.ok(c, `${name} is in the status`);
  return c;
}

test('status --json and the Prometheus file reflect a backup that just ran', async () => {
  const before = statusOf('status-laptop');
  assert.equal(before.snapshots, 0, 'a client with only a key is listed, with no snapshots');
  assert.equal(before.lastSuccessAt, undefined);
  const result = await backup();
  const c = statusOf('status-laptop');
  assert.equal(c.snapshots, 1);
  assert.equal(c.newestSnapshot, result.snapshot);
  assert.equal(c.lastResult, 'success');
  assert.ok(
    c.lastSuccessAgeSeconds !== undefined && c.lastSuccessAgeSeconds < 60,
    `age ${c.lastSuccessAgeSeconds}`,
  );
  assert.ok(c.lastDurationMs !== undefined && c.lastDurationMs > 0);
  assert.ok(c.sizeBytes !== undefined && c.sizeBytes >= 100_000, `size ${c.sizeBytes}`);
  assert.equal(c.running, false);

  const prom = join(host.dir, 'textfile', 'pullback.prom');
  spawnSync('mkdir', ['-p', join(host.dir, 'textfile')]);
  server('status', '--prometheus', prom);
  const text = readFileSync(prom, 'utf8');
  assert.match(text, /^# TYPE pullback_last_success_timestamp_seconds gauge$/m);
  const ts = /^pullback_last_success_timestamp_seconds\{client="status-laptop"\} (\S+)$/m.exec(
    text,
  );
  assert.ok(ts, text);
  assert.ok(Math.abs(Number(ts[1]) - Date.parse(c.lastSuccessAt!) / 1000) < 1);
  assert.match(text, /^pullback_last_run_success\{client="status-laptop"\} 1$/m);
  assert.match(text, /^pullback_snapshots\{client="status-laptop"\} 1$/m);
  assert.match(text, /^pullback_storage_bytes\{client="status-laptop"\} \d+$/m);
  assert.deepEqual(
    readdirSync(join(host.dir, 'textfile')),
    ['pullback.prom'],
    'no temp file is left beside it',
  );
});

test('a failed run is recorded: status shows the failure and keeps the last success', async () => {
  const good = statusOf('status-laptop');
  // A launcher that lies about the one-time host key: the backup host refuses to pull (S5).
  await assert.rejects(
    runBackup({
      config: laptop.config,
      host: laptop.config.hosts[0]!,
      identityKey: laptop.identityKey,
      launcher: (r) =>
        launchUserOneShot({ ...r, hostPrivateKey: generateKeyPair('not-H').privateKey }),
    }),
  );
  const c = statusOf('status-laptop');
  assert.equal(c.lastResult, 'failed');
  assert.equal(c.lastError?.code, 'HOST_KEY_MISMATCH');
  assert.equal(c.lastSuccessAt, good.lastSuccessAt, 'the last success is still the last success');
  assert.match(
    server('status', '--prometheus', '-'),
    /^pullback_last_run_success\{client="status-laptop"\} 0$/m,
  );
  assert.match(server('status'), /status-laptop: .*last run FAILED \(HOST_KEY_MISMATCH/);
});

test('retention runs after each successful backup: old snapshots are thinned, the new one kept', async () => {
  // Three snapshots of one day, ten days ago (copies of the real one, with their own metadata).
  const snapshots = join(host.storage, 'status-laptop', 'snapshots');
  const real = readdirSync(snapshots).find((n) => !n.endsWith('.json'))!;
  const meta = JSON.parse(readFileSync(join(snapshots, `${real}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
  const day = new Date(Date.now() - 10 * 86_400_000);
  const old = [5, 6, 7].map((hour) => {
    const time = new Date(
      Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour),
    );
    const id = formatSnapshotTime(time);
    cpSync(join(snapshots, real), join(snapshots, id), { recursive: true });
    writeFileSync(
      join(snapshots, `${id}.json`),
      JSON.stringify({
        ...meta,
        id,
        startedAt: time.toISOString(),
        finishedAt: time.toISOString(),
      }),
    );
    return id;
  });
  assert.match(server('prune', 'status-laptop', '--dry-run'), /would remove 2, keeps \d+/);
  assert.ok(
    old.every((id) => existsSync(join(snapshots, id))),
    'a dry run deletes nothing',
  );
  const result = await backup();
  const left = readdirSync(snapshots);
  assert.deepEqual(
    old.filter((id) => left.includes(id)),
    [old[0]],
    'one a day is kept: the oldest of that day',
  );
  assert.ok(left.includes(result.snapshot) && left.includes(real), 'the recent ones are all kept');
  assert.match(server('prune'), /status-laptop: removed 0,/, 'a prune right after changes nothing');
});
