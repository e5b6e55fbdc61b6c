import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { knownHostsLine } from '../../core/ssh/hostkey-pin.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { descendantsOf } from '../../core/process-tree.js';

/*
 * A hostile backup host, as it would attack for real: stock rsync 3.5.0 as the receiver,
 * against the real gate behind the real one-shot sshd (user mode, this process's user), from
 * 127.0.0.3 to 127.0.0.2. A local account (uid 65534, "nobody") owns a directory inside the
 * tree and races it. Nothing outside the configured trees may arrive, and nothing the sender
 * says may tell whether a path outside them exists.
 */
const IS_ROOT = process.getuid?.() === 0;
const NEEDS_ROOT = 'needs root: another account (uid 65534) must own a directory in the tree';
const CLIENT_IP = '127.0.0.2';
const BACKUP_HOST_IP = '127.0.0.3';
const ATTACKER = 65534;
const SECRET = 'SECRET-CONTENT-4f1c';
const WORDS_SECRET = 'alpha beta'; // names of files in the tree: excluded if the sender read it

let work: string;
let tree: string;
let secretDir: string;
let delaySsh: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pullback-hostile-'));
  chmodSync(work, 0o755); // the attacker must reach its own directory
  tree = join(work, 'tree');
  mkdirSync(tree);
  for (const name of ['alpha', 'beta', 'gamma']) writeFileSync(join(tree, name), `${name}\n`);
  // a root-only directory outside the tree, holding a file of the same name as one inside
  secretDir = join(work, 'secret');
  mkdirSync(secretDir, { mode: 0o700 });
  writeFileSync(join(secretDir, 'inner.txt'), `${SECRET}\n`, { mode: 0o600 });
  // root-only filter files: rules for `merge`, one pattern a line for `merge,-`
  writeFileSync(join(secretDir, 'rules'), '- alpha\n- beta\n', { mode: 0o600 });
  writeFileSync(join(secretDir, 'words'), 'alpha\nbeta\n', { mode: 0o600 });
  // an ancestor's file, as /home/alice/.netrc is for the tree /home/alice/Documents
  writeFileSync(join(work, '.netrc'), `machine x login ${WORDS_SECRET}\n`, { mode: 0o600 });
  // The receiver's ssh, holding back its protocol bytes so a race can be won at leisure; it
  // ends with ssh (a shell pipeline through cat would wait for rsync, which waits for it).
  delaySsh = join(work, 'delay-ssh.mjs');
  writeFileSync(
    delaySsh,
    `#!${process.execPath}
import { spawn } from 'node:child_process';
const ssh = spawn('ssh', process.argv.slice(2), { stdio: ['pipe', 'inherit', 'inherit'] });
ssh.stdin.on('error', () => {});
setTimeout(() => process.stdin.pipe(ssh.stdin), Number(process.env.PULL_DELAY ?? 0) * 1000);
ssh.on('exit', (code) => process.exit(code ?? 255));
`,
    { mode: 0o755 },
  );
});
after(() => rmSync(work, { recursive: true, force: true }));

/** The attacker's directory m/ (uid 65534) inside the tree, with d/ in it. */
function attackerDir(parent: string): { m: string; d: string } {
  const m = join(parent, 'm');
  const d = join(m, 'd');
  rmSync(m, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'inner.txt'), 'inner\n');
  for (const path of [m, d, join(d, 'inner.txt')]) chownSync(path, ATTACKER, ATTACKER);
  return { m, d };
}

