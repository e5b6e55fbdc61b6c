import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdtempSync,
  writeFileSync,
  existsSync,
  readFileSync,
  readdirSync,
  utimesSync,
} from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { makeHostileTree } from '../support/sample-tree.js';
import { assertTreesIdentical } from '../support/tree-compare.js';
import { runBackup } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { pullbackCommand } from '../../core/self-command.js';
import { writeClientConfig } from '../../core/config/client-store.js';
import { restorePaths } from '../../core/restore/client.js';
import { PullbackError } from '../../core/errors.js';

let host: BackupHost;
before(async () => {
  host = await startBackupHost();
});
after(async () => {
  await host?.stop();
});

/** The real CLI, as the client's user runs it. */
function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  const [program, ...rest] = pullbackCommand(...args);
  const r = spawnSync(program!, rest, { env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function backedUp(make: (source: string) => void) {
  const source = mkdtempSync(join(tmpdir(), 'pullback-src-'));
  make(source);
  const client = await makeTestClient(host, { sources: [source] });
  const opts = {
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher: launchUserOneShot,
  };
  const first = await runBackup(opts);
  return { source, client, opts, first };
}

test('pullback restore --to gives a tree rsync finds identical to the source (hardlinks, symlinks, sparse, xattrs, ACL, fifo, 0600, odd names)', async () => {
  const { source, client } = await backedUp(makeHostileTree);
  const to = mkdtempSync(join(tmpdir(), 'pullback-restored-'));
  const r = cli(client.env, 'restore', source, '--to', to);
  assert.equal(r.status, 0, r.stderr);
  const restored = join(to, source.slice(source.lastIndexOf('/') + 1));
  assert.match(r.stdout, new RegExp(`restored ${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assertTreesIdentical(source, restored);
});

test('pullback restore without --to puts the item next to the original under a dated name', async () => {
  const { source, client } = await backedUp((s) => writeFileSync(join(s, 'report.odt'), 'v1\n'));
  writeFileSync(join(source, 'report.odt'), 'changed since\n');
  const r = cli(client.env, 'restore', join(source, 'report.odt'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const done = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; items?: { restoredTo: string }[] })
    .find((m) => m.type === 'done');
  const to = done!.items![0]!.restoredTo;
  assert.match(to, /\/report\.odt \(restored \d{4}-\d{2}-\d{2} \d{2}:\d{2}\)$/);
  assert.equal(readFileSync(to, 'utf8'), 'v1\n');
  assert.equal(readFileSync(join(source, 'report.odt'), 'utf8'), 'changed since\n');
});

test('pullback restore --in-place moves the original aside first and says where', async () => {
  const { source, client } = await backedUp((s) => writeFileSync(join(s, 'notes.txt'), 'good\n'));
  writeFileSync(join(source, 'notes.txt'), 'broken\n');
  const r = cli(client.env, 'restore', join(source, 'notes.txt'), '--in-place');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(source, 'notes.txt'), 'utf8'), 'good\n');
  const aside = /moved the original aside to (.*)$/m.exec(r.stdout)?.[1];
  assert.ok(aside && existsSync(aside), `where the original went is said: ${r.stdout}`);
  assert.equal(readFileSync(aside, 'utf8'), 'broken\n');
});

test('pullback versions lists both versions of a changed file; ls shows what the source had', async () => {
  const { source, client, opts } = await backedUp((s) =>
    writeFileSync(join(s, 'draft.txt'), 'one\n', { mode: 0o640 }),
  );
  writeFileSync(join(source, 'draft.txt'), 'version two\n');
  utimesSync(join(source, 'draft.txt'), new Date(), new Date(Date.now() + 5000));
  await runBackup(opts);
  const r = cli(client.env, 'versions', join(source, 'draft.txt'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const versions = JSON.parse(r.stdout) as { size: number; snapshots: string[] }[];
  assert.equal(versions.length, 2, r.stdout);
  assert.deepEqual(
    versions.map((v) => v.size),
    [4, 12],
  );
  const ls = cli(client.env, 'ls', source, '--json');
  assert.equal(ls.status, 0, ls.stderr);
  const entry = (
    JSON.parse(ls.stdout) as { entries: { name: string; mode: number }[] }
  ).entries.find((e) => e.name === 'draft.txt');
  assert.equal(entry?.mode, 0o640);
});

test('a never-backed-up path and a ".." path are refused with one line', async () => {
  const { source, client } = await backedUp((s) => writeFileSync(join(s, 'a.txt'), 'a\n'));
  const missing = cli(client.env, 'restore', join(source, 'never-there.txt'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr.trim(), /^NOT_FOUND: .*never-there\.txt/);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  const dotdot = cli(client.env, 'restore', `${source}/../etc/passwd`);
  assert.equal(dotdot.status, 2);
  assert.match(dotdot.stderr.trim(), /^BAD_ARGS: .*"\.\."/);
  assert.equal(dotdot.stderr.trim().split('\n').length, 1, dotdot.stderr);
});

test('pullback snapshots lists every host, each line labelled by its host', async () => {
  const { client, first } = await backedUp((s) => writeFileSync(join(s, 'a.txt'), 'a\n'));
  // a second paired host (the same machine under another name): both are asked
  const home = client.config.hosts[0]!;
  writeClientConfig({ ...client.config, hosts: [home, { ...home, name: 'office' }] }, client.env);
  const r = cli(client.env, 'snapshots');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^home    ${first.snapshot} `, 'm'));
  assert.match(r.stdout, new RegExp(`^office  ${first.snapshot} `, 'm'));
  const json = JSON.parse(cli(client.env, 'snapshots', '--json').stdout) as { host: string }[];
  assert.deepEqual(
    json.map((s) => s.host),
    ['home', 'office'],
  );
  const one = JSON.parse(cli(client.env, 'snapshots', '--host', 'office', '--json').stdout) as {
    host: string;
  }[];
  assert.deepEqual(
    one.map((s) => s.host),
    ['office'],
  );
});

/** How a restore the tray or the CLI starts and then cancels ends. */
async function outcome(promise: Promise<unknown>): Promise<'done' | string> {
  try {
    await promise;
    return 'done';
  } catch (err) {
    return err instanceof PullbackError ? err.code : `not a PullbackError: ${String(err)}`;
  }
}

test('a restore cancelled while still connecting (the SSH handshake under way) ends at once as CANCELLED', async () => {
  // a backup host that takes the TCP connection and never says a word: the handshake hangs
  const held: Socket[] = [];
  const silent = createServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, host.address, r));
  try {
    const { client, source } = await backedUp((s) => writeFileSync(join(s, 'a.txt'), 'a\n'));
    const port = (silent.address() as { port: number }).port;
    const controller = new AbortController();
    const to = join(mkdtempSync(join(tmpdir(), 'pullback-cancel-')), 'into');
    const started = Date.now();
    const restoring = restorePaths({ ...client.config.hosts[0]!, port }, client.identityKey, {
      select: { snapshot: 'latest' },
      paths: [source],
      to,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 300);
    assert.equal(await outcome(restoring), 'CANCELLED');
    assert.ok(Date.now() - started < 5_000, 'not after the 15 s connect timeout');
    assert.equal(existsSync(to), false);
  } finally {
    for (const s of held) s.destroy();
    silent.close();
  }
});

test('a restore cancelled at any point (connecting, planning, transferring) ends as CANCELLED and leaves nothing at the destination', async () => {
  const { client, source } = await backedUp((s) => {
    for (let i = 0; i < 8; i++) writeFileSync(join(s, `big-${i}.bin`), randomBytes(8 << 20));
  });
  const base = mkdtempSync(join(tmpdir(), 'pullback-cancel-'));
  const name = source.slice(source.lastIndexOf('/') + 1);
  const cancelAt: (number | 'first progress')[] = [0, 5, 20, 60, 150, 400, 'first progress'];
  const seen: string[] = [];
  for (const [n, at] of cancelAt.entries()) {
    const controller = new AbortController();
    const parent = join(base, `try-${n}`);
    let abortedBeforeTheEnd = false;
    const restoring = restorePaths(client.config.hosts[0]!, client.identityKey, {
      select: { snapshot: 'latest' },
      paths: [source],
      to: join(parent, 'into'),
      signal: controller.signal,
      onProgress: () => {
        if (at === 'first progress') controller.abort();
      },
    }).finally(() => {
      abortedBeforeTheEnd = controller.signal.aborted;
    });
    if (at === 0) controller.abort();
    else if (typeof at === 'number') setTimeout(() => controller.abort(), at);
    const end = await outcome(restoring);
    seen.push(`${String(at)}: ${end}`);
    if (end === 'done') {
      assert.equal(abortedBeforeTheEnd, false, `cancelled at ${at}, yet it finished`);
      continue;
    }
    assert.equal(end, 'CANCELLED', `cancelled at ${at}`);
    // nothing half-written: no staging directory, no partial tree, not even the folder made for it
    assert.ok(
      !existsSync(parent) || readdirSync(parent).length === 0,
      `cancelled at ${at}: ${existsSync(parent) ? readdirSync(parent).join(', ') : ''}`,
    );
    assert.equal(existsSync(join(parent, 'into', name)), false);
  }
  assert.ok(
    seen.filter((s) => s.endsWith('CANCELLED')).length >= 2,
    `most cancels land before the end: ${seen.join('; ')}`,
  );
  assert.match(seen.at(-1)!, /: CANCELLED$/, 'a cancel during the transfer');
});
