import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  unlinkSync,
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
import { PullbackError } from '../../core/errors.js';
import { readLastRun } from '../../core/server/last-run.js';
import { fingerprintSnapshots } from './crash-harness.js';
import { makeLoopFilesystem, type LoopFilesystem } from '../support/loop-fs.js';

/**
 * A full disk on the backup host: the client hears NO_SPACE, nothing is promoted, every
 * snapshot is intact, and the space the failed run took is given back (its .incomplete is
 * removed: resuming it would only fill the disk again, and a full disk fails everyone's runs).
 */
const isRoot = process.getuid?.() === 0;
let fs: LoopFilesystem | undefined;
let host: BackupHost | undefined;
let client: TestClient;
let source: string;

before(async () => {
  if (!isRoot) return;
  source = mkdtempSync(join(tmpdir(), 'pullback-nospace-src-'));
  writeFileSync(join(source, 'small.bin'), randomBytes(1024 * 1024));
  fs = makeLoopFilesystem('ext4', 64);
  const storage = join(fs.mountPoint, 'storage');
  mkdirSync(storage);
  host = await startBackupHost({ storage, backend: 'hardlink' });
  client = await makeTestClient(host, { sources: [source], name: 'full-disk' });
});
after(async () => {
  await host?.stop();
  fs?.cleanup();
  if (source) rmSync(source, { recursive: true, force: true });
});

const backup = () =>
  runBackup({
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher: launchUserOneShot,
  });

function freeBytes(path: string): number {
  const r = spawnSync('df', ['-B1', '--output=avail', path], { encoding: 'utf8' });
  return Number(r.stdout.trim().split('\n').pop());
}

test('a full disk ends the run with NO_SPACE at the client; nothing is lost, the space is given back', async (t) => {
  if (!isRoot)
    return t.skip('needs root: a small loop-device filesystem (run the system tests as root)');
  await backup();
  const before = await fingerprintSnapshots(host!.storage, client.name);
  const free = freeBytes(host!.storage);
  writeFileSync(join(source, 'too-big.bin'), randomBytes(100 * 1024 * 1024));
  await assert.rejects(backup(), (err: unknown) => {
    assert.ok(err instanceof PullbackError, String(err));
    assert.equal(err.code, 'NO_SPACE', err.message);
    assert.match(err.message, /No space left on device/);
    return true;
  });
  assert.deepEqual(
    await fingerprintSnapshots(host!.storage, client.name),
    before,
    'every snapshot intact, none added',
  );
  const dir = join(host!.storage, client.name);
  assert.ok(!existsSync(join(dir, '.incomplete')), 'the failed run’s .incomplete is removed');
  assert.deepEqual(
    readdirSync(join(dir, 'snapshots')).filter((n) => n.startsWith('.')),
    [],
    'no leftovers',
  );
  assert.ok(freeBytes(host!.storage) >= free - 1024 * 1024, 'the space the run took is free again');
  const last = await readLastRun(dir);
  assert.equal(last?.result, 'failed');
  assert.equal(last?.code, 'NO_SPACE');

  unlinkSync(join(source, 'too-big.bin'));
  const next = await backup();
  assert.ok(
    readdirSync(join(dir, 'snapshots')).includes(next.snapshot),
    'with room again, the next run completes',
  );
});
