import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestClient, type TestClient } from '../support/backup-host.js';
import { assertTreesIdentical, restoreSnapshot } from '../support/tree-compare.js';
import { runBackup } from '../../core/handoff/backup-client.js';
import { launcherFor } from '../../core/handoff/launchers.js';
import { changeIndexFile } from '../../core/change-index/index-file.js';
import {
  LISTENER_SCRIPT,
  READ_CAPABILITY_MASK,
  RSYNC_COPY,
  SETPRIV,
  HELPER_SCRIPT,
} from '../../core/system/paths.js';
import { descendantsOf, killTree, type ProcessInfo } from '../../core/system/proc.js';
import {
  helperProcesses,
  systemModeWithBackupHost,
  IS_ROOT,
  NEEDS_ROOT,
  oneShotDirs,
} from './system-mode-fixture.js';

const fixture = systemModeWithBackupHost();

/** A source tree only root can read: root 0700 top, a root 0600 file, nobody's 0700 dir, a mode-000 file. */
function rootOnlyTree(bigFileBytes = 0): string {
  const source = mkdtempSync(join(tmpdir(), 'pullback-system-src-'));
  chmodSync(source, 0o700);
  writeFileSync(join(source, 'root-secret'), 'root only\n', { mode: 0o600 });
  const nobodyDir = join(source, 'nobody-home');
  mkdirSync(nobodyDir, { mode: 0o700 });
  writeFileSync(join(nobodyDir, 'diary.txt'), 'dear diary\n', { mode: 0o600 });
  chownSync(join(nobodyDir, 'diary.txt'), 65534, 65534);
  chownSync(nobodyDir, 65534, 65534);
  writeFileSync(join(source, 'mode-000'), 'nobody may read this\n');
  chmodSync(join(source, 'mode-000'), 0o000);
  if (bigFileBytes > 0)
    writeFileSync(join(source, 'big.bin'), Buffer.alloc(bigFileBytes, 7), { mode: 0o600 });
  return source;
}

function backupOptions(client: TestClient, bwlimitKiB?: number) {
  return {
    config: client.config,
    host: { ...client.config.hosts[0]!, ...(bwlimitKiB ? { bwlimitKiB } : {}) },
    identityKey: client.identityKey,
    launcher: launcherFor('system'),
  };
}

/** Samples /proc below our helper every few ms while `during` runs. */
async function sampleHelperTree<T>(
  during: Promise<T>,
): Promise<{ result: PromiseSettledResult<T>; seen: Map<string, ProcessInfo> }> {
  const seen = new Map<string, ProcessInfo>();
  const timer = setInterval(() => {
    for (const helper of helperProcesses()) {
      for (const p of descendantsOf(helper.pid))
        seen.set(`${p.pid} ${p.uids.join(',')} ${p.capEff} ${p.cmdline}`, p);
    }
  }, 20);
  const [result] = await Promise.allSettled([during]);
  clearInterval(timer);
  return { result, seen };
}

test("S4: a system-mode backup of root-only files, another user's 0700 dir and a mode-000 file lands complete and identical", async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = rootOnlyTree();
  const client = await makeTestClient(fixture.host, {
    sources: [source],
    extra: { mode: 'system' },
  });
  const result = await runBackup(backupOptions(client));
  const snap = join(fixture.host.storage, client.name, 'snapshots', result.snapshot, source);
  const restored = mkdtempSync(join(tmpdir(), 'pullback-system-restore-'));
  restoreSnapshot(snap, restored);
  assertTreesIdentical(source, restored);
  assert.deepEqual(oneShotDirs(), [], 'S9: the one-shot directory is gone after the run');
});

