import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
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
import { connectToBackupHost } from '../../core/handoff/connect.js';
import { exchange } from '../../core/handoff/exchange.js';
import { PROTOCOL_VERSION, type HandoffRequest } from '../../core/handoff/messages.js';
import { PullbackError } from '../../core/errors.js';
import { knownHostsLine } from '../../core/ssh/hostkey-pin.js';
import { listEntries, restorePaths } from '../../core/restore/client.js';

/*
 * S7 for restore, attacked as a hostile client would: its own (valid) key, stock ssh and
 * rsync, and hand-made requests. Nothing it does may write, delete or rename anything on the
 * backup host, or read anything but its own snapshots.
 */

let host: BackupHost;
let alice: TestClient;
let bob: TestClient;
let aliceSource: string;
let aliceSnapshot: string;
let bobSnapshot: string;
let secretList: string;
let keys: string;

const b64 = (path: string) => Buffer.from(path).toString('base64url');

before(async () => {
  host = await startBackupHost();
  aliceSource = mkdtempSync(join(tmpdir(), 'pullback-alice-'));
  writeFileSync(join(aliceSource, 'file.txt'), 'alice\n');
  writeFileSync(join(aliceSource, 'guess-me'), 'a name the secret list holds\n');
  // A client controls what its snapshots hold: a per-directory filter file that merges a file
  // outside them, for the attack below.
  secretList = join(host.dir, 'secret-list');
  writeFileSync(join(aliceSource, '.rules'), `merge,- ${secretList}\n`);
  // Links that point out of the snapshot: to the storage root and to bob's directory.
  symlinkSync('/', join(aliceSource, 'to-root'));
  symlinkSync(host.storage, join(aliceSource, 'to-storage'));
  symlinkSync('../../../../..', join(aliceSource, 'up-and-out'));
  const bobSource = mkdtempSync(join(tmpdir(), 'pullback-bob-'));
  writeFileSync(join(bobSource, 'bob-only.txt'), 'bob\n');
  alice = await makeTestClient(host, { sources: [aliceSource], name: 'alice' });
  bob = await makeTestClient(host, { sources: [bobSource], name: 'bob' });
  const backup = (c: TestClient) =>
    runBackup({
      config: c.config,
      host: c.config.hosts[0]!,
      identityKey: c.identityKey,
      launcher: launchUserOneShot,
    });
  bobSnapshot = (await backup(bob)).snapshot;
  await new Promise((r) => setTimeout(r, 1100)); // distinct ids: "bob's id" is bob's only
  aliceSnapshot = (await backup(alice)).snapshot;
  // A file outside alice's snapshots whose lines a filter-merge trick would leak.
  writeFileSync(secretList, 'guess-me\n');
  keys = mkdtempSync(join(tmpdir(), 'pullback-hostile-'));
  chmodSync(keys, 0o700);
  writeFileSync(join(keys, 'id'), alice.identityKey, { mode: 0o600 });
  writeFileSync(
    join(keys, 'known_hosts'),
    knownHostsLine(host.address, host.port, host.hostKey) + '\n',
  );
});
after(async () => {
  await host?.stop();
});

/** Every entry of both clients' directories and the secret: any write, rename or delete shows. */
function fingerprint(): string {
  const lines: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    let extra = '';
    if (st.isFile()) extra = createHash('sha256').update(readFileSync(p)).digest('hex');
    if (st.isSymbolicLink()) extra = readlinkSync(p);
    lines.push(
      `${p} ${st.ino} ${st.mode} ${st.uid} ${st.size} ${st.mtimeMs} ${st.ctimeMs} ${extra}`,
    );
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
  };
  for (const p of [join(host.storage, 'alice'), join(host.storage, 'bob'), secretList]) walk(p);
  return lines.join('\n');
}

const ssh = () =>
  [
    'ssh -F /dev/null',
    `-i ${join(keys, 'id')}`,
    '-o IdentitiesOnly=yes',
    `-o UserKnownHostsFile=${join(keys, 'known_hosts')}`,
    '-o StrictHostKeyChecking=yes -o BatchMode=yes',
    `-p ${host.port} -l ${host.user} -b 127.0.0.2`,
  ].join(' ');

