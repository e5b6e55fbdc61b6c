import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeServerConfig, parseServerConfig } from '../../core/config/server-store.js';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import { findReceiversInto } from '../../core/server/orphaned-receivers.js';
import { formatSnapshotTime } from '../../core/storage/snapshot-id.js';
import { backupThroughServe, fingerprintSnapshots, startServeRun } from './crash-harness.js';

/**
 * kill -9 at five points of a run (and of a prune): every existing snapshot stays identical to
 * the byte, nothing is promoted, and the next run completes. Real serve, rsync, ssh, sshd.
 */
const CLIENT = 'crashy';
let work: string;
let storage: string;
let source: string;
let configFile: string;
let incomplete: string;

function writeConfig(retention: string): void {
  writeServerConfig(
    configFile,
    parseServerConfig({ storage, backend: 'hardlink', retention, maxParallel: 4 }),
  );
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pullback-crash-'));
  storage = join(work, 'storage');
  source = join(work, 'src');
  configFile = join(work, 'server.json');
  incomplete = join(storage, CLIENT, '.incomplete') + '/';
  mkdirSync(storage);
  // Many small files (a file list that takes a moment) and one big file that changes every run.
  for (let d = 0; d < 50; d++) {
    mkdirSync(join(source, `dir-${d}`), { recursive: true });
    for (let f = 0; f < 100; f++)
      writeFileSync(join(source, `dir-${d}`, `f-${f}.txt`), `${d}/${f}\n`.repeat(40));
  }
  changeBigFile();
  writeConfig('*:all');
  await backupThroughServe({ client: CLIENT, configFile, sources: [source] });
});
after(() => {
  rmSync(work, { recursive: true, force: true });
});

function changeBigFile(): void {
  writeFileSync(join(source, 'big.bin'), randomBytes(24 * 1024 * 1024));
}

function snapshotIds(): string[] {
  return readdirSync(join(storage, CLIENT, 'snapshots')).filter((n) => /^\d{4}-.*Z(-\d)?$/.test(n));
}

/** Crashes a run with `crash`, then checks the promise: old snapshots intact, nothing new, next run completes. */
async function crashAndRecover(
  crash: () => Promise<void>,
  retentionMayRemove = false,
): Promise<void> {
  changeBigFile();
  const before = await fingerprintSnapshots(storage, CLIENT);
  const idsBefore = snapshotIds();
  await crash();
  assert.deepEqual(
    await fingerprintSnapshots(storage, CLIENT),
    before,
    'every existing snapshot is unchanged',
  );
  assert.deepEqual(snapshotIds(), idsBefore, 'nothing was promoted');
  const id = await backupThroughServe({ client: CLIENT, configFile, sources: [source] });
  assert.ok(snapshotIds().includes(id), 'the next run completes');
  assert.deepEqual(findReceiversInto(incomplete), [], 'no receiver is left running');
  const after = await fingerprintSnapshots(storage, CLIENT);
  for (const [old, print] of before) {
    if (retentionMayRemove && !after.has(old)) continue;
    assert.equal(after.get(old), print, `${old} is still unchanged after the next run`);
  }
}