test('system mode: a root-only file rewritten with the same size and its mtime set back reaches the next snapshot, through an incremental', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = rootOnlyTree();
  const client = await makeTestClient(fixture.host, {
    sources: [source],
    extra: { mode: 'system' },
  });
  const opts = { ...backupOptions(client), indexFile: changeIndexFile('home', client.env) };
  const first = await runBackup(opts);
  assert.equal(first.pass, 'full', 'no index yet: a full pass');
  const secret = join(source, 'root-secret');
  const old = statSync(secret, { bigint: true });
  const reference = join(mkdtempSync(join(tmpdir(), 'pullback-ref-')), 'ref');
  const touch = (args: string[]) =>
    assert.equal(
      spawnSync('touch', args, { stdio: 'ignore' }).status,
      0,
      `touch ${args.join(' ')}`,
    );
  touch(['-r', secret, reference]);
  writeFileSync(secret, 'ROOT ONLY\n'); // what cp -a or touch -r leave: same size, same mtime
  touch(['-r', reference, secret]);
  const now = statSync(secret, { bigint: true });
  assert.equal(now.size, old.size);
  assert.equal(now.mtimeNs, old.mtimeNs);
  assert.equal(now.mode & 0o777n, 0o600n);
  assert.equal(now.uid, 0n);

  const second = await runBackup(opts);
  assert.equal(
    second.pass,
    'incremental',
    `the helper carried the list: ${second.fullBecause ?? ''}`,
  );
  const snapshots = join(fixture.host.storage, client.name, 'snapshots');
  assert.equal(
    readFileSync(join(snapshots, second.snapshot, source, 'root-secret'), 'utf8'),
    'ROOT ONLY\n',
  );
  assert.equal(
    readFileSync(join(snapshots, first.snapshot, source, 'root-secret'), 'utf8'),
    'root only\n',
    'the older snapshot keeps its content',
  );
  const meta = JSON.parse(readFileSync(join(snapshots, `${second.snapshot}.json`), 'utf8')) as {
    pass?: string;
  };
  assert.equal(meta.pass, 'incremental');
  const restored = mkdtempSync(join(tmpdir(), 'pullback-system-restore-'));
  restoreSnapshot(join(snapshots, second.snapshot, source), restored);
  assertTreesIdentical(source, restored);
  assert.deepEqual(oneShotDirs(), [], 'S9: the one-shot directory and its lists are gone');
});

test('S4: during a run only the rsync sender holds a capability, exactly CAP_DAC_READ_SEARCH, and nothing below the helper runs as root', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = rootOnlyTree(24 * 1024 * 1024);
  const client = await makeTestClient(fixture.host, {
    sources: [source],
    extra: { mode: 'system' },
  });
  // 24 MiB at 6 MiB/s: about four seconds of transfer to sample /proc in
  const { result, seen } = await sampleHelperTree(runBackup(backupOptions(client, 6144)));
  assert.equal(
    result.status,
    'fulfilled',
    `the backup completes: ${result.status === 'rejected' ? String(result.reason) : ''}`,
  );
  const processes = [...seen.values()];
  const senders = processes.filter((p) => p.cmdline.startsWith(`${RSYNC_COPY} --server --sender `));
  assert.ok(
    senders.length > 0,
    `the rsync sender was sampled; saw: ${processes.map((p) => p.cmdline).join(' | ')}`,
  );
  for (const sender of senders) {
    assert.equal(
      sender.capEff,
      READ_CAPABILITY_MASK,
      `rsync sender CapEff is exactly dac_read_search: ${sender.capEff.toString(16)}`,
    );
    assert.equal(
      sender.capPrm,
      READ_CAPABILITY_MASK,
      'rsync sender CapPrm is exactly dac_read_search',
    );
    assert.equal(sender.capAmb, 0n, 'no ambient capabilities');
  }
  const named = (needle: string) => processes.filter((p) => p.cmdline.includes(needle));
  assert.ok(named(LISTENER_SCRIPT).length > 0, 'the listener was sampled');
  assert.ok(
    processes.some((p) => p.cmdline.startsWith('sshd')),
    'sshd was sampled',
  );
  assert.ok(named(' gate ').length > 0, 'the gate was sampled');
  for (const p of processes) {
    // setpriv is the helper's own step down: root only until it execs nice (as the reader);
    // a fork of the helper caught between fork and exec still shows the helper's own cmdline
    const helperFork = p.cmdline.split(' ').includes(HELPER_SCRIPT);
    // caught inside execve (new memory, args not yet set) or exiting: cmdline is empty, the
    // kernel's name still tells a helper fork becoming setpriv from anything else
    const midExec = (p.cmdline === '' && ['setpriv', 'node'].includes(p.comm)) || p.execing;
    if (p.cmdline.startsWith(SETPRIV) || helperFork || midExec || p.state === 'Z') continue;
    assert.ok(
      p.uids.every((uid) => uid !== 0),
      `runs as root below the helper: ${p.cmdline || `[${p.comm}]`} (pid ${p.pid}, ppid ${p.ppid}, state ${p.state}, uids ${p.uids.join(',')})`,
    );
    assert.equal(p.capAmb, 0n, `no ambient capabilities: ${p.cmdline}`);
    assert.equal(
      p.capBnd,
      READ_CAPABILITY_MASK,
      `bounding set is dac_read_search only: ${p.cmdline}`,
    );
    if (senders.includes(p)) continue;
    assert.equal(p.capPrm, 0n, `empty permitted set: ${p.cmdline}`);
    assert.equal(p.capEff, 0n, `empty effective set: ${p.cmdline}`);
    assert.equal(p.capInh, READ_CAPABILITY_MASK, `only dac_read_search inheritable: ${p.cmdline}`);
  }
});

