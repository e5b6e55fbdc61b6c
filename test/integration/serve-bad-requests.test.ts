import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeServerConfig, parseServerConfig } from '../../core/config/server-store.js';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { pullbackCommand } from '../../core/self-command.js';
import { REQUEST_SLOTS_DIR } from '../../core/server/request-slot.js';

let storage: string;
let configFile: string;
const k = generateKeyPair('k');
const h = generateKeyPair('h');
const good = {
  v: 1,
  type: 'backup',
  port: 40000,
  privateKey: k.privateKey,
  hostKey: h.publicKey,
  user: 'someone',
  sources: ['/home/someone'],
  excludes: [],
  options: {},
  clientVersion: '0.1.0',
};

before(() => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-serve-'));
  storage = join(dir, 'storage');
  mkdirSync(storage);
  configFile = join(dir, 'server.json');
  writeServerConfig(configFile, parseServerConfig({ storage }));
});

function serve(input: string | Buffer, env: Record<string, string> = {}) {
  const [node, ...args] = pullbackCommand('serve', '--client', 'laptop', '--config', configFile);
  return spawnSync(node!, args, {
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', SSH_CONNECTION: '127.0.0.2 40001 127.0.0.3 22', ...env },
    timeout: 30_000,
  });
}

const line = (o: unknown) => JSON.stringify(o) + '\n';

const BAD: [string, string | Buffer][] = [
  ['not JSON', 'hello there\n'],
  ['truncated JSON', '{"v":1,"type":"backup"\n'],
  ['a JSON array', '[1,2,3]\n'],
  ['a JSON string', '"backup"\n'],
  ['null', 'null\n'],
  ['an oversize line', 'x'.repeat(70 * 1024) + '\n'],
  ['an unknown type', line({ v: 1, type: 'delete' })],
  ['a wrong version', line({ ...good, v: 2 })],
  ['a missing version', line({ ...good, v: undefined })],
  ['port 0', line({ ...good, port: 0 })],
  ['port 70000', line({ ...good, port: 70000 })],
  ['a port that is a string', line({ ...good, port: '22' })],
  ['a fractional port', line({ ...good, port: 22.5 })],
  ['a host key that is not a key', line({ ...good, hostKey: 'not a key' })],
  ['a private key where the host public key belongs', line({ ...good, hostKey: k.privateKey })],
  ['a public key where the private key belongs', line({ ...good, privateKey: k.publicKey })],
  ['an rsa host key', line({ ...good, hostKey: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ' })],
  ['an unknown field', line({ ...good, extra: true })],
  ['an unknown option', line({ ...good, options: { deleteEverything: true } })],
  ['a relative source', line({ ...good, sources: ['home/someone'] })],
  ['a source with ..', line({ ...good, sources: ['/home/../etc'] })],
  ['no sources', line({ ...good, sources: [] })],
  ['sources that are not a list', line({ ...good, sources: '/etc' })],
  ['a user name with a shell metacharacter', line({ ...good, user: 'root;id' })],
  ['a negative bandwidth limit', line({ ...good, options: { bwlimitKiB: -1 } })],
  ['an exclude with a newline', line({ ...good, excludes: ['a\nb'] })],
  ['an empty request', '\n'],
  ['no newline before end of input', JSON.stringify(good)],
];

for (const [what, input] of BAD) {
  test(`S10: a handoff request with ${what} is answered with an error and nothing is written`, () => {
    const r = serve(input);
    assert.notEqual(r.status, 0, 'non-zero exit');
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `exactly one answer line, got: ${r.stdout}`);
    const answer = JSON.parse(lines[0]!) as { type: string; code: string; message: string };
    assert.equal(answer.type, 'error');
    assert.match(answer.code, /^(BAD_REQUEST|TIMEOUT)$/);
    assert.ok(answer.message.length > 0 && !answer.message.includes('\n'), 'a one-line reason');
    // only the (empty) directory of request slots: no client directory, no lock left
    assert.deepEqual(readdirSync(storage), [REQUEST_SLOTS_DIR], 'storage untouched');
    assert.deepEqual(readdirSync(join(storage, REQUEST_SLOTS_DIR)), [], 'no request slot left');
  });
}

test('S10: serve refuses to run outside an SSH forced command (no SSH_CONNECTION)', () => {
  const r = serve(line({ v: 1, type: 'hello', clientVersion: 'x' }), { SSH_CONNECTION: '' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /SSH_CONNECTION/);
});

test('S10: serve refuses a client name that could escape the storage root', () => {
  const [node, ...args] = pullbackCommand('serve', '--client', '../bob', '--config', configFile);
  const r = spawnSync(node!, args, {
    input: line({ v: 1, type: 'hello', clientVersion: 'x' }),
    encoding: 'utf8',
    env: { SSH_CONNECTION: '127.0.0.2 1 127.0.0.3 22' },
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /BAD_REQUEST|BAD_ARGS/);
});
