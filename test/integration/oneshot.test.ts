import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type KeyPair } from '../../core/ssh/keys.js';
import { knownHostsLine } from '../../core/ssh/hostkey-pin.js';
import {
  cleanStaleOneShotDirs,
  defaultRuntimeBase,
  makeOneShotDir,
  startOneShotSshd,
  type OneShot,
  type OneShotSpec,
} from '../../core/ssh/oneshot.js';
import { renderAuthorizedKeysLine } from '../../core/ssh/sshd-config.js';
import { descendantsOf, isProcessAlive, readProcessInfo } from '../../core/process-tree.js';
import { freePort } from '../support/ports.js';

// DESIGN §7: the client (one-shot) on 127.0.0.2, the backup host connecting from 127.0.0.3.
const CLIENT_IP = '127.0.0.2';
const BACKUP_HOST_IP = '127.0.0.3';
const STRANGER_IP = '127.0.0.4';

let work: string;
let base: string;
let gateScript: string;
let clientKey: KeyPair;
let hostKey: KeyPair;
let clientKeyFile: string;

before(() => {
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  work = mkdtempSync(join(tmpdir(), 'pullback-oneshot-'));
  base = join(work, 'run');
  clientKey = generateKeyPair('pullback-test-K');
  hostKey = generateKeyPair('pullback-test-H');
  clientKeyFile = join(work, 'K');
  writeFileSync(clientKeyFile, clientKey.privateKey, { mode: 0o600 });
  // A harmless stand-in for `pullback gate`: says that it ran, what was asked, and if it has a tty.
  gateScript = join(work, 'gate.sh');
  writeFileSync(
    gateScript,
    [
      '#!/bin/sh',
      'echo gate-ran',
      'echo "original=$SSH_ORIGINAL_COMMAND"',
      'if [ -t 0 ] || [ -t 1 ]; then echo tty=yes; else echo tty=no; fi',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
});

after(() => rmSync(work, { recursive: true, force: true }));

async function startShot(t: TestContext, overrides: Partial<OneShotSpec> = {}): Promise<OneShot> {
  const shot = await startOneShotSshd({
    dir: makeOneShotDir(base),
    bindAddress: CLIENT_IP,
    port: 0,
    allowFrom: BACKUP_HOST_IP,
    user: userInfo().username,
    clientPublicKey: clientKey.publicKey,
    hostPrivateKey: hostKey.privateKey,
    gateCommand: gateScript,
    deadlineMs: 30_000,
    ...overrides,
  });
  t.after(() => shot.kill('test over'));
  if (overrides.tunnel) await tunnelEnd(t, shot);
  return shot;
}

/** Tunnel mode's far end: a socket whose connections go to the one-shot's attach (as serve's relay would). */
const tunnelSockets = new WeakMap<OneShot, string>();
async function tunnelEnd(t: TestContext, shot: OneShot): Promise<void> {
  const path = join(shot.dir, '..', `tunnel-${process.hrtime.bigint()}.sock`);
  const server = createServer((socket) => {
    try {
      shot.attach(socket);
    } catch {
      socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.after(() => server.close());
  tunnelSockets.set(shot, path);
}

/** The ssh of a tunnel: its ProxyCommand joins stdio to the tunnel's socket. */
function proxyArgs(shot: OneShot): string[] {
  const path = tunnelSockets.get(shot);
  if (!path) return [];
  const proxy = join(work, 'proxy.mjs');
  writeFileSync(
    proxy,
    "import { connect } from 'node:net';\nconst s = connect(process.argv[2]);\nprocess.stdin.pipe(s).pipe(process.stdout);\ns.on('close', () => process.exit(0));\n",
  );
  return ['-o', `ProxyCommand=${process.execPath} ${proxy} ${path}`];
}

/** Where a promise of S2 holds whatever carries the connection: once direct, once through a tunnel. */
const CARRIERS = [
  { label: '', spec: {} },
  { label: ' (tunnel)', spec: { tunnel: true } },
] as const;

interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real ssh client, as the backup host would run it: K only, H pinned, no prompts. */
function sshArgs(shot: OneShot, extra: string[], opts: { from?: string; key?: string } = {}) {
  const port = tunnelSockets.has(shot) ? 22 : shot.port;
  const knownHosts = join(work, `known_hosts-${port}`);
  writeFileSync(knownHosts, knownHostsLine(CLIENT_IP, port, hostKey.publicKey) + '\n');
  return [
    '-F',
    '/dev/null',
    '-i',
    opts.key ?? clientKeyFile,
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-b',
    opts.from ?? BACKUP_HOST_IP,
    '-p',
    String(port),
    ...proxyArgs(shot),
    ...extra,
    `${userInfo().username}@${CLIENT_IP}`,
  ];
}

interface RunningSsh {
  child: ChildProcess;
  result: Promise<SshResult>;
  stderr(): string;
}

function startSsh(args: string[]): RunningSsh {
  const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const result = new Promise<SshResult>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, result, stderr: () => stderr };
}

function ssh(
  shot: OneShot,
  command: string[],
  opts: { from?: string; key?: string; extra?: string[] } = {},
) {
  return startSsh([...sshArgs(shot, opts.extra ?? [], opts), ...command]).result;
}

// MaxAuthTries 1: the first refused key ends the connection
const REFUSED_KEY = /Permission denied \(publickey\)|Too many authentication failures/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

for (const carrier of CARRIERS)
  test(`S2${carrier.label}: only the gate command runs, whatever the client asks`, async (t) => {
    const shot = await startShot(t, carrier.spec);
    const r = await ssh(shot, ['cat /etc/passwd']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^gate-ran\noriginal=cat \/etc\/passwd\n/);
    assert.doesNotMatch(r.stdout, /root:/);
    const outcome = await shot.done;
    assert.equal(outcome.reason, 'session-ended');
    assert.match(outcome.sshdLog ?? '', /forced-command/);
  });

for (const carrier of CARRIERS)
  test(`S2${carrier.label}: no subsystem (sftp) is offered`, async (t) => {
    const shot = await startShot(t, carrier.spec);
    const r = await ssh(shot, ['sftp'], { extra: ['-s'] });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /subsystem request failed/);
    assert.match((await shot.done).sshdLog ?? '', /subsystem not found/);
  });

test('the gate starts without the account’s ~/.bashrc: sshd hands the shell SHLVL=1', async (t) => {
  // bash reads ~/.bashrc under sshd only as a top-level shell (SHLVL below 2 after its +1);
  // without SetEnv bash would exec printenv with SHLVL=0, dash with none at all
  const shot = await startShot(t, { gateCommand: '/usr/bin/printenv SHLVL' });
  const r = await ssh(shot, ['anything']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1\n');
});

test('S1: the one-shot accepts exactly one connection', async (t) => {
  const shot = await startShot(t);
  // the first session stays open (-N: no command) while a second one tries to get in
  const first = startSsh(sshArgs(shot, ['-v', '-N']));
  await waitFor('the first session to be in', () => /Authenticated to/.test(first.stderr()));
  const during = await ssh(shot, ['true']);
  assert.notEqual(during.code, 0, 'a second connection during the session must fail');
  assert.match(during.stderr, /Connection refused/);
  first.child.kill('SIGTERM');
  await first.result;
  const outcome = await shot.done;
  assert.equal(outcome.reason, 'session-ended');
  const afterwards = await ssh(shot, ['true']);
  assert.notEqual(afterwards.code, 0, 'a connection after the session must fail');
  assert.match(afterwards.stderr, /Connection refused/);
});

test('S1: the one-time key carries an expiry-time', async (t) => {
  const deadlineMs = 10 * 60_000;
  const before = Date.now();
  const shot = await startShot(t, { deadlineMs });
  const line = readFileSync(join(shot.dir, 'authorized_keys'), 'utf8');
  const m =
    /^restrict,from="127\.0\.0\.3",expiry-time="(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z",command="[^"]+" ssh-ed25519 [A-Za-z0-9+/=]+\n$/.exec(
      line,
    );
  assert.ok(m, `unexpected authorized_keys line: ${line}`);
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const expiry = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  assert.ok(Math.abs(expiry - (before + deadlineMs)) < 5_000, 'expires at the deadline');
  await shot.kill();
});

test('S1: an expired one-time key is refused by sshd', async (t) => {
  const shot = await startShot(t);
  // same key, same address, same command: only the expiry-time is in the past
  const expired = renderAuthorizedKeysLine({
    publicKey: clientKey.publicKey,
    from: BACKUP_HOST_IP,
    expiresAt: new Date(Date.now() - 60_000),
    command: gateScript,
  });
  writeFileSync(join(shot.dir, 'authorized_keys'), expired + '\n');
  const r = await ssh(shot, ['true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, REFUSED_KEY);
  assert.doesNotMatch(r.stdout, /gate-ran/);
  const outcome = await shot.done;
  assert.doesNotMatch(outcome.sshdLog ?? '', /Accepted publickey/);
});

test('S2: a connection from another address is dropped and does not use up the shot', async (t) => {
  const shot = await startShot(t);
  const stranger = await ssh(shot, ['true'], { from: STRANGER_IP });
  assert.notEqual(stranger.code, 0);
  assert.match(stranger.stderr, /Connection reset|Connection closed/);
  assert.doesNotMatch(stranger.stderr, /Permission denied|Host key/, 'no SSH banner was sent');
  const backupHost = await ssh(shot, ['backup']);
  assert.equal(backupHost.code, 0, backupHost.stderr);
  assert.match(backupHost.stdout, /^gate-ran\n/);
  assert.equal((await shot.done).reason, 'session-ended');
});

for (const carrier of CARRIERS)
  test(`S2${carrier.label}: a wrong key is refused`, async (t) => {
    const shot = await startShot(t, carrier.spec);
    const wrong = generateKeyPair('not-K');
    const wrongFile = join(work, 'wrong-key');
    writeFileSync(wrongFile, wrong.privateKey, { mode: 0o600 });
    const r = await ssh(shot, ['true'], { key: wrongFile });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, REFUSED_KEY);
    assert.doesNotMatch(r.stdout, /gate-ran/);
  });

for (const carrier of CARRIERS)
  test(`S2${carrier.label}: a pty request is refused`, async (t) => {
    const shot = await startShot(t, carrier.spec);
    // ssh -tt gives up when the pty it insisted on is refused
    const forced = await ssh(shot, ['sh'], { extra: ['-tt'] });
    assert.match(forced.stderr, /PTY allocation request failed/);
    assert.doesNotMatch(forced.stdout, /tty=yes/);
    assert.equal((await shot.done).reason, 'session-ended');
  });

for (const carrier of CARRIERS)
  test(`S2${carrier.label}: password authentication is not offered`, async (t) => {
    const shot = await startShot(t, carrier.spec);
    const r = await ssh(shot, ['true'], {
      extra: ['-v', '-o', 'PreferredAuthentications=password,keyboard-interactive'],
    });
    assert.notEqual(r.code, 0);
    const offered = [...r.stderr.matchAll(/Authentications that can continue: (\S+)/g)].map(
      (m) => m[1],
    );
    assert.ok(offered.length > 0, `ssh -v shows no method list:\n${r.stderr}`);
    assert.deepEqual([...new Set(offered)], ['publickey']);
    assert.doesNotMatch(r.stdout, /gate-ran/);
  });

/** A TCP service on the client side that counts who reached it through a forward. */
async function countingServer(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((s) => {
    hits++;
    s.end('reached\n');
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  return { server, port, hits: () => hits };
}

/** Connects, optionally speaks, and returns whatever comes back before the close (or 2 s). */
function exchangeBytes(host: string, port: number, send: Buffer[]): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s: Socket = connect({ host, port }, () => {
      for (const b of send) s.write(b);
    });
    const finish = () => {
      s.destroy();
      resolve(Buffer.concat(chunks));
    };
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('close', finish);
    s.on('error', finish);
    setTimeout(finish, 2_000);
  });
}

for (const carrier of CARRIERS)
  test(`S2${carrier.label}: a port forward is refused (-L, -R, -D)`, async (t) => {
    const shot = await startShot(t, carrier.spec);
    const target = await countingServer();
    t.after(() => target.server.close());
    const [local, socks, remote] = [
      await freePort(BACKUP_HOST_IP),
      await freePort(BACKUP_HOST_IP),
      await freePort('127.0.0.1'),
    ];
    const session = startSsh(
      sshArgs(shot, [
        '-v',
        '-N',
        '-L',
        `${BACKUP_HOST_IP}:${local}:127.0.0.1:${target.port}`,
        '-D',
        `${BACKUP_HOST_IP}:${socks}`,
        '-R',
        `127.0.0.1:${remote}:127.0.0.1:${target.port}`,
      ]),
    );
    await waitFor('the session and the remote-forward answer', () =>
      /remote port forwarding failed/i.test(session.stderr()),
    );
    // -L: the client listens, but the one-shot refuses to open the channel
    const viaLocal = await exchangeBytes(BACKUP_HOST_IP, local, [Buffer.from('hello\n')]);
    assert.doesNotMatch(viaLocal.toString(), /reached/);
    // -D: a SOCKS5 CONNECT to the target through the one-shot
    const port = Buffer.alloc(2);
    port.writeUInt16BE(target.port);
    const viaSocks = await exchangeBytes(BACKUP_HOST_IP, socks, [
      Buffer.from([5, 1, 0]),
      Buffer.from([5, 1, 0, 1, 127, 0, 0, 1]),
      port,
    ]);
    assert.doesNotMatch(viaSocks.toString('latin1'), /reached/);
    // -R: nothing listens on the one-shot's side
    assert.equal(await canConnect('127.0.0.1', remote), false, '-R opened a listener');
    assert.equal(target.hits(), 0, 'a forward reached the target');
    assert.match(session.stderr(), /open failed: administratively prohibited/);
    session.child.kill('SIGTERM');
    await session.result;
    assert.equal((await shot.done).reason, 'session-ended');
  });

test('S9: secrets are 0600 in a 0700 directory and gone after the run', async (t) => {
  const shot = await startShot(t);
  assert.equal(statSync(shot.dir).mode & 0o777, 0o700);
  assert.equal(statSync(base).mode & 0o777, 0o700);
  const files = readdirSync(shot.dir).sort();
  assert.deepEqual(files, ['authorized_keys', 'host_key', 'pid', 'sshd_config']);
  for (const f of files) {
    assert.equal(statSync(join(shot.dir, f)).mode & 0o777, 0o600, `${f} must be 0600`);
  }
  const r = await ssh(shot, ['true']);
  assert.equal(r.code, 0, r.stderr);
  await shot.done;
  assert.equal(existsSync(shot.dir), false, 'the one-shot directory is removed');
});

test('S9: the directory is also gone after kill() and after an unused deadline', async (t) => {
  const killed = await startShot(t);
  await killed.kill('changed my mind');
  assert.equal(existsSync(killed.dir), false);
  assert.deepEqual(await killed.done, { reason: 'killed', detail: 'changed my mind' });
  const unused = await startShot(t, { deadlineMs: 300 });
  assert.equal((await unused.done).reason, 'deadline');
  assert.equal(existsSync(unused.dir), false);
  assert.equal(await canConnect(CLIENT_IP, unused.port), false, 'the listener is closed');
});

test('S9: a crashed run’s directory is removed at the next start', async () => {
  const crashBase = join(work, 'crash');
  // a real run that crashes: a process starts a one-shot and is SIGKILLed
  const oneshotModule = new URL('../../core/ssh/oneshot.js', import.meta.url).href;
  const script = `
    import { startOneShotSshd, makeOneShotDir } from ${JSON.stringify(oneshotModule)};
    const spec = JSON.parse(process.argv[1]);
    const shot = await startOneShotSshd({ ...spec, dir: makeOneShotDir(spec.dir) });
    console.log(shot.dir);`;
  const spec: OneShotSpec = {
    dir: crashBase,
    bindAddress: CLIENT_IP,
    port: 0,
    allowFrom: BACKUP_HOST_IP,
    user: userInfo().username,
    clientPublicKey: clientKey.publicKey,
    hostPrivateKey: hostKey.privateKey,
    gateCommand: gateScript,
    deadlineMs: 60_000,
  };
  const crashing = spawn(
    process.execPath,
    ['--input-type=module', '-e', script, JSON.stringify(spec)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const crashedDir = await new Promise<string>((resolve) =>
    crashing.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
  );
  assert.ok(existsSync(join(crashedDir, 'host_key')), 'the crashing run wrote its secrets');
  crashing.kill('SIGKILL');
  await new Promise((r) => crashing.once('close', r));
  assert.ok(existsSync(crashedDir), 'a SIGKILLed run leaves its directory behind');

  // a live run's directory, and one whose pid was recycled by another process
  const live = makeOneShotDir(crashBase);
  mkdirSync(live, { mode: 0o700 });
  writeFileSync(join(live, 'pid'), `${process.pid} ${readProcessInfo(process.pid)!.startTime}\n`);
  const recycled = makeOneShotDir(crashBase);
  mkdirSync(recycled, { mode: 0o700 });
  writeFileSync(join(recycled, 'pid'), `${process.pid} 1\n`);

  const removed = cleanStaleOneShotDirs(crashBase).sort();
  assert.deepEqual(removed, [crashedDir, recycled].sort());
  assert.equal(existsSync(crashedDir), false);
  assert.equal(existsSync(live), true, 'a running one-shot is left alone');
});

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return ''; // exited meanwhile
  }
}

test('the one-shot tree is killed at its deadline', async (t) => {
  const marker = `${60 + Math.floor(Math.random() * 1000)}`; // sleep's argument names our process
  const shot = await startShot(t, { gateCommand: `sleep ${marker}`, deadlineMs: 4_000 });
  const session = startSsh(sshArgs(shot, []));
  const seen = new Map<number, number>();
  const sessionPid = session.child.pid;
  let sleeper: number | undefined;
  await waitFor('the gate command to run', () => {
    for (const p of descendantsOf([process.pid])) {
      if (p.pid === sessionPid || p.ppid === sessionPid) continue; // the ssh client, not the tree
      seen.set(p.pid, p.startTime);
      if (cmdline(p.pid) === `sleep\0${marker}\0`) sleeper = p.pid;
    }
    return sleeper !== undefined;
  });
  const sshdPids = [...seen.keys()].filter(
    (pid) => readProcessInfo(pid)?.ppid === process.pid && /sshd/.test(cmdline(pid)),
  );
  assert.equal(sshdPids.length, 1, 'one sshd child');
  assert.notEqual(
    readProcessInfo(sleeper!)?.pgid,
    sshdPids[0],
    'the session left sshd’s process group (setsid): a group kill alone would miss it',
  );
  const outcome = await shot.done;
  assert.equal(outcome.reason, 'deadline');
  const survivors = [...seen].filter(([pid, start]) => isProcessAlive(pid, start));
  assert.deepEqual(survivors, [], 'no process of the one-shot tree survives the deadline');
  assert.equal(existsSync(shot.dir), false);
  await session.result;
});

test('a bad spec is refused before anything is written', async () => {
  const dir = makeOneShotDir(base);
  const spec: OneShotSpec = {
    dir,
    bindAddress: CLIENT_IP,
    port: 0,
    allowFrom: BACKUP_HOST_IP,
    user: userInfo().username,
    clientPublicKey: clientKey.publicKey,
    hostPrivateKey: hostKey.privateKey,
    gateCommand: gateScript,
    deadlineMs: 1000,
  };
  const cases: Partial<OneShotSpec>[] = [
    { allowFrom: '127.0.0.0/8' },
    { bindAddress: 'localhost' },
    { port: 70000 },
    { clientPublicKey: hostKey.privateKey },
    { hostPrivateKey: hostKey.publicKey },
    { gateCommand: 'echo "x"' },
    { user: 'root root' },
    { deadlineMs: 0 },
  ];
  for (const bad of cases) {
    await assert.rejects(startOneShotSshd({ ...spec, ...bad }), { code: 'BAD_REQUEST' });
  }
  assert.equal(existsSync(dir), false);
});

test('an existing directory is never adopted, nor removed', async () => {
  const dir = makeOneShotDir(base);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'precious'), 'x');
  await assert.rejects(
    startOneShotSshd({
      dir,
      bindAddress: CLIENT_IP,
      port: 0,
      allowFrom: BACKUP_HOST_IP,
      user: userInfo().username,
      clientPublicKey: clientKey.publicKey,
      hostPrivateKey: hostKey.privateKey,
      gateCommand: gateScript,
      deadlineMs: 1000,
    }),
    /EEXIST/,
  );
  assert.deepEqual(readdirSync(dir), ['precious']);
});

test('one-shot directories live under PULLBACK_STATE_DIR, else XDG_RUNTIME_DIR, else the state dir', () => {
  assert.equal(defaultRuntimeBase({ PULLBACK_STATE_DIR: '/s', XDG_RUNTIME_DIR: work }), '/s/run');
  assert.equal(defaultRuntimeBase({ XDG_RUNTIME_DIR: work }), join(work, 'pullback'));
  assert.equal(
    defaultRuntimeBase({ XDG_RUNTIME_DIR: '/nonexistent-runtime', XDG_STATE_HOME: '/st' }),
    '/st/pullback/run',
  );
});