test('S9: kill -9 of the helper tree mid-backup keeps the previous snapshots, leaves no secret after the next start, and the next backup completes', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = rootOnlyTree(32 * 1024 * 1024);
  const client = await makeTestClient(fixture.host, {
    sources: [source],
    extra: { mode: 'system' },
  });
  const first = await runBackup(backupOptions(client));
  // something to transfer again: new content and an mtime rsync cannot take for the old one's
  writeFileSync(join(source, 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 9));
  utimesSync(
    join(source, 'big.bin'),
    new Date('2020-01-01T00:00:00Z'),
    new Date('2020-01-01T00:00:00Z'),
  );
  const running = runBackup(backupOptions(client, 4096));
  running.catch(() => {});
  const deadline = Date.now() + 20_000;
  let killed = false;
  while (!killed && Date.now() < deadline) {
    for (const helper of helperProcesses()) {
      if (
        descendantsOf(helper.pid).some((p) =>
          p.cmdline.startsWith(`${RSYNC_COPY} --server --sender`),
        )
      ) {
        killTree(helper.pid);
        killed = true;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(killed, 'caught the helper tree mid-transfer');
  await assert.rejects(running, 'the interrupted backup fails');
  const snapshots = join(fixture.host.storage, client.name, 'snapshots');
  assert.ok(existsSync(join(snapshots, first.snapshot)), 'the previous snapshot is still there');
  assert.ok(
    oneShotDirs().length > 0,
    'the killed run left its one-shot directory (cleaned at the next start)',
  );

  const next = await runBackup(backupOptions(client));
  assert.notEqual(next.snapshot, first.snapshot);
  assert.ok(
    existsSync(join(snapshots, first.snapshot)),
    'the previous snapshot survives the next run',
  );
  assert.deepEqual(
    oneShotDirs(),
    [],
    'no one-shot directory (host key, authorized_keys, spec) survives the next start',
  );
  const restored = mkdtempSync(join(tmpdir(), 'pullback-system-restore-'));
  restoreSnapshot(join(snapshots, next.snapshot, source), restored);
  assertTreesIdentical(source, restored);
  assert.deepEqual(readdirSync(join(snapshots)).filter((n) => !n.endsWith('.json')).length, 2);
});
