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
 * command ssh would send), made with Pullback's per-tree pull argv: `rsync -aHAXS --numeric-ids
 * --fake-super --delete --delete-excluded --partial --no-inc-recursive --info=progress2 --stats
 * --timeout=300 [--bwlimit=100] [--inplace | --link-dest=…] -e … host:TREE/ DEST`, and plain
 * rsync pulls. The trees lived under /tmp/gcap; the test puts them under its own root.
 */
const CAPTURED: [string, string, string[], string][] = [
  [
    "core/pull's argv (hardlink backend: --link-dest, --bwlimit, a filter)",
    'rsync --server --sender -lHogDtpAXrSe.LsfxCIvu --timeout=300 --bwlimit=100 --numeric-ids . /tmp/gcap/src/one/',
    ['-lHogDtpAXrSe.LsfxCIvu', '--timeout=300', '--bwlimit=100', '--numeric-ids'],
    'one',
  ],
  [
    "core/pull's argv (btrfs backend: --inplace)",
    'rsync --server --sender -lHogDtpAXrSe.LsfxCIvu --timeout=300 --numeric-ids --inplace . /tmp/gcap/src/one/',
    ['-lHogDtpAXrSe.LsfxCIvu', '--timeout=300', '--numeric-ids', '--inplace'],
    'one',
  ],
  [
    'a tree with a space',
    'rsync --server --sender -lHogDtpAXrSe.LsfxCIvu --timeout=300 --numeric-ids . /tmp/gcap/src/with\\ space/',
    ['-lHogDtpAXrSe.LsfxCIvu', '--timeout=300', '--numeric-ids'],
    'with space',
  ],
  [
    'a tree with quotes (escaped by rsync)',
    'rsync --server --sender -lHogDtpAXrSe.LsfxCIvu --timeout=300 --numeric-ids . /tmp/gcap/src/q\\\'uo\\"te/',
    ['-lHogDtpAXrSe.LsfxCIvu', '--timeout=300', '--numeric-ids'],
    `q'uo"te`,
  ],
  [
    'a tree with shell characters (escaped by rsync)',
    'rsync --server --sender -lHogDtpAXrSe.LsfxCIvu --timeout=300 --numeric-ids . /tmp/gcap/src/\\$dollar\\;semi/',
    ['-lHogDtpAXrSe.LsfxCIvu', '--timeout=300', '--numeric-ids'],
    '$dollar;semi',
  ],
  [
    'a tree with wildcards',
    'rsync --server --sender -lHogDtpAXrSe.LsfxCIvu --timeout=300 --numeric-ids . /tmp/gcap/src/star*[x]/',
    ['-lHogDtpAXrSe.LsfxCIvu', '--timeout=300', '--numeric-ids'],
    'star*[x]',
  ],
  [
    'plain rsync -a',
    'rsync --server --sender -logDtpre.iLsfxCIvu . /tmp/gcap/src/one/',
    ['-logDtpre.iLsfxCIvu'],
    'one',
  ],
  [
    'verbose, compressed, one file system, --timeout and --info',
    'rsync --server --sender -vlogDtprxze.iLsfxCIvu --timeout=30 --numeric-ids --info=STATS2 . /tmp/gcap/src/one/',
    ['-vlogDtprxze.iLsfxCIvu', '--timeout=30', '--numeric-ids', '--info=STATS2'],
    'one',
  ],
];

const withRoot = (s: string): string => s.replaceAll('/tmp/gcap', root);

for (const [what, command, options, tree] of CAPTURED) {
  test(`S3: the gate accepts what real rsync sends for a pull with ${what}`, () => {
    const trees = SOURCE_DIRS.map((name) => join(SRC, name));
    assert.deepEqual(validateSenderCommand(withRoot(command), trees), {
      options,
      tree: join(SRC, tree),
    });
  });
}

test('S3: the gate accepts the tree "/" itself (system mode backs up the whole filesystem)', () => {
  const command = 'rsync --server --sender -lHogDtpAXrSe.LsfxCIvu --timeout=300 --numeric-ids . /';
  assert.equal(validateSenderCommand(command, ['/']).tree, '/');
});

test('S3: the gate refuses the command real rsync sends for a source with a newline', () => {
  const captured =
    'rsync --server --sender -lHogDtpAXrSe.iLsfxCIvu --numeric-ids . /tmp/gcap/src/new\\\nline/';
  assert.throws(
    () => validateSenderCommand(withRoot(captured), [join(SRC, 'new\nline')]),
    (err: unknown) =>
      err instanceof PullbackError && err.code === 'REFUSED' && /newline/.test(err.message),
  );
});