/** As the attacker: replace `<m>/d` by a symlink to the secret directory. */
function swapForSymlink(m: string): void {
  const r = spawnSync(
    'setpriv',
    [
      `--reuid=${ATTACKER}`,
      `--regid=${ATTACKER}`,
      '--clear-groups',
      '--',
      'sh',
      '-c',
      `cd '${m}' && mv d d.orig && ln -s '${secretDir}' d`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `the swap failed: ${r.stderr}`);
}

function senderRunning(): boolean {
  return descendantsOf([process.pid]).some((p) => {
    try {
      const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
      return /(^|\/)rsync$/.test(argv[0] ?? '') && argv.includes('--sender');
    } catch {
      return false;
    }
  });
}

async function waitFor(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface HostilePull {
  code: number | null;
  stdout: string;
  stderr: string;
  dest: string;
  /** what the client keeps for its own log */
  refusals: string[];
}

/**
 * One hostile pull: the client's real one-shot (gate allowing `sources`), and stock rsync
 * pulling `path` with `args`. `during` runs once the receiver's stdout matches `when` (or, with
 * no `when`, once the gate has started the sender).
 */
async function hostilePull(o: {
  sources: string[];
  path: string;
  args?: string[];
  delaySeconds?: number;
  when?: RegExp;
  during?: () => void;
}): Promise<HostilePull> {
  const K = generateKeyPair('hostile-K');
  const H = generateKeyPair('hostile-H');
  const shot = await launchUserOneShot({
    bindAddress: CLIENT_IP,
    allowFrom: BACKUP_HOST_IP,
    clientPublicKey: K.publicKey,
    hostPrivateKey: H.privateKey,
    sources: o.sources,
    deadlineMs: 60_000,
  });
  const dir = mkdtempSync(join(work, 'host-'));
  const key = join(dir, 'K');
  writeFileSync(key, K.privateKey, { mode: 0o600 });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, knownHostsLine(CLIENT_IP, shot.port, H.publicKey) + '\n');
  const dest = join(dir, 'dest');
  const ssh = [
    delaySsh,
    '-F /dev/null',
    `-i ${key}`,
    `-p ${shot.port}`,
    `-o UserKnownHostsFile=${knownHosts}`,
    '-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes',
    '-o IdentitiesOnly=yes -o BatchMode=yes',
    `-b ${BACKUP_HOST_IP}`,
  ].join(' ');
  const child = spawn(
    'rsync',
    [
      '-a',
      '--no-inc-recursive',
      ...(o.args ?? []),
      '-e',
      ssh,
      `${shot.user}@${CLIENT_IP}:${o.path}`,
      `${dest}/`,
    ],
    {
      env: { ...process.env, PULL_DELAY: String(o.delaySeconds ?? 0), LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    if (o.during) {
      const when = o.when;
      await waitFor(
        when ? `receiver output ${when}` : 'the gate to start the sender',
        when ? () => when.test(stdout) : senderRunning,
      );
      o.during();
    }
    const exit = await code;
    await shot.stop();
    return { code: exit, stdout, stderr, dest, refusals: await shot.gateRefusals() };
  } finally {
    await shot.stop();
  }
}

function treeText(dir: string): string {
  if (!existsSync(dir)) return '';
  const r = spawnSync('grep', ['-r', '-a', '-h', '', dir], { encoding: 'utf8' });
  return r.stdout;
}

test('S3: a directory swapped for a symlink while the backup host holds back its bytes leaks nothing (pinned before rsync opens it)', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const { m, d } = attackerDir(tree);
  const r = await hostilePull({
    sources: [d],
    path: `${d}/`,
    delaySeconds: 3,
    during: () => swapForSymlink(m),
  });
  const got = treeText(r.dest);
  assert.doesNotMatch(got, new RegExp(SECRET), 'the secret directory arrived on the backup host');
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
  // the pinned directory itself (now named d.orig) is what was served
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(r.dest, 'inner.txt'), 'utf8'), 'inner\n');
});

test('S3: a tree reached through a symlink another account planted is refused, and nothing is sent', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const { m, d } = attackerDir(tree);
  swapForSymlink(m);
  const r = await hostilePull({ sources: [d], path: `${d}/` });
  assert.notEqual(r.code, 0);
  assert.equal(treeText(r.dest), '');
  assert.match(r.refusals.join('\n'), /symlink owned by uid 65534/);
});

test('S3: a directory swapped during the transfer (after the file list, before the file is opened) leaks nothing', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const { m } = attackerDir(tree);
  // a big file sent first and slowly, so the swap lands between the file list and m/d's open
  writeFileSync(join(tree, '0-big.bin'), Buffer.alloc(2 * 1024 * 1024, 1));
  try {
    const r = await hostilePull({
      sources: [tree],
      path: `${tree}/`,
      args: ['-v', '--progress', '--bwlimit=512'],
      when: /0-big\.bin/,
      during: () => swapForSymlink(m),
    });
    const got = treeText(r.dest);
    assert.doesNotMatch(got, new RegExp(SECRET), 'rsync followed the swapped directory');
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
    // rsync 3.5.0 opens each component O_NOFOLLOW beneath the transfer root: the file is
    // reported as not sent (exit 23), never read through the link
    assert.equal(existsSync(join(r.dest, 'm', 'd', 'inner.txt')), false);
    assert.equal(r.code, 23, r.stderr);
  } finally {
    rmSync(join(tree, '0-big.bin'), { force: true });
  }
});

