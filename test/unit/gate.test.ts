import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PullbackError } from '../../core/errors.js';
import { gateCommandLine } from '../../core/gate/run.js';
import { buildPullArgv } from '../../core/pull/rsync-argv.js';
import { validateSenderCommand } from '../../core/gate/validate.js';

const GATE_MODULE = fileURLToPath(new URL('../../core/gate/run.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'pullback-gate-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The source names the captures below were made with, under <root>/src. */
const SOURCE_DIRS = [
  'one',
  'two',
  'with space',
  '-dash',
  'ünï',
  `q'uo"te`,
  'star*[x]',
  '$dollar;semi',
];
const SRC = join(root, 'src');
for (const [i, name] of SOURCE_DIRS.entries()) {
  mkdirSync(join(SRC, name), { recursive: true });
  writeFileSync(join(SRC, name, `file${i}.txt`), `content of ${name}\n`);
}
mkdirSync(join(SRC, 'new\nline'));
writeFileSync(join(SRC, 'new\nline', 'k'), 'k\n');

/**
 * SSH_ORIGINAL_COMMAND strings captured from real rsync 3.5.0 pulls (`-e` a script logging the
 * command ssh would send), made by Pullback's pull argv: `rsync -aHAXS -R --numeric-ids --delete
 * --fake-super --info=progress2 [--bwlimit=500] [--inplace | --link-dest=…] -e … host:SRC… DEST`.
 * The sources lived under /tmp/gcap; the test puts them under its own root.
 */
const CAPTURED: [string, string, string[]][] = [
  [
    "core/pull's argv (hardlink backend: --link-dest, --bwlimit, a filter)",
    'rsync --server --sender -lHogDtpAXrRSe.LsfxCIvu --timeout=300 --bwlimit=100 --numeric-ids . /tmp/gcap/src/one /tmp/gcap/src/with\\ space',
    [
      '-lHogDtpAXrRSe.LsfxCIvu',
      '--timeout=300',
      '--bwlimit=100',
      '--numeric-ids',
      '.',
      'SRC/one',
      'SRC/with space',
    ],
  ],
  [
    "core/pull's argv (btrfs backend: --inplace)",
    'rsync --server --sender -lHogDtpAXrRSe.LsfxCIvu --timeout=300 --numeric-ids --inplace . /tmp/gcap/src/one',
    ['-lHogDtpAXrRSe.LsfxCIvu', '--timeout=300', '--numeric-ids', '--inplace', '.', 'SRC/one'],
  ],
  [
    'two sources, --bwlimit and --link-dest',
    'rsync --server --sender -lHogDtpAXrRSe.iLsfxCIvu --bwlimit=500 --numeric-ids . /tmp/gcap/src/one /tmp/gcap/src/two',
    ['-lHogDtpAXrRSe.iLsfxCIvu', '--bwlimit=500', '--numeric-ids', '.', 'SRC/one', 'SRC/two'],
  ],
  [
    'the btrfs backend (--inplace, no --link-dest)',
    'rsync --server --sender -lHogDtpAXrRSe.iLsfxCIvu --numeric-ids --inplace . /tmp/gcap/src/one /tmp/gcap/src/two',
    ['-lHogDtpAXrRSe.iLsfxCIvu', '--numeric-ids', '--inplace', '.', 'SRC/one', 'SRC/two'],
  ],
  [
    'sources with a space, a leading dash and unicode',
    'rsync --server --sender -lHogDtpAXrRSe.iLsfxCIvu --numeric-ids . /tmp/gcap/src/with\\ space /tmp/gcap/src/-dash /tmp/gcap/src/ünï',
    ['-lHogDtpAXrRSe.iLsfxCIvu', '--numeric-ids', '.', 'SRC/with space', 'SRC/-dash', 'SRC/ünï'],
  ],
  [
    'sources with quotes, wildcards and shell characters (escaped by rsync)',
    'rsync --server --sender -lHogDtpAXrRSe.iLsfxCIvu --numeric-ids . /tmp/gcap/src/q\\\'uo\\"te /tmp/gcap/src/star*[x] /tmp/gcap/src/\\$dollar\\;semi',
    [
      '-lHogDtpAXrRSe.iLsfxCIvu',
      '--numeric-ids',
      '.',
      `SRC/q'uo"te`,
      'SRC/star*[x]',
      'SRC/$dollar;semi',
    ],
  ],
  [
    'a trailing slash',
    'rsync --server --sender -lHogDtpAXrRSe.iLsfxCIvu --numeric-ids . /tmp/gcap/src/one/',
    ['-lHogDtpAXrRSe.iLsfxCIvu', '--numeric-ids', '.', 'SRC/one/'],
  ],
  [
    'plain rsync -a',
    'rsync --server --sender -logDtpre.iLsfxCIvu . /tmp/gcap/src/one',
    ['-logDtpre.iLsfxCIvu', '.', 'SRC/one'],
  ],
  [
    'verbose, compressed, one file system, --timeout and --info',
    'rsync --server --sender -vlHogDtpAXrRxSze.iLsfxCIvu --timeout=30 --numeric-ids --info=STATS2 . /tmp/gcap/src/one',
    [
      '-vlHogDtpAXrRxSze.iLsfxCIvu',
      '--timeout=30',
      '--numeric-ids',
      '--info=STATS2',
      '.',
      'SRC/one',
    ],
  ],
  [
    '--delete-after (no incremental recursion)',
    'rsync --server --sender -lHogDtpAXrRSe.LsfxCIvu --numeric-ids . /tmp/gcap/src/one',
    ['-lHogDtpAXrRSe.LsfxCIvu', '--numeric-ids', '.', 'SRC/one'],
  ],
];

const withRoot = (s: string): string => s.replaceAll('/tmp/gcap', root);

for (const [what, command, expected] of CAPTURED) {
  test(`S3: the gate accepts what real rsync sends for a pull with ${what}`, () => {
    const argv = validateSenderCommand(withRoot(command), [SRC]);
    assert.deepEqual(argv, [
      '--server',
      '--sender',
      ...expected.map((a) => a.replace(/^SRC/, SRC)),
    ]);
  });
}

test('S3: the gate refuses the command real rsync sends for a source with a newline', () => {
  const captured =
    'rsync --server --sender -lHogDtpAXrRSe.iLsfxCIvu --numeric-ids . /tmp/gcap/src/new\\\nline';
  assert.throws(
    () => validateSenderCommand(withRoot(captured), [SRC]),
    (err: unknown) =>
      err instanceof PullbackError && err.code === 'REFUSED' && /newline/.test(err.message),
  );
});

test('S3: the gate accepts a path inside an allowed tree given through a symlink', () => {
  const linkRoot = join(root, 'link-to-src');
  spawnSync('ln', ['-s', SRC, linkRoot]);
  const argv = validateSenderCommand(
    `rsync --server --sender -logDtpre.iLsfxCIvu . ${linkRoot}/one`,
    [linkRoot],
  );
  assert.deepEqual(argv.slice(-1), [`${linkRoot}/one`]);
});

// A stand-in for ssh + sshd: drops `-l user host`, joins the rest as ssh does, logs it and runs
// the gate as the forced command with that SSH_ORIGINAL_COMMAND.
const FAKE_SSH = join(root, 'fake-ssh.sh');
writeFileSync(
  FAKE_SSH,
  `#!/bin/sh
[ "$1" = "-l" ] && shift 2
shift
printf '%s\\0' "$*" >> "$GATE_LOG"
SSH_ORIGINAL_COMMAND="$*" exec "$GATE_NODE" --input-type=module -e "$GATE_RUNNER"
`,
  { mode: 0o755 },
);
const RUNNER = `const m = await import(process.env.GATE_MODULE);
process.exit(await m.runGate({ allow: JSON.parse(process.env.GATE_ALLOW), check: process.env.GATE_CHECK === '1', rsyncPath: process.env.GATE_RSYNC || undefined }));`;

function gateEnv(allow: string[], extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GATE_NODE: process.execPath,
    GATE_MODULE,
    GATE_RUNNER: RUNNER,
    GATE_ALLOW: JSON.stringify(allow),
    GATE_LOG: join(root, 'gate.log'),
    ...extra,
  };
}

/** Runs the gate the way sshd would, with SSH_ORIGINAL_COMMAND set. */
function runGateProcess(command: string, allow: string[], extra: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', RUNNER], {
    env: gateEnv(allow, { SSH_ORIGINAL_COMMAND: command, ...extra }),
    encoding: 'utf8',
  });
}

