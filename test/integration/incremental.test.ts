import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { assertTreesIdentical, restoreSnapshot } from '../support/tree-compare.js';
import { runBackup, type BackupRunOptions } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { changeIndexFile, readChangeIndex } from '../../core/change-index/index-file.js';

let host: BackupHost;
before(async () => {
  host = await startBackupHost();
});
after(async () => {
  await host?.stop();
});

async function client(files: Record<string, string>) {
  const source = mkdtempSync(join(tmpdir(), 'pullback-inc-src-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(source, name), content);
  const c = await makeTestClient(host, { sources: [source] });
  const opts: BackupRunOptions = {
    config: c.config,
    host: c.config.hosts[0]!,
    identityKey: c.identityKey,
    launcher: launchUserOneShot,
    indexFile: changeIndexFile('home', c.env),
  };
  const snap = (id: string) => join(host.storage, c.name, 'snapshots', id);
  const assertNewestIsSource = (id: string) => {
    const restored = mkdtempSync(join(tmpdir(), 'pullback-inc-restore-'));
    restoreSnapshot(join(snap(id), source), restored);
    assertTreesIdentical(source, restored);
  };
  return { source, c, opts, snap, assertNewestIsSource };
}

test('a same-size rewrite with its mtime set back reaches the next snapshot (incremental, hardlink)', async () => {
  const { source, opts, snap, assertNewestIsSource } = await client({
    'doc.txt': 'AAAA\n',
    'other.txt': 'unchanged\n',
  });
  const first = await runBackup(opts);
  assert.equal(first.pass, 'full', 'no index yet: a full pass');
  const index = readChangeIndex(opts.indexFile!);
  assert.ok(typeof index !== 'string', `index written after done: ${String(index)}`);
  assert.equal(index.header.snapshot, first.snapshot);
  assert.equal(statSync(opts.indexFile!).mode & 0o777, 0o600);

  const doc = join(source, 'doc.txt');
  const before = statSync(doc);
  writeFileSync(doc, 'BBBB\n');
  utimesSync(doc, before.atime, before.mtime);
  const second = await runBackup(opts);
  assert.equal(second.pass, 'incremental');
  assert.notEqual(second.snapshot, first.snapshot);
  assert.equal(readFileSync(join(snap(second.snapshot), source, 'doc.txt'), 'utf8'), 'BBBB\n');
  assert.equal(
    readFileSync(join(snap(first.snapshot), source, 'doc.txt'), 'utf8'),
    'AAAA\n',
    'the older snapshot keeps its content',
  );
  assert.equal(
    statSync(join(snap(first.snapshot), source, 'other.txt')).ino,
    statSync(join(snap(second.snapshot), source, 'other.txt')).ino,
    'an unchanged file is shared with the older snapshot',
  );
  assertNewestIsSource(second.snapshot);
  const meta = JSON.parse(readFileSync(`${snap(second.snapshot)}.json`, 'utf8')) as {
    pass?: string;
  };
  assert.equal(meta.pass, 'incremental');
});

test('nothing changed: a success that points at the unchanged snapshot, no new tree', async () => {
  const { c, opts } = await client({ 'a.txt': 'a\n' });
  const first = await runBackup(opts);
  const again = await runBackup(opts);
  assert.equal(again.unchanged, true);
  assert.equal(again.snapshot, first.snapshot);
  const names = readdirSync(join(host.storage, c.name, 'snapshots'));
  assert.deepEqual(names.sort(), [first.snapshot, `${first.snapshot}.json`].sort());
  const lastRun = JSON.parse(
    readFileSync(join(host.storage, c.name, '.last-run.json'), 'utf8'),
  ) as { result: string; snapshot: string };
  assert.equal(lastRun.result, 'success');
  assert.equal(lastRun.snapshot, first.snapshot);
});

test('falls back to a full pass: --full, a damaged index, an index of an older snapshot', async () => {
  const { source, opts, assertNewestIsSource } = await client({ 'a.txt': 'a\n' });
  const first = await runBackup(opts);
  writeFileSync(join(source, 'b.txt'), 'b\n');
  const forced = await runBackup({ ...opts, full: true });
  assert.equal(forced.pass, 'full');
  assert.equal(forced.fullBecause, 'a full pass was asked for (--full)');
  // the index now describes `forced`; put back one that describes `first` (no longer newest)
  writeFileSync(join(source, 'c.txt'), 'c\n');
  const third = await runBackup(opts);
  assert.equal(third.pass, 'incremental');
  assertNewestIsSource(third.snapshot);
  const damaged = readFileSync(opts.indexFile!);
  damaged[damaged.length - 3] = damaged[damaged.length - 3]! ^ 0xff;
  writeFileSync(opts.indexFile!, damaged);
  writeFileSync(join(source, 'd.txt'), 'd\n');
  const afterDamage = await runBackup(opts);
  assert.equal(afterDamage.pass, 'full');
  assert.match(afterDamage.fullBecause ?? '', /damaged/);
  assertNewestIsSource(afterDamage.snapshot);
  assert.ok(existsSync(opts.indexFile!));
  assert.ok(first.snapshot);
});

test('a full pass sees a same-size rewrite whose mtime differs from the stored copy only below the second', async () => {
  const { source, opts, snap, assertNewestIsSource } = await client({ 'doc.txt': 'AAAA\n' });
  const doc = join(source, 'doc.txt');
  // the stored copy's mtime: …:00.100000000; the rewrite's: the same second, .900000000
  const second = 1_767_225_600; // 2026-01-01T00:00:00Z
  utimesSync(doc, second, second + 0.1);
  const first = await runBackup({ ...opts, full: true });
  writeFileSync(doc, 'BBBB\n');
  utimesSync(doc, second, second + 0.9);
  const again = await runBackup({ ...opts, full: true });
  assert.equal(again.pass, 'full');
  assert.equal(
    readFileSync(join(snap(again.snapshot), source, 'doc.txt'), 'utf8'),
    'BBBB\n',
    'rsync compared whole seconds: the old content was linked in',
  );
  assert.equal(readFileSync(join(snap(first.snapshot), source, 'doc.txt'), 'utf8'), 'AAAA\n');
  assertNewestIsSource(again.snapshot);
});
