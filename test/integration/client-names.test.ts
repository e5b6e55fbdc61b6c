import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import { parseServerConfig, writeServerConfig } from '../../core/config/server-store.js';
import { fingerprint, generateKeyPair } from '../../core/ssh/keys.js';

/** S7: a client's name cannot be taken over by a second machine that picked the same name. */
function backupHost() {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-names-'));
  const config = join(dir, 'server.json');
  writeServerConfig(config, parseServerConfig({ storage: join(dir, 'storage') }));
  const keys = join(dir, 'authorized_keys');
  const addClient = (name: string, key: string, ...extra: string[]) =>
    spawnSync(
      process.execPath,
      [
        PULLBACK_CLI_SCRIPT,
        'server',
        'add-client',
        name,
        '--key',
        key,
        '--config',
        config,
        '--authorized-keys',
        keys,
        ...extra,
      ],
      { encoding: 'utf8' },
    );
  return { keys, addClient };
}

const bare = (k: string) => k.split(' ').slice(0, 2).join(' ');

test('S7: add-client refuses a name that already has another key, with one line showing both fingerprints', () => {
  const host = backupHost();
  const first = generateKeyPair('first-vm');
  const second = generateKeyPair('second-vm');
  assert.equal(host.addClient('vm', first.publicKey).status, 0);
  const before = readFileSync(host.keys, 'utf8');
  const r = host.addClient('vm', second.publicKey);
  assert.equal(r.status, 2, `refused: ${r.stdout}${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^BAD_ARGS: client "vm" already has another key/);
  assert.ok(lines[0]!.includes(fingerprint(first.publicKey)), 'the existing fingerprint');
  assert.ok(lines[0]!.includes(fingerprint(second.publicKey)), 'the new fingerprint');
  assert.equal(readFileSync(host.keys, 'utf8'), before, 'authorized_keys unchanged');
  assert.ok(!before.includes(bare(second.publicKey)));
  // the same machine again is fine (idempotent)
  const again = host.addClient('vm', first.publicKey);
  assert.equal(again.status, 0);
  assert.match(again.stdout, /already present: client vm/);
});

test('S7: add-client --replace-key replaces the key and says so', () => {
  const host = backupHost();
  const old = generateKeyPair('old');
  const fresh = generateKeyPair('new');
  assert.equal(host.addClient('laptop', old.publicKey).status, 0);
  const r = host.addClient('laptop', fresh.publicKey, '--replace-key');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /replaced client laptop's key/);
  assert.ok(
    r.stdout.includes(fingerprint(old.publicKey)) &&
      r.stdout.includes(fingerprint(fresh.publicKey)),
  );
  const keys = readFileSync(host.keys, 'utf8');
  assert.ok(keys.includes(bare(fresh.publicKey)), 'the new key gets in');
  assert.ok(!keys.includes(bare(old.publicKey)), 'the old key does not');
  assert.equal(keys.trim().split('\n').length, 1, 'one entry for the name');
});

const IS_ROOT = process.getuid?.() === 0;

/** `pullback init` on a "machine" with this hostname and machine id (mount + UTS namespace). */
function initOnMachine(hostname: string, machineId: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-names-machine-'));
  const idFile = join(dir, 'machine-id');
  writeFileSync(idFile, machineId + '\n');
  const r = spawnSync(
    'unshare',
    [
      '--mount',
      '--uts',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'hostname "$1" && mount --bind "$2" /etc/machine-id && exec "$3" "$4" init --source "$5"',
      'sh',
      hostname,
      idFile,
      process.execPath,
      PULLBACK_CLI_SCRIPT,
      dir,
    ],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        PULLBACK_CONFIG_DIR: join(dir, 'config'),
        PULLBACK_STATE_DIR: join(dir, 'state'),
      },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const name = (
    JSON.parse(readFileSync(join(dir, 'config', 'config.json'), 'utf8')) as { name: string }
  ).name;
  return { name, stdout: r.stdout };
}

test('S7: two machines with the same hostname get different default names from init, and init says which', (t) => {
  if (!IS_ROOT)
    return t.skip('needs root: a mount and UTS namespace stand in for a second machine');
  const a = initOnMachine('vm', randomBytes(16).toString('hex'));
  const b = initOnMachine('vm', randomBytes(16).toString('hex'));
  assert.match(a.name, /^vm-[0-9a-f]{6}$/);
  assert.match(b.name, /^vm-[0-9a-f]{6}$/);
  assert.notEqual(a.name, b.name, 'two laptops called "vm" do not collide');
  assert.ok(a.stdout.includes(`this machine's name on backup hosts: ${a.name}`), a.stdout);
  const id = randomBytes(16).toString('hex');
  assert.equal(initOnMachine('vm', id).name, initOnMachine('vm', id).name, 'stable on one machine');
});