test('S3: the gate names a tree given through a symlink as configured, and pins its real path', () => {
  const linkRoot = join(root, 'link-to-src');
  spawnSync('ln', ['-s', SRC, linkRoot]);
  const request = validateSenderCommand(
    `rsync --server --sender -logDtpre.iLsfxCIvu . ${linkRoot}/`,
    [linkRoot],
  );
  assert.equal(request.tree, linkRoot);
  const check = runGateProcess(
    `rsync --server --sender -logDtpre.iLsfxCIvu . ${linkRoot}/`,
    [linkRoot],
    { GATE_CHECK: '1' },
  );
  assert.equal(check.status, 0, check.stderr);
  const argv = JSON.parse(check.stdout) as string[];
  assert.deepEqual(argv.slice(-3), [`--confine-root=${SRC}`, '.', '/proc/self/fd/3/']);
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
process.exit(await m.runGate({ allow: JSON.parse(process.env.GATE_ALLOW), check: process.env.GATE_CHECK === '1', rsyncPath: process.env.GATE_RSYNC || undefined, refusalLog: process.env.GATE_REFUSALS || undefined }));`;
const REFUSALS = join(root, 'refusals');

function gateEnv(allow: string[], extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GATE_NODE: process.execPath,
    GATE_MODULE,
    GATE_RUNNER: RUNNER,
    GATE_ALLOW: JSON.stringify(allow),
    GATE_LOG: join(root, 'gate.log'),
    GATE_REFUSALS: REFUSALS,
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

/** What the gate logged for the client (and empties the log). */
function refusalReasons(): string {
  const text = existsSync(REFUSALS) ? readFileSync(REFUSALS, 'utf8') : '';
  rmSync(REFUSALS, { force: true });
  return text;
}

/** Pullback's own pull argv for one tree (core/pull), with ssh swapped for the stand-in above. */
function pullArgv(tree: string, dest: string, backend: 'hardlink' | 'btrfs'): string[] {
  const argv = buildPullArgv({
    remote: {
      user: 'reader',
      host: '127.0.0.2',
      port: 22,
      identityFile: '/nonexistent/key',
      knownHostsFile: '/nonexistent/known_hosts',
    },
    source: tree,
    excludes: ['*.tmp', '.cache/'],
    dest,
    ...(backend === 'hardlink'
      ? { linkDest: join(root, 'no-previous'), bwlimitKiB: 100_000 }
      : { inplace: true }),
  });
  argv[argv.indexOf('-e') + 1] = FAKE_SSH;
  return argv;
}

test('S3: an allowed rsync sender through the gate copies each tree', () => {
  const names = ['one', 'two', 'with space', '-dash', 'ünï', `q'uo"te`, '$dollar;semi'];
  const trees = names.map((name) => join(SRC, name));
  for (const backend of ['hardlink', 'btrfs'] as const) {
    for (const [n, name] of names.entries()) {
      const dest = join(root, `dest-${backend}`, '.incomplete', trees[n]!);
      mkdirSync(dest, { recursive: true });
      const [rsync = '', ...args] = pullArgv(trees[n]!, `${dest}/`, backend);
      const r = spawnSync(rsync, args, { env: gateEnv(trees), encoding: 'utf8' });
      assert.equal(r.status, 0, `${backend}: rsync failed: ${r.stderr}`);
      const i = SOURCE_DIRS.indexOf(name);
      const copied = join(dest, `file${i}.txt`);
      assert.equal(readFileSync(copied, 'utf8'), `content of ${name}\n`, `${backend}: ${copied}`);
      const [command, ...more] = loggedCommands();
      assert.equal(more.length, 0);
      assert.match(command ?? '', /^rsync --server --sender -lHogDtpAXrSe\.\S+ /);
    }
  }
  assert.equal(refusalReasons(), '');
});

test('S3: a pull of a source with a newline is refused cleanly and copies nothing', () => {
  const dest = join(root, 'dest-newline');
  mkdirSync(dest);
  const tree = join(SRC, 'new\nline');
  const r = spawnSync('rsync', ['-a', '-e', FAKE_SSH, `x@h:${tree}/`, `${dest}/`], {
    env: gateEnv([tree]),
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^REFUSED$/m);
  assert.doesNotMatch(r.stderr, /newline/);
  assert.match(refusalReasons(), /^REFUSED: the command contains a newline$/m);
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
    env: gateEnv([target]),
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^REFUSED$/m);
  assert.match(refusalReasons(), /^REFUSED: receiver mode is refused/m);
  assert.equal(existsSync(join(target, 'planted.txt')), false);
  assert.equal(
    spawnSync('find', [target, '-printf', '%p %s %T@\\n'], { encoding: 'utf8' }).stdout,
    before,
  );
  const [command] = loggedCommands();
  assert.match(command ?? '', /^rsync --server -\S+ \. /);
});

