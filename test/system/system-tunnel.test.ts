import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { makeTestClient } from '../support/backup-host.js';
import { assertTreesIdentical, restoreSnapshot } from '../support/tree-compare.js';
import { runBackup } from '../../core/handoff/backup-client.js';
import { launcherFor } from '../../core/handoff/launchers.js';
import { changeIndexFile } from '../../core/change-index/index-file.js';
import type { OneShotLauncher } from '../../core/handoff/oneshot-launcher.js';
import { PullbackError } from '../../core/errors.js';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { encodeHelperInput } from '../../core/system/helper-stdin.js';
import { lookupAccount } from '../../core/system/accounts.js';
import { RSYNC_COPY, READER_USER } from '../../core/system/paths.js';
import { descendantsOf } from '../../core/system/proc.js';
import {
  helperProcesses,
  systemModeWithBackupHost,
  IS_ROOT,
  NEEDS_ROOT,
  oneShotDirs,
  pullback,
  runHelper,
  TEST_BACKUP_HOST,
} from './system-mode-fixture.js';

/*
 * Tunnel mode in system mode (issue 13): the pull's SSH connection comes in over the client's
 * handoff connection, through the helper's stdin and stdout, to the listener's sshd -i. The
 * reader account listens on nothing. Run under the system-test lock.
 */
const fixture = systemModeWithBackupHost();

function rootOnlySource(bigFileBytes: number): string {
  const source = mkdtempSync(join(tmpdir(), 'pullback-system-tunnel-src-'));
  chmodSync(source, 0o700);
  writeFileSync(join(source, 'root-secret'), 'root only, through the tunnel\n', { mode: 0o600 });
  writeFileSync(join(source, 'big.bin'), Buffer.alloc(bigFileBytes, 5), { mode: 0o600 });
  return source;
}

/** The pids of every listening TCP socket on this machine (`ss -ltnp`). */
function tcpListenerPids(): number[] {
  const out = spawnSync('ss', ['-H', '-ltnp'], { encoding: 'utf8' }).stdout;
  return [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}

function uidOf(pid: number): number | undefined {
  try {
    const line = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line ? Number(line[1]) : undefined;
  } catch {
    return undefined;
  }
}

const K = generateKeyPair('pullback-test-k').publicKey.split(' ').slice(0, 2).join(' ');
const H = generateKeyPair('pullback-test-h').privateKey;
const helperArgs = (source: string, extra: string[]) => [
  'oneshot',
  '--bind',
  '127.0.0.2',
  '--allow-from',
  TEST_BACKUP_HOST,
  '--client-key',
  K,
  '--deadline',
  '60',
  '--source',
  source,
  ...extra,
];

test('S4 (tunnel): the helper refuses --tunnel for a backup host root approved only for direct pulls, and --tunnel with --port', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = rootOnlySource(1);
  const before = oneShotDirs();
  for (const [extra, reason] of [
    [['--tunnel'], /not approved for tunnel mode/],
    [['--tunnel', '--port', '2222'], /--port and --tunnel/],
    [['--tunnel', '--tunnel'], /--tunnel given twice/],
  ] as const) {
    const r = runHelper(helperArgs(source, [...extra]), encodeHelperInput(H, []));
    assert.notEqual(r.status, 0, extra.join(' '));
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^BAD_ARGS: helper: /);
    assert.match(lines[0]!, reason);
  }
  assert.deepEqual(oneShotDirs(), before, 'nothing was started');
  const client = await makeTestClient(fixture.host, {
    sources: [source],
    extra: { mode: 'system' },
  });
  await assert.rejects(
    runBackup({
      config: client.config,
      host: client.config.hosts[0]!,
      identityKey: client.identityKey,
      launcher: launcherFor('system'),
      reach: 'tunnel',
    }),
    (err: unknown) =>
      err instanceof PullbackError &&
      err.code === 'HELPER_FAILED' &&
      /not approved for tunnel mode/.test(err.message),
  );
  const allowed = pullback(['system', 'allow', TEST_BACKUP_HOST, '--tunnel', '--source', tmpdir()]);
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.match(allowed.stdout, /through a tunnel/);
});