function loggedCommands(): string[] {
  const log = join(root, 'gate.log');
  const commands = existsSync(log) ? readFileSync(log, 'utf8').split('\0').slice(0, -1) : [];
  rmSync(log, { force: true });
  return commands;
}

const PULL = ['-aHAXS', '-R', '--numeric-ids', '--delete', '--fake-super', '--info=progress2'];

/** Pullback's own pull argv (core/pull), with ssh swapped for the stand-in above. */
function pullArgv(sources: string[], dest: string, backend: 'hardlink' | 'btrfs'): string[] {
  const argv = buildPullArgv({
    remote: {
      user: 'reader',
      host: '127.0.0.2',
      port: 22,
      identityFile: '/nonexistent/key',
      knownHostsFile: '/nonexistent/known_hosts',
    },
    sources,
    excludes: ['*.tmp', '.cache/'],
    dest,
    ...(backend === 'hardlink'
      ? { linkDest: join(root, 'no-previous'), bwlimitKiB: 100_000 }
      : { inplace: true }),
  });
  argv[argv.indexOf('-e') + 1] = FAKE_SSH;
  return argv;
}

test('S3: an allowed rsync sender through the gate copies the tree', () => {
  const sources = ['one', 'two', 'with space', '-dash', 'ünï', `q'uo"te`, '$dollar;semi'];
  for (const backend of ['hardlink', 'btrfs'] as const) {
    const dest = join(root, `dest-${backend}`, '.incomplete');
    mkdirSync(dest, { recursive: true });
    const [rsync = '', ...args] = pullArgv(
      sources.map((s) => join(SRC, s)),
      `${dest}/`,
      backend,
    );
    const r = spawnSync(rsync, args, { env: gateEnv([SRC]), encoding: 'utf8' });
    assert.equal(r.status, 0, `${backend}: rsync failed: ${r.stderr}`);
    for (const s of sources) {
      const i = SOURCE_DIRS.indexOf(s);
      const copied = join(dest, SRC, s, `file${i}.txt`);
      assert.equal(readFileSync(copied, 'utf8'), `content of ${s}\n`, `${backend}: ${copied}`);
    }
    const [command, ...more] = loggedCommands();
    assert.equal(more.length, 0);
    assert.match(command ?? '', /^rsync --server --sender -lHogDtpAXrRSe\.\S+ /);
  }
});