/**
 * The receiver's own view, with what differs between two runs anyway blanked: numbers, its
 * own scratch directory, the rule's file name, and the order in which stdout and stderr mix.
 */
function normalised(r: HostilePull, name: string): string {
  return (r.stdout + r.stderr)
    .replaceAll(name, '<merge-file>')
    .replace(/\/host-[^/\s]+/g, '/host-X')
    .replace(/(^|[ /])\.([^ /]+)\.[A-Za-z0-9]{6}(?=[ \n]|$)/gm, '$1.$2.XXXXXX') // rsync's temp names
    .split('\n')
    .filter((l) => !/bytes\/sec|speedup|^total:/.test(l))
    .map((l) => l.replace(/\d+/g, '#'))
    .sort()
    .join('\n');
}

test('S3: an ancestor dir-merge from the backup host reads nothing outside the tree, and tells no existing from a missing file', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const runs: HostilePull[] = [];
  for (const file of ['.netrc', '.missing']) {
    const r = await hostilePull({
      sources: [tree],
      path: `${tree}/`,
      args: [`--filter=:-ws ${join(work, file)}`, '-vvvv'],
    });
    assert.equal(r.code, 0, r.stderr);
    for (const name of ['alpha', 'beta', 'gamma'])
      assert.ok(existsSync(join(r.dest, name)), `${name} was excluded: the sender read ${file}`);
    assert.doesNotMatch(r.stdout + r.stderr, /login|machine x/);
    runs.push(r);
  }
  assert.equal(normalised(runs[0]!, '.netrc'), normalised(runs[1]!, '.missing'));
});

test('S3: merge and exclude-only merge of files outside the tree read nothing, and the outcome is the same for a missing file', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  // Stock rsync reads a receiver's own `merge` rules itself; a backup host gets a merge to the
  // sender through a per-directory file. The local account plants one in the directory it owns.
  const { m } = attackerDir(tree);
  for (const name of ['alpha', 'beta']) {
    writeFileSync(join(m, name), `${name}\n`);
    chownSync(join(m, name), ATTACKER, ATTACKER);
  }
  const outcomes: string[] = [];
  for (const rule of [
    `merge ${join(secretDir, 'rules')}`,
    `merge,- ${join(secretDir, 'words')}`,
    `merge,- ${join(secretDir, 'missing')}`,
  ]) {
    writeFileSync(join(m, '.rules'), `${rule}\n`);
    chownSync(join(m, '.rules'), ATTACKER, ATTACKER);
    const r = await hostilePull({
      sources: [tree],
      path: `${tree}/`,
      args: ['--filter=: .rules', '-vvvv'],
    });
    assert.doesNotMatch(r.stdout + r.stderr, /alpha beta/, `${rule}: the words were echoed`);
    // nothing in m/ was excluded by words the sender should not have read
    for (const name of ['alpha', 'beta'])
      assert.ok(
        !existsSync(join(r.dest, 'm')) || existsSync(join(r.dest, 'm', name)),
        `${rule}: m/${name} went missing: the sender read the outside file`,
      );
    outcomes.push(`${r.code} ${normalised(r, rule.split(' ')[1]!)}`);
  }
  assert.equal(outcomes[1], outcomes[2], 'an existing and a missing outside file look the same');
});

test('S3: a refused command tells the backup host only REFUSED; the reason stays in the client log', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  for (const path of [`${tree}/gamma`, `${join(work, 'no-such-dir')}/`, `${secretDir}/`]) {
    const r = await hostilePull({ sources: [tree], path });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^REFUSED$/m);
    assert.doesNotMatch(r.stderr, /REFUSED:/);
    assert.ok(!r.stderr.includes(work), `a path reached the backup host: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /exist|resolves|allowed|symlink|tree/);
    assert.match(r.refusals.join('\n'), /not one of the allowed trees/);
  }
});

test('S3: the real pull still works when the gate refuses everything but the configured trees', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const r = await hostilePull({ sources: [tree], path: `${tree}/` });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(r.dest, 'gamma'), 'utf8'), 'gamma\n');
  assert.deepEqual(r.refusals, []);
});
