import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { assertTreesIdentical, restoreSnapshot } from '../support/tree-compare.js';
import {
  runBackup,
  type BackupRunOptions,
  type BackupRunResult,
} from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { changeIndexFile } from '../../core/change-index/index-file.js';
import { asPullbackError } from '../../core/errors.js';

/*
 * Issue 10 §4: an incremental falls back to a full pass by itself whenever the change index
 * cannot be trusted. Each case asserts the pass the snapshot's metadata records and that the
 * newest snapshot restores identical to the source (a wrong incremental would miss a change).
 */

let host: BackupHost;
before(async () => {
  host = await startBackupHost();
});
after(async () => {
  await host?.stop();
});

async function client(options: { sources?: number; excludes?: string[] } = {}) {
  const sources = Array.from({ length: options.sources ?? 1 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'pullback-fallback-src-'));
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    writeFileSync(join(dir, 'skip.tmp'), 'excluded at first\n');
    return dir;
  });
  const c = await makeTestClient(host, { sources, excludes: options.excludes ?? [] });
  const opts: BackupRunOptions = {
    config: c.config,
    host: c.config.hosts[0]!,
    identityKey: c.identityKey,
    launcher: launchUserOneShot,
    indexFile: changeIndexFile('home', c.env),
  };
  const repo = join(host.storage, c.name);
  const snap = (id: string) => join(repo, 'snapshots', id);
  const metaPass = (id: string) =>
    (JSON.parse(readFileSync(`${snap(id)}.json`, 'utf8')) as { pass?: string }).pass;
  /** the newest snapshot holds each source exactly (what the run copied, nothing stale) */
  const assertNewestIs = (run: BackupRunResult, trees: readonly string[]) => {
    for (const source of trees) {
      const restored = mkdtempSync(join(tmpdir(), 'pullback-fallback-restore-'));
      restoreSnapshot(join(snap(run.snapshot), source), restored);
      assertTreesIdentical(source, restored);
    }
  };
  return { sources, c, opts, repo, metaPass, assertNewestIs };
}

/** One run, retried while the host still holds the lock of a run that was just cancelled. */
async function runWhenFree(opts: BackupRunOptions): Promise<BackupRunResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await runBackup(opts);
    } catch (err) {
      if (asPullbackError(err).code !== 'BUSY' || attempt > 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test('sources changed: a full pass, and the new source is in the snapshot', async () => {
  const { sources, opts, metaPass, assertNewestIs } = await client({ sources: 2 });
  const one = { ...opts, config: { ...opts.config, sources: [sources[0]!] } };
  const first = await runBackup(one);
  assert.equal(first.pass, 'full');
  writeFileSync(join(sources[0]!, 'b.txt'), 'b\n');
  const incremental = await runBackup(one);
  assert.equal(incremental.pass, 'incremental', 'the same sources: an incremental');
  const both = await runBackup(opts);
  assert.equal(both.pass, 'full');
  assert.equal(both.fullBecause, 'the sources or excludes changed');
  assert.equal(metaPass(both.snapshot), 'full');
  assertNewestIs(both, sources);
});

test('excludes changed: a full pass, and a file no longer excluded is in the snapshot', async () => {
  const { sources, opts, metaPass, assertNewestIs } = await client({ excludes: ['*.tmp'] });
  const first = await runBackup(opts);
  assert.equal(first.pass, 'full');
  const noExcludes = { ...opts, config: { ...opts.config, excludes: [] } };
  const second = await runBackup(noExcludes);
  assert.equal(second.pass, 'full');
  assert.equal(second.fullBecause, 'the sources or excludes changed');
  assert.equal(metaPass(second.snapshot), 'full');
  assertNewestIs(second, sources);
});

test('a damaged index: a full pass that catches the change', async () => {
  const { sources, opts, metaPass, assertNewestIs } = await client();
  await runBackup(opts);
  const damaged = readFileSync(opts.indexFile!);
  damaged[damaged.length - 5] = damaged[damaged.length - 5]! ^ 0x01;
  writeFileSync(opts.indexFile!, damaged);
  // another size: a full pass is rsync's quick check (size, and the mtime in whole seconds)
  writeFileSync(join(sources[0]!, 'a.txt'), 'AAA\n');
  const run = await runBackup(opts);
  assert.equal(run.pass, 'full');
  assert.match(run.fullBecause ?? '', /damaged/);
  assert.equal(metaPass(run.snapshot), 'full');
  assertNewestIs(run, sources);
  // the full pass wrote a sound index again: the next run is an incremental
  writeFileSync(join(sources[0]!, 'a.txt'), 'BBB\n');
  const next = await runBackup(opts);
  assert.equal(next.pass, 'incremental');
  assertNewestIs(next, sources);
});

test("the index's snapshot is not the newest: the backup host makes a full pass", async () => {
  const { sources, opts, metaPass, assertNewestIs } = await client();
  const first = await runBackup(opts);
  const indexOfFirst = `${opts.indexFile!}.saved`;
  copyFileSync(opts.indexFile!, indexOfFirst);
  writeFileSync(join(sources[0]!, 'b.txt'), 'b\n');
  const second = await runBackup(opts);
  assert.equal(second.pass, 'incremental');
  // as if a run from elsewhere had come between: the index describes `first`, not the newest
  copyFileSync(indexOfFirst, opts.indexFile!);
  writeFileSync(join(sources[0]!, 'c.txt'), 'c\n');
  const third = await runBackup(opts);
  assert.notEqual(third.snapshot, second.snapshot);
  assert.equal(third.fullBecause, undefined, 'the client offered an incremental');
  assert.equal(third.pass, 'full', 'the host refused it: its newest is not the basis');
  assert.equal(metaPass(third.snapshot), 'full');
  assertNewestIs(third, sources);
  assert.ok(first.snapshot);
});

test('the previous run was interrupted: the resume is a full pass', async () => {
  const { sources, opts, repo, metaPass, assertNewestIs } = await client();
  await runBackup(opts);
  writeFileSync(join(sources[0]!, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 7));
  const cancel = new AbortController();
  const slow = { ...opts.host, bwlimitKiB: 512 }; // ~16 s for the big file: cut in the middle
  await assert.rejects(
    runBackup({
      ...opts,
      host: slow,
      signal: cancel.signal,
      onProgress: (p) => {
        if (p.bytes > 0) cancel.abort();
      },
    }),
  );
  assert.ok(existsSync(join(repo, '.incomplete')), 'the cut run left its .incomplete');
  // the index still names the newest snapshot, so the client offers an incremental
  writeFileSync(join(sources[0]!, 'a.txt'), 'changed after the cut\n');
  const resumed = await runWhenFree(opts);
  assert.equal(resumed.fullBecause, undefined, 'the client offered an incremental');
  assert.equal(resumed.pass, 'full', 'the host resumed the interrupted run instead');
  assert.equal(metaPass(resumed.snapshot), 'full');
  assert.ok(!existsSync(join(repo, '.incomplete')), 'the resumed run was promoted');
  assertNewestIs(resumed, sources);
});
