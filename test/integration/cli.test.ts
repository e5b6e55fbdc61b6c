import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullbackCommand } from '../../core/self-command.js';

function pullback(args: string[], env: Record<string, string> = {}, input?: string) {
  const [node, ...rest] = pullbackCommand(...args);
  return spawnSync(node!, rest, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    input,
    timeout: 30_000,
  });
}

function freshEnv() {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-cli-'));
  return {
    dir,
    env: { PULLBACK_CONFIG_DIR: join(dir, 'config'), PULLBACK_STATE_DIR: join(dir, 'state') },
  };
}

const COMMANDS = [
  'init',
  'pair',
  'config',
  'backup',
  'snapshots',
  'ls',
  'versions',
  'restore',
  'server',
  'system',
  'agent',
  'doctor',
  'serve',
  'gate',
];

test('pullback --help lists every command', () => {
  const r = pullback(['--help']);
  assert.equal(r.status, 0);
  for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
});

for (const c of COMMANDS) {
  test(`pullback ${c} --help explains the command and exits 0`, () => {
    const r = pullback([c, '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: pullback /);
  });
}

const BAD_ARGS: [string, string[]][] = [
  ['an unknown command', ['frobnicate']],
  ['an unknown option', ['backup', '--frobnicate']],
  ['a missing option value', ['server', 'init', '--storage']],
  ['an unknown server subcommand', ['server', 'explode']],
  ['a bad pair target', ['pair', 'not a host']],
  ['a pair port out of range', ['pair', 'me@host:70000', '--yes']],
  ['a bad --wait', ['pair', 'me@127.0.0.3', '--wait', 'soon']],
  ['a bad init mode', ['init', '--mode', 'root']],
  [
    'a relative storage path that cannot be made',
    ['server', 'add-client', 'x/y', '--key', 'ssh-ed25519 AAAA'],
  ],
  ['too many arguments', ['server', 'snapshots', 'a', 'b']],
  ['a restore both --to and --in-place', ['restore', '/home/me/a', '--to', '/tmp', '--in-place']],
  ['a restore path with ".."', ['restore', '/home/me/../../etc/shadow']],
  ['a relative restore path', ['restore', 'docs']],
  [
    'a restore with --snapshot and --before',
    ['restore', '/a', '--snapshot', 'latest', '--before', '2026-01-01'],
  ],
  ['versions without a path', ['versions']],
];

for (const [what, args] of BAD_ARGS) {
  test(`S10: the CLI answers ${what} with one line, a code and exit 2, writing nothing`, () => {
    const { dir, env } = freshEnv();
    const r = pullback(args, env);
    assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^[A-Z_]+: /);
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
  });
}

test('S10: a broken client config is a one-line BAD_CONFIG naming the field, and is left as it was', () => {
  const { env } = freshEnv();
  mkdirSync(env.PULLBACK_CONFIG_DIR, { recursive: true });
  const file = join(env.PULLBACK_CONFIG_DIR, 'config.json');
  writeFileSync(file, JSON.stringify({ sources: ['relative/path'] }));
  const before = statSync(file).mtimeMs;
  const r = pullback(['init', '--source', '/tmp'], env);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^BAD_CONFIG: .*sources\.0: must be an absolute path/);
  assert.equal(statSync(file).mtimeMs, before);
});

test('backup before init says how to start, exit 2', () => {
  const { env } = freshEnv();
  const r = pullback(['backup'], env);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /pullback init|pullback pair/);
});

test('init creates a 0600 identity key in a 0700 directory and a valid config', () => {
  const { env } = freshEnv();
  const r = pullback(['init', '--source', '/tmp', '--name', 'laptop'], env);
  assert.equal(r.status, 0, r.stderr);
  const key = join(env.PULLBACK_CONFIG_DIR, 'id_ed25519');
  assert.ok(existsSync(key));
  assert.equal(statSync(key).mode & 0o777, 0o600);
  assert.equal(statSync(env.PULLBACK_CONFIG_DIR).mode & 0o777, 0o700);
  const again = pullback(['init'], env);
  assert.match(again.stdout, /kept identity key/);
});

test('gate --check prints the argv for an allowed sender and REFUSED for a receiver', () => {
  const ok = pullback(['gate', '--allow', '/tmp', '--check'], {
    SSH_ORIGINAL_COMMAND: 'rsync --server --sender -logDtpre.iLsfxCIvu --numeric-ids . /tmp/',
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(Array.isArray(JSON.parse(ok.stdout)));
  const refused = pullback(['gate', '--allow', '/tmp', '--check'], {
    SSH_ORIGINAL_COMMAND: 'rsync --server -logDtpre.iLsfxCIvu . /tmp/',
  });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr.trim(), /^REFUSED: /);
});

test('doctor finds rsync, ssh and sshd and prints their versions', () => {
  const r = pullback(['doctor']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const tool of ['rsync', 'ssh', 'sshd'])
    assert.match(r.stdout, new RegExp(`^ok +${tool} +\\d`, 'm'));
});