test('S3: the gate in check mode prints the argv it would run: confined to the tree, pinned as fd 3', () => {
  const tree = join(SRC, 'one');
  const r = runGateProcess(
    `rsync --server --sender -logDtpre.iLsfxCIvu --numeric-ids . ${tree}/`,
    [tree],
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
    `--confine-root=${tree}`,
    '.',
    '/proc/self/fd/3/',
  ]);
});

test('S3: a refused command makes the gate print exactly one generic REFUSED line; the reason goes to the client', () => {
  const tree = join(SRC, 'one');
  const command = `rsync --server --sender --remove-source-files . ${tree}/`;
  const checked = runGateProcess(command, [tree], { GATE_CHECK: '1' });
  assert.equal(checked.status, 1);
  assert.equal(checked.stdout, '');
  assert.equal(checked.stderr, 'REFUSED: --remove-source-files writes or deletes on the client\n');
  refusalReasons();
  const served = runGateProcess(command, [tree]);
  assert.equal(served.status, 1);
  assert.equal(served.stdout, '');
  assert.equal(served.stderr, 'REFUSED\n');
  assert.equal(
    refusalReasons(),
    'REFUSED: --remove-source-files writes or deletes on the client\n',
  );
  assert.ok(existsSync(join(SRC, 'one', 'file0.txt')));
});

test('S10: the gate refuses when SSH_ORIGINAL_COMMAND is missing or an allowed tree does not exist', () => {
  const missing = spawnSync(process.execPath, ['--input-type=module', '-e', RUNNER], {
    env: { ...gateEnv([SRC]), SSH_ORIGINAL_COMMAND: undefined },
    encoding: 'utf8',
  });
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, 'REFUSED\n');
  assert.equal(refusalReasons(), 'REFUSED: the command is empty (not run by a remote rsync)\n');
  const nowhere = join(root, 'nowhere');
  const noTree = runGateProcess(`rsync --server --sender -r . ${nowhere}/`, [nowhere]);
  assert.equal(noTree.status, 1);
  assert.equal(noTree.stderr, 'REFUSED\n');
  assert.match(refusalReasons(), /^REFUSED: tree ".*nowhere" does not exist\n$/);
});

test('the gate passes SIGTERM on to rsync and returns its exit status', async () => {
  const fakeRsync = join(root, 'fake-rsync.sh');
  const ready = join(root, 'fake-rsync.ready');
  writeFileSync(
    fakeRsync,
    `#!/bin/sh\n[ "$1" = --help ] && { echo ' --confine-root=DIR  refuse operator paths'; exit 0; }\ntrap 'exit 42' TERM\ntouch '${ready}'\nwhile :; do sleep 0.05; done\n`,
    { mode: 0o755 },
  );
  const tree = join(SRC, 'one');
  const gate = spawn(process.execPath, ['--input-type=module', '-e', RUNNER], {
    env: gateEnv([tree], {
      SSH_ORIGINAL_COMMAND: `rsync --server --sender -r . ${tree}/`,
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

test('S3: the gate refuses to run at all with an rsync that has no --confine-root (older than 3.5.0)', () => {
  const oldRsync = join(root, 'rsync-3.4.1');
  const ran = join(root, 'old-rsync-ran');
  writeFileSync(
    oldRsync,
    `#!/bin/sh\nif [ "$1" = --help ]; then echo 'rsync  version 3.4.1  protocol version 32'; echo ' --munge-links   munge symlinks'; exit 0; fi\ntouch '${ran}'\n`,
    { mode: 0o755 },
  );
  const tree = join(SRC, 'one');
  const r = runGateProcess(`rsync --server --sender -logDtpre.iLsfxCIvu . ${tree}/`, [tree], {
    GATE_RSYNC: oldRsync,
  });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'REFUSED\n');
  const reason = refusalReasons();
  assert.equal(reason.split('\n').length, 2, 'one line');
  assert.match(reason, /has no --confine-root: the gate needs rsync 3\.5\.0 or later/);
  assert.equal(existsSync(ran), false, 'the old rsync never ran as a sender');
  const checked = runGateProcess(`rsync --server --sender -logDtpre.iLsfxCIvu . ${tree}/`, [tree], {
    GATE_RSYNC: oldRsync,
    GATE_CHECK: '1',
  });
  assert.equal(checked.status, 1);
  assert.match(checked.stderr, /^MISSING_TOOL: .*rsync-3\.4\.1 has no --confine-root.*3\.5\.0/);
  refusalReasons();
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