test('S3: a pull of a source with a newline is refused cleanly and copies nothing', () => {
  const dest = join(root, 'dest-newline');
  mkdirSync(dest);
  const r = spawnSync(
    'rsync',
    [...PULL, '-e', FAKE_SSH, `x@h:${join(SRC, 'new\nline')}`, `${dest}/`],
    {
      env: gateEnv([SRC]),
      encoding: 'utf8',
    },
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^REFUSED: the command contains a newline$/m);
  assert.equal(spawnSync('find', [dest, '-mindepth', '1']).stdout.length, 0);
  loggedCommands();
});

test('S3: a receiver-mode push through the gate is refused and writes nothing', () => {
  const target = join(SRC, 'one');
  const before = spawnSync('find', [target, '-printf', '%p %s %T@\\n'], {
    encoding: 'utf8',
  }).stdout;
  const local = join(root, 'push-me');
  mkdirSync(local);
  writeFileSync(join(local, 'planted.txt'), 'planted\n');
  const r = spawnSync('rsync', ['-a', '-e', FAKE_SSH, `${local}/`, `x@h:${target}/`], {
    env: gateEnv([SRC]),
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^REFUSED: receiver mode is refused/m);
  assert.equal(existsSync(join(target, 'planted.txt')), false);
  assert.equal(
    spawnSync('find', [target, '-printf', '%p %s %T@\\n'], { encoding: 'utf8' }).stdout,
    before,
  );
  const [command] = loggedCommands();
  assert.match(command ?? '', /^rsync --server -\S+ \. /);
});

test('S3: the gate in check mode prints the argv it would run as one JSON line', () => {
  const r = runGateProcess(
    `rsync --server --sender -logDtpre.iLsfxCIvu --numeric-ids . ${SRC}/one`,
    [SRC],
    {
      GATE_CHECK: '1',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  assert.equal(lines.length, 2);
  const argv = JSON.parse(lines[0] ?? '') as string[];
  assert.match(argv[0] ?? '', /\/nice$/);
  assert.deepEqual(argv.slice(1, 3), ['-n', '10']);
  assert.match(argv[3] ?? '', /\/ionice$/);
  assert.deepEqual(argv.slice(4), [
    '-c3',
    '/usr/bin/rsync',
    '--server',
    '--sender',
    '-logDtpre.iLsfxCIvu',
    '--numeric-ids',
    '.',
    `${SRC}/one`,
  ]);
});

test('S3: a refused command makes the gate print exactly one REFUSED line and fail', () => {
  for (const check of ['1', '0']) {
    const r = runGateProcess(`rsync --server --sender --remove-source-files . ${SRC}/one`, [SRC], {
      GATE_CHECK: check,
    });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'REFUSED: --remove-source-files writes or deletes on the client\n');
  }
  assert.ok(existsSync(join(SRC, 'one', 'file0.txt')));
});

test('S10: the gate refuses when SSH_ORIGINAL_COMMAND is missing or an allowed tree does not exist', () => {
  const missing = spawnSync(process.execPath, ['--input-type=module', '-e', RUNNER], {
    env: { ...gateEnv([SRC]), SSH_ORIGINAL_COMMAND: undefined },
    encoding: 'utf8',
  });
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, 'REFUSED: the command is empty (not run by a remote rsync)\n');
  const noTree = runGateProcess(`rsync --server --sender -r . ${SRC}/one`, [join(root, 'nowhere')]);
  assert.equal(noTree.status, 1);
  assert.match(noTree.stderr, /^REFUSED: allowed tree ".*nowhere" does not exist\n$/);
});

test('the gate passes SIGTERM on to rsync and returns its exit status', async () => {
  const fakeRsync = join(root, 'fake-rsync.sh');
  const ready = join(root, 'fake-rsync.ready');
  writeFileSync(
    fakeRsync,
    `#!/bin/sh\ntrap 'exit 42' TERM\ntouch '${ready}'\nwhile :; do sleep 0.05; done\n`,
    { mode: 0o755 },
  );
  const gate = spawn(process.execPath, ['--input-type=module', '-e', RUNNER], {
    env: gateEnv([SRC], {
      SSH_ORIGINAL_COMMAND: `rsync --server --sender -r . ${SRC}/one`,
      GATE_RSYNC: fakeRsync,
    }),
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  while (!existsSync(ready)) {
    assert.ok(Date.now() < deadline, 'the fake rsync never started');
    await new Promise((r) => setTimeout(r, 20));
  }
  gate.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => gate.on('exit', (c) => resolve(c)));
  assert.equal(code, 42);
});

test('gateCommandLine renders a forced command sh can run and refuses unrepresentable arguments', () => {
  const line = gateCommandLine('/usr/bin/node', '/opt/pullback/dist/cli/main.js', [
    '/home/u/My Docs',
    "/srv/it's",
  ]);
  const argv = spawnSync('/bin/sh', ['-c', `printf '%s\\n' ${line.replace(/^\S+ \S+/, '')}`], {
    encoding: 'utf8',
  }).stdout;
  assert.equal(argv, "gate\n--allow\n/home/u/My Docs\n--allow\n/srv/it's\n");
  assert.match(line, /^\/usr\/bin\/node \/opt\/pullback\/dist\/cli\/main\.js gate /);
  assert.match(
    gateCommandLine('/n', '/c', ['/a'], '/usr/local/bin/rsync'),
    / --rsync \/usr\/local\/bin\/rsync$/,
  );
  for (const bad of ['/a"b', '/a\\b', '/a\nb', '/a\0b']) {
    assert.throws(
      () => gateCommandLine('/usr/bin/node', '/c', [bad]),
      (err: unknown) => err instanceof PullbackError && err.code === 'BAD_CONFIG',
    );
  }
});