async function waitForReceiver(timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [pid] = findReceiversInto(incomplete);
    if (pid !== undefined) return pid;
    if (Date.now() > deadline) throw new Error('no rsync receiver appeared');
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('crash 1: kill -9 of the receiving rsync during the file list leaves every snapshot intact', async () => {
  await crashAndRecover(async () => {
    const run = await startServeRun({ client: CLIENT, configFile, sources: [source] });
    process.kill(await waitForReceiver(), 'SIGKILL');
    const end = await run.finished;
    assert.equal(
      run.responses.filter((r) => r.type === 'progress').length,
      0,
      'killed before any file was transferred',
    );
    assert.equal(end.final?.type, 'error');
  });
});

test('crash 2: kill -9 of the receiving rsync mid-transfer leaves every snapshot intact', async () => {
  await crashAndRecover(async () => {
    const run = await startServeRun({
      client: CLIENT,
      configFile,
      sources: [source],
      bwlimitKiB: 4000,
    });
    await run.waitForResponse((r) => r.type === 'progress' && r.bytes > 1024 * 1024);
    process.kill(await waitForReceiver(), 'SIGKILL');
    const end = await run.finished;
    assert.equal(end.final?.type, 'error', JSON.stringify(end.final));
    assert.ok(existsSync(incomplete), '.incomplete is kept for the next run to resume');
  });
});

test('crash 3: kill -9 of serve itself mid-transfer; the next run takes over its lock and its orphaned rsync', async () => {
  await crashAndRecover(async () => {
    const run = await startServeRun({
      client: CLIENT,
      configFile,
      sources: [source],
      bwlimitKiB: 4000,
    });
    await run.waitForResponse((r) => r.type === 'progress' && r.bytes > 1024 * 1024);
    run.child.kill('SIGKILL');
    const end = await run.finished;
    assert.equal(end.signal, 'SIGKILL');
    assert.ok(existsSync(join(storage, CLIENT, '.lock')), 'the dead run left its lock behind');
  });
});

test('crash 4: kill -9 of serve during promotion (json written, directory not yet renamed) promotes nothing', async () => {
  await crashAndRecover(async () => {
    const run = await startServeRun({
      client: CLIENT,
      configFile,
      sources: [source],
      env: { PULLBACK_TEST_PAUSE_AT: 'promote:after-json' },
    });
    await run.waitForStderr(/PULLBACK_TEST_PAUSED promote:after-json/);
    const orphanJson = readdirSync(join(storage, CLIENT, 'snapshots')).filter(
      (n) => n.endsWith('.json') && !snapshotIds().includes(n.slice(0, -5)),
    );
    assert.equal(orphanJson.length, 1, 'paused between the json and the rename');
    run.child.kill('SIGKILL');
    await run.finished;
  });
});

test('crash 5: kill -9 of `server prune` while it deletes a snapshot leaves the others intact; the next run finishes the job', async () => {
  // Three old snapshots on one day, ten days ago: daily retention keeps only the oldest of them.
  const latest = snapshotIds().sort().pop()!;
  const day = new Date(Date.now() - 10 * 86_400_000);
  const old: string[] = [];
  for (const hour of [1, 2, 3]) {
    const time = new Date(
      Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour),
    );
    const id = formatSnapshotTime(time);
    const dir = join(storage, CLIENT, 'snapshots', id);
    assert.equal(
      spawnSync('cp', ['-al', join(storage, CLIENT, 'snapshots', latest), dir]).status,
      0,
    );
    const meta = JSON.parse(
      spawnSync('cat', [join(storage, CLIENT, 'snapshots', `${latest}.json`)], { encoding: 'utf8' })
        .stdout,
    ) as Record<string, unknown>;
    const at = time.toISOString();
    writeFileSync(`${dir}.json`, JSON.stringify({ ...meta, id, startedAt: at, finishedAt: at }));
    old.push(id);
  }
  writeConfig('24h:all,30d:daily,52w:weekly,*:monthly');
  const before = await fingerprintSnapshots(storage, CLIENT);
  const prune = spawn(
    process.execPath,
    [PULLBACK_CLI_SCRIPT, 'server', 'prune', CLIENT, '--config', configFile],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise((r) => prune.once('exit', r));
  const snapshotsDir = join(storage, CLIENT, 'snapshots');
  let deleting: string | undefined;
  const deadline = Date.now() + 30_000;
  while (!deleting && Date.now() < deadline && prune.exitCode === null) {
    deleting = readdirSync(snapshotsDir).find((n) => n.startsWith('.deleting-'));
  }
  assert.ok(deleting, 'caught prune while it was deleting');
  prune.kill('SIGKILL');
  await exited;
  const after = await fingerprintSnapshots(storage, CLIENT);
  for (const [id, print] of after) assert.equal(print, before.get(id), `${id} is unchanged`);
  assert.ok(
    after.has(old[0]!),
    `the snapshot retention keeps is there: ${JSON.stringify([...before.keys()])} ${JSON.stringify(readdirSync(snapshotsDir))}`,
  );
  assert.ok(after.has(latest), 'the newest is there');
  // The next run removes the half-deleted leftover and applies retention itself.
  await crashAndRecover(async () => {}, true);
  const names = readdirSync(snapshotsDir);
  assert.deepEqual(
    names.filter((n) => n.startsWith('.deleting-')),
    [],
    'the half-deleted snapshot is gone',
  );
  assert.deepEqual(
    old.filter((id) => names.includes(id)),
    [old[0]],
    'retention ran after the successful run: one of that day is left',
  );
  const again = spawnSync(
    process.execPath,
    [PULLBACK_CLI_SCRIPT, 'server', 'prune', CLIENT, '--config', configFile],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /removed 0,/, 'pruning again changes nothing');
});