test('system mode, tunnel: a backup with --reach tunnel reads a root-only file, and no TCP socket of the reader listens meanwhile', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const reader = lookupAccount(READER_USER)!;
  const source = rootOnlySource(12 * 1024 * 1024);
  const client = await makeTestClient(fixture.host, {
    sources: [source],
    extra: { mode: 'system' },
  });
  const readerListeners = new Set<string>();
  let sampledSender = false;
  const timer = setInterval(() => {
    for (const pid of tcpListenerPids())
      if (uidOf(pid) === reader.uid) readerListeners.add(String(pid));
    for (const helper of helperProcesses())
      if (
        descendantsOf(helper.pid).some((p) =>
          p.cmdline.startsWith(`${RSYNC_COPY} --server --sender`),
        )
      )
        sampledSender = true;
  }, 50);
  let result;
  try {
    // 12 MiB at 4 MiB/s: a few seconds of pull to look at
    result = await runBackup({
      config: client.config,
      host: { ...client.config.hosts[0]!, bwlimitKiB: 4096 },
      identityKey: client.identityKey,
      launcher: launcherFor('system'),
      reach: 'tunnel',
    });
  } finally {
    clearInterval(timer);
  }
  assert.ok(sampledSender, 'the sampling saw the rsync sender run');
  assert.deepEqual([...readerListeners], [], 'no process of pullback-reader listened on TCP');
  const snap = join(fixture.host.storage, client.name, 'snapshots', result.snapshot, source);
  assert.equal(readFileSync(join(snap, 'root-secret'), 'utf8'), 'root only, through the tunnel\n');
  const restored = mkdtempSync(join(tmpdir(), 'pullback-system-tunnel-restore-'));
  restoreSnapshot(snap, restored);
  assertTreesIdentical(source, restored);
  assert.deepEqual(oneShotDirs(), [], 'S9: the one-shot directory is gone after the run');
  assert.deepEqual(helperProcesses(), [], 'the helper has ended');
});

test('S1 (tunnel, system mode): a second tunnel attach is refused and does not disturb the one pull', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = rootOnlySource(1024);
  const client = await makeTestClient(fixture.host, {
    sources: [source],
    extra: { mode: 'system' },
  });
  let second: unknown;
  let extraDestroyed = false;
  const system = launcherFor('system');
  const launcher: OneShotLauncher = async (request) => {
    const shot = await system(request);
    return {
      ...shot,
      attachTunnel: (stream, rest) => {
        shot.attachTunnel!(stream, rest);
        const extra = new PassThrough();
        try {
          shot.attachTunnel!(extra);
        } catch (err) {
          second = err;
        }
        extraDestroyed = extra.destroyed;
      },
    };
  };
  const result = await runBackup({
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher,
    reach: 'tunnel',
  });
  assert.ok(second instanceof PullbackError && second.code === 'REFUSED', String(second));
  assert.ok(extraDestroyed, 'the refused stream was closed');
  const snap = join(fixture.host.storage, client.name, 'snapshots', result.snapshot, source);
  assert.equal(readFileSync(join(snap, 'root-secret'), 'utf8'), 'root only, through the tunnel\n');
});

test('system mode, tunnel: the change lists and the tunnel share the helper stdin: a same-size rewrite arrives through an incremental', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = rootOnlySource(4096);
  const client = await makeTestClient(fixture.host, {
    sources: [source],
    extra: { mode: 'system' },
  });
  const opts = {
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher: launcherFor('system'),
    reach: 'tunnel' as const,
    indexFile: changeIndexFile('home', client.env),
  };
  const first = await runBackup(opts);
  const secret = join(source, 'root-secret');
  const reference = join(mkdtempSync(join(tmpdir(), 'pullback-ref-')), 'ref');
  assert.equal(spawnSync('touch', ['-r', secret, reference]).status, 0);
  writeFileSync(secret, 'ROOT ONLY, THROUGH THE TUNNEL\n');
  assert.equal(spawnSync('touch', ['-r', reference, secret]).status, 0);
  const second = await runBackup(opts);
  assert.equal(second.pass, 'incremental', second.fullBecause ?? '');
  const snapshots = join(fixture.host.storage, client.name, 'snapshots');
  assert.equal(
    readFileSync(join(snapshots, second.snapshot, source, 'root-secret'), 'utf8'),
    'ROOT ONLY, THROUGH THE TUNNEL\n',
  );
  assert.equal(
    readFileSync(join(snapshots, first.snapshot, source, 'root-secret'), 'utf8'),
    'root only, through the tunnel\n',
  );
});
