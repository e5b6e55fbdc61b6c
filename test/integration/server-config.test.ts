import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import { serve } from '../../core/handoff/serve.js';
import { PROTOCOL_VERSION } from '../../core/handoff/messages.js';

/** S10 for the server config: a bad one gets one clear line naming the field; nothing is touched. */
function withConfig(t: { after: (fn: () => void) => void }, config: unknown) {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-server-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const storage = join(dir, 'storage');
  mkdirSync(join(storage, 'laptop', 'snapshots'), { recursive: true });
  const file = join(dir, 'server.json');
  const text =
    typeof config === 'string' ? config : JSON.stringify({ storage, ...(config as object) });
  writeFileSync(file, text);
  return { dir, storage, file, text };
}

const cases: [string, unknown, RegExp][] = [
  [
    'maxParallel 0',
    { maxParallel: 0 },
    /BAD_CONFIG: .*server\.json: maxParallel: .*greater than or equal to 1/,
  ],
  ['an unknown backend', { backend: 'zfs' }, /BAD_CONFIG: .*: backend: /],
  [
    'a relative storage path',
    { storage: 'backups' },
    /BAD_CONFIG: .*: storage: must be an absolute path/,
  ],
  [
    'a misspelt field',
    { maxParalel: 2 },
    /BAD_CONFIG: .*: \(top level\): Unrecognized key.*maxParalel/,
  ],
  [
    'a bad retention spec',
    { retention: '30d:daily,24h:all' },
    /BAD_CONFIG: .*: retention: "24h:all" must cover a longer age/,
  ],
  [
    "a bad client's retention",
    { clients: { laptop: { retention: '7d:sometimes' } } },
    /BAD_CONFIG: .*: clients\.laptop\.retention: "sometimes" in "7d:sometimes" is not one of/,
  ],
  [
    'a negative bandwidth limit',
    { clients: { laptop: { bwlimitKiB: -1 } } },
    /BAD_CONFIG: .*: clients\.laptop\.bwlimitKiB: /,
  ],
  ['not JSON', '{ "storage": ', /BAD_CONFIG: .*server\.json: not valid JSON/],
];

for (const [what, config, message] of cases) {
  test(`S10: a server config with ${what} is refused with the field named, and nothing is touched`, (t) => {
    const c = withConfig(t, config);
    const before = JSON.stringify(readdirSync(c.dir, { recursive: true }).sort());
    for (const args of [
      ['status'],
      ['prune'],
      ['snapshots', 'laptop'],
      ['add-client', 'laptop', '--key', 'ssh-ed25519 AAAA'],
    ]) {
      const r = spawnSync(
        process.execPath,
        [PULLBACK_CLI_SCRIPT, 'server', ...args, '--config', c.file],
        { encoding: 'utf8' },
      );
      assert.notEqual(r.status, 0, `server ${args[0]} accepted it`);
      assert.match(r.stderr.trim(), message, `server ${args[0]}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    }
    assert.equal(readFileSync(c.file, 'utf8'), c.text, 'the config file is unchanged');
    assert.equal(
      JSON.stringify(readdirSync(c.dir, { recursive: true }).sort()),
      before,
      'nothing was created or removed',
    );
  });
}

test('S10: serve with a bad config answers BAD_CONFIG naming the field and writes nothing', async (t) => {
  const c = withConfig(t, { maxParallel: 'many' });
  const input = new PassThrough();
  const output = new PassThrough();
  let answer = '';
  output.on('data', (d: Buffer) => (answer += d.toString()));
  input.write(JSON.stringify({ v: PROTOCOL_VERSION, type: 'list' }) + '\n');
  const code = await serve({
    client: 'laptop',
    configFile: c.file,
    input,
    output,
    env: { SSH_CONNECTION: '127.0.0.2 5000 127.0.0.3 22' },
  });
  assert.equal(code, 1);
  const reply = JSON.parse(answer.trim()) as { type: string; code: string; message: string };
  assert.equal(reply.type, 'error');
  assert.equal(reply.code, 'BAD_CONFIG');
  assert.match(reply.message, /maxParallel: Expected number/);
  assert.deepEqual(readdirSync(join(c.storage, 'laptop')), ['snapshots'], 'nothing written');
});