/** Stock rsync with alice's key, any options: what a hostile client runs. */
function hostileRsync(...args: string[]) {
  const r = spawnSync('rsync', ['-e', ssh(), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** A raw command line as SSH_ORIGINAL_COMMAND, through stock ssh. */
function rawCommand(command: string) {
  const r = spawnSync('sh', ['-c', `${ssh()} ${host.address} "$0"`, command], {
    encoding: 'utf8',
    timeout: 60_000,
    input: '',
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

async function ask(request: HandoffRequest) {
  const conn = await connectToBackupHost(alice.config.hosts[0]!, alice.identityKey);
  try {
    return await exchange(conn, request);
  } catch (err) {
    return err as PullbackError;
  } finally {
    conn.close();
  }
}

const remote = (snapshot: string, path: string) => `${host.address}:/${snapshot}/${b64(path)}/`;

test('S7 restore: receiver mode (pushing into a snapshot) is refused and writes nothing', () => {
  const before = fingerprint();
  const evil = mkdtempSync(join(tmpdir(), 'pullback-evil-'));
  writeFileSync(join(evil, 'file.txt'), 'overwritten\n');
  writeFileSync(join(evil, 'planted'), 'planted\n');
  const r = hostileRsync('-a', `${evil}/`, remote(aliceSnapshot, aliceSource));
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /REFUSED: receiver mode is refused/);
  const raw = rawCommand(
    `rsync --server -logDtpre.iLsfxCIvu . /${aliceSnapshot}/${b64(aliceSource)}/`,
  );
  assert.notEqual(raw.status, 0);
  assert.match(raw.out, /REFUSED/);
  assert.equal(fingerprint(), before, 'nothing changed on the backup host');
});

test('S7 restore: --delete, --remove-source-files and write options are refused', () => {
  const before = fingerprint();
  const out = mkdtempSync(join(tmpdir(), 'pullback-out-'));
  const attempts = [
    ['-a', '--remove-source-files'],
    ['-a', '--delete', '--delete-excluded'],
    ['-a', '--backup', '--backup-dir=/tmp'],
    ['-a', '--log-file=/tmp/pullback-evil.log'],
    ['-a', '--secluded-args'],
  ];
  for (const options of attempts) {
    const r = hostileRsync(...options, remote(aliceSnapshot, aliceSource), `${out}/`);
    if (r.status === 0) {
      // rsync keeps some options on its own side: then the sender never saw them
      assert.ok(existsSync(join(out, 'file.txt')), `${options.join(' ')}: ${r.out}`);
    } else assert.match(r.out, /REFUSED|unknown option/, `${options.join(' ')}: ${r.out}`);
  }
  for (const bad of ['--delete', '--remove-source-files', '--files-from=-', '-M--super']) {
    const raw = rawCommand(
      `rsync --server --sender -logDtpre.iLsfxCIvu ${bad} . /${aliceSnapshot}/${b64(aliceSource)}/`,
    );
    assert.notEqual(raw.status, 0, bad);
    assert.match(raw.out, /REFUSED/, bad);
  }
  assert.equal(fingerprint(), before, 'nothing changed on the backup host');
});

test('S7 restore: another client\'s snapshot, "..", and raw paths are refused', async () => {
  const before = fingerprint();
  const out = mkdtempSync(join(tmpdir(), 'pullback-out-'));
  // bob's snapshot id, under alice's key: serve looks only in alice's own snapshots
  const other = hostileRsync('-a', remote(bobSnapshot, '/'), `${out}/`);
  assert.notEqual(other.status, 0);
  assert.match(other.out, /NOT_FOUND: there is no snapshot/);
  for (const path of [`${aliceSource}/../..`, '/..', '/../bob']) {
    const r = hostileRsync('-a', remote(aliceSnapshot, path), `${out}/`);
    assert.notEqual(r.status, 0, path);
    assert.match(r.out, /REFUSED: .*"\.\."/, path);
  }
  for (const source of [
    `/${aliceSnapshot}/../../bob/snapshots/${bobSnapshot}/`,
    `${host.storage}/bob/snapshots/${bobSnapshot}/`,
    `/${aliceSnapshot}/${b64(aliceSource)}/ /${bobSnapshot}/${b64('/')}/`,
  ]) {
    const r = rawCommand(`rsync --server --sender -logDtpre.iLsfxCIvu . ${source}`);
    assert.notEqual(r.status, 0, source);
    assert.match(r.out, /REFUSED/, source);
  }
  // the JSON requests: another client's id, "..", and bob's storage path read as alice's own
  const ls = await ask({ v: PROTOCOL_VERSION, type: 'ls', snapshot: bobSnapshot, path: '/' });
  assert.ok(ls instanceof PullbackError && ls.code === 'NOT_FOUND', String(ls));
  const dotdot = await ask({
    v: PROTOCOL_VERSION,
    type: 'ls',
    snapshot: 'latest',
    path: '/a/../..',
  });
  assert.ok(dotdot instanceof PullbackError && dotdot.code === 'BAD_REQUEST', String(dotdot));
  const storagePath = await ask({
    v: PROTOCOL_VERSION,
    type: 'versions',
    path: `${host.storage}/bob/snapshots/${bobSnapshot}`,
  });
  assert.ok(
    storagePath instanceof PullbackError && storagePath.code === 'NOT_FOUND',
    String(storagePath),
  );
  assert.equal(fingerprint(), before, 'nothing changed on the backup host');
});

test('S7 restore: a symlink stored in a snapshot is never followed out of it', async () => {
  const before = fingerprint();
  const hostEntry = alice.config.hosts[0]!;
  for (const link of ['to-root', 'to-storage', 'up-and-out']) {
    await assert.rejects(
      listEntries(hostEntry, alice.identityKey, {
        snapshot: 'latest',
        path: join(aliceSource, link, 'etc'),
      }),
      (err: PullbackError) => err.code === 'NOT_FOUND',
      link,
    );
    // through the link: not found; the link itself: the link, never what it points to
    const out = mkdtempSync(join(tmpdir(), 'pullback-out-'));
    const through = hostileRsync(
      '-a',
      remote(aliceSnapshot, join(aliceSource, link, 'etc')),
      `${out}/`,
    );
    assert.notEqual(through.status, 0, link);
    assert.match(through.out, /NOT_FOUND/, link);
    hostileRsync('-a', remote(aliceSnapshot, join(aliceSource, link)), `${out}/`);
    for (const name of readdirSync(out))
      assert.ok(lstatSync(join(out, name)).isSymbolicLink(), `${link}: got ${name}`);
  }
  // Restored, the link comes back as the link it was, not what it points to.
  const to = mkdtempSync(join(tmpdir(), 'pullback-to-'));
  const result = await restorePaths(hostEntry, alice.identityKey, {
    select: { snapshot: 'latest' },
    paths: [join(aliceSource, 'to-storage')],
    to,
  });
  const restored = result.items[0]!.restoredTo;
  assert.ok(lstatSync(restored).isSymbolicLink());
  assert.equal(readlinkSync(restored), host.storage);
  assert.equal(fingerprint(), before, 'nothing changed on the backup host');
});

test("S7 restore: filter rules cannot read a file outside the client's snapshot (--confine-root)", () => {
  const before = fingerprint();
  // A dir-merge of an exclude-only file outside: if the sender read it, "guess-me" would be
  // left out, telling the client the secret's lines.
  // Both forms: the snapshot's own .rules merging it, and an ancestor dir-merge naming it.
  for (const filter of [': .rules', `:-ws ${secretList}`]) {
    const out = mkdtempSync(join(tmpdir(), 'pullback-out-'));
    const r = hostileRsync(
      '-a',
      `--filter=${filter}`,
      remote(aliceSnapshot, aliceSource),
      `${out}/`,
    );
    const leaked = r.status === 0 && !existsSync(join(out, 'guess-me'));
    assert.equal(leaked, false, `${filter}: ${r.out}`);
  }
  assert.equal(fingerprint(), before, 'nothing changed on the backup host');
});
