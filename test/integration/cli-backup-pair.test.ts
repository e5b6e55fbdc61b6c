import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pullbackCommand } from '../../core/self-command.js';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { writeClientConfig, parseClientConfig } from '../../core/config/client-store.js';
import { fingerprint } from '../../core/ssh/keys.js';

let host: BackupHost;
before(async () => {
  host = await startBackupHost();
});
after(async () => {
  await host?.stop();
});

function pullback(env: NodeJS.ProcessEnv, ...args: string[]) {
  const [node, ...rest] = pullbackCommand(...args);
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(node!, rest, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('R: a missing source among several does not block the others: backed up, warned, recorded in the metadata; own key, state and presets excluded', async () => {
  const home = join(host.dir, 'alice');
  const docs = join(home, 'Documents');
  const usb = join(host.dir, 'media-usb'); // configured, not "plugged in"
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, 'thesis.txt'), 'chapter 1\n');
  for (const junk of ['.cache/fontconfig', '.npm/_npx/1a2b', '.local/share/Trash/files'])
    mkdirSync(join(home, junk), { recursive: true });
  writeFileSync(join(home, '.npm/_npx/1a2b/package.json'), '{}');
  writeFileSync(join(home, '.cache/fontconfig/x.cache'), 'x');
  const client = await makeTestClient(host, { sources: [home, usb] });
  // Pullback's own files live in the backed-up home, as they do for real users
  const env = {
    ...client.env,
    HOME: home,
    PULLBACK_CONFIG_DIR: join(home, '.config/pullback'),
    PULLBACK_STATE_DIR: join(home, '.local/state/pullback'),
  };
  mkdirSync(env.PULLBACK_CONFIG_DIR, { recursive: true, mode: 0o700 });
  for (const f of ['config.json', 'id_ed25519', 'id_ed25519.pub'])
    writeFileSync(
      join(env.PULLBACK_CONFIG_DIR, f),
      readFileSync(join(client.env.PULLBACK_CONFIG_DIR!, f)),
      { mode: f === 'id_ed25519' ? 0o600 : 0o644 },
    );
  writeClientConfig(
    parseClientConfig({ ...client.config, excludePresets: ['caches', 'package-caches', 'trash'] }),
    env,
  );
  const r = await pullback(env, 'backup', '--json');
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, new RegExp(`source ${usb} is missing`));
  const done = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .find((m) => m.type === 'done');
  assert.deepEqual(done.missingSources, [usb]);
  const snapshots = join(host.storage, client.name, 'snapshots');
  const meta = JSON.parse(
    readFileSync(
      join(
        snapshots,
        readdirSync(snapshots).find((f) => f.endsWith('.json'))!,
      ),
      'utf8',
    ),
  );
  assert.deepEqual(meta.missingSources, [usb], 'the snapshot says which source was missing');
  assert.deepEqual(meta.sources, [home]);
  const latest = join(host.storage, client.name, 'latest');
  assert.equal(readFileSync(join(latest, docs, 'thesis.txt'), 'utf8'), 'chapter 1\n');
  assert.ok(existsSync(join(latest, home, '.config/pullback/config.json')), 'settings are kept');
  for (const never of [
    '.config/pullback/id_ed25519',
    '.local/state/pullback',
    '.cache',
    '.npm/_npx',
    '.local/share/Trash',
  ])
    assert.ok(!existsSync(join(latest, home, never)), `${never} is not in the snapshot`);
});

test('R: with every source missing the backup refuses with one line and no snapshot', async () => {
  const client = await makeTestClient(host, { sources: [join(host.dir, 'gone-1')] });
  const r = await pullback(client.env, 'backup');
  assert.equal(r.status, 2);
  assert.match(r.stderr.trim(), /^home: BAD_CONFIG: none of the sources is there/);
  assert.ok(!existsSync(join(host.storage, client.name, 'latest')));
});

test('R: the file count of the progress stays put while a big file is transferred', async () => {
  const src = join(host.dir, 'progress-src');
  mkdirSync(src);
  for (let i = 0; i < 5; i++) writeFileSync(join(src, `a${i}.txt`), `small ${i}\n`);
  writeFileSync(join(src, 'z-big.bin'), randomBytes(6 * 1024 * 1024));
  const client = await makeTestClient(host, { sources: [src] });
  writeClientConfig(
    parseClientConfig({
      ...client.config,
      hosts: [{ ...client.config.hosts[0]!, bwlimitKiB: 2048 }], // about 3 s for the big file
    }),
    client.env,
  );
  const r = await pullback(client.env, 'backup', '--json');
  assert.equal(r.status, 0, r.stderr);
  const counts = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((m) => m.type === 'progress')
    .map((m) => m.files as number);
  const firstCounted = counts.findIndex((n) => n > 0);
  assert.ok(
    firstCounted >= 0 && counts.length - firstCounted >= 3,
    `progress: ${counts.join(' ')}`,
  );
  for (let i = firstCounted + 1; i < counts.length; i++)
    assert.ok(counts[i]! >= counts[i - 1]!, `the count never drops back: ${counts.join(' ')}`);
});

test('S6: re-pairing a host whose key changed shows old and new fingerprints and needs --replace-host-key, even with --yes', async () => {
  const client = await makeTestClient(host, { sources: [host.dir] });
  const old = fingerprint(host.hostKey);
  await host.replaceHostKey();
  const now = fingerprint(host.hostKey);
  const target = `${host.user}@${host.address}:${host.port}`;
  const args = ['pair', target, '--name', 'home', '--local-address', '127.0.0.2'];
  const refused = await pullback(client.env, ...args, '--yes');
  assert.equal(refused.status, 5, refused.stderr);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
  assert.match(refused.stderr, /HOST_KEY_MISMATCH: .*changed/);
  assert.ok(refused.stderr.includes(old) && refused.stderr.includes(now), refused.stderr);
  const pinned = JSON.parse(
    readFileSync(join(client.env.PULLBACK_CONFIG_DIR!, 'config.json'), 'utf8'),
  );
  assert.equal(fingerprint(pinned.hosts[0].hostKey), old, 'the old pin is kept');
  const replaced = await pullback(client.env, ...args, '--yes', '--replace-host-key');
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.ok(replaced.stdout.includes(old) && replaced.stdout.includes(now));
  assert.match(replaced.stdout, /paired/);
});

test('R: pair tells "not added on the backup host yet" apart, and --wait exits non-zero on timeout', async () => {
  const dir = join(host.dir, 'fresh-client');
  const env = {
    ...process.env,
    PULLBACK_CONFIG_DIR: join(dir, 'config'),
    PULLBACK_STATE_DIR: join(dir, 'state'),
  };
  mkdirSync(dir, { recursive: true });
  assert.equal((await pullback(env, 'init', '--source', host.dir)).status, 0);
  const target = `${host.user}@${host.address}:${host.port}`;
  const base = ['pair', target, '--name', 'home', '--local-address', '127.0.0.2', '--yes'];
  const noWait = await pullback(env, ...base);
  assert.equal(noWait.status, 0, noWait.stderr);
  assert.match(noWait.stdout, /not added on the backup host yet/);
  const waited = await pullback(env, ...base, '--wait', '3');
  assert.equal(waited.status, 5, waited.stdout);
  assert.match(waited.stderr.trim(), /^AUTH_FAILED: not added on the backup host yet: .*after 3 s/);
  // Added, but the backup host's own config is broken: another refusal, said as such.
  const publicKey = readFileSync(join(dir, 'config', 'id_ed25519.pub'), 'utf8').trim();
  const ownConfig = join(host.dir, 'fresh-server.json');
  writeFileSync(ownConfig, readFileSync(host.configFile));
  const [node, ...add] = pullbackCommand(
    'server',
    'add-client',
    'fresh',
    '--key',
    publicKey,
    '--config',
    ownConfig,
    '--authorized-keys',
    host.authorizedKeys,
  );
  assert.equal(spawnSync(node!, add).status, 0);
  writeFileSync(ownConfig, '{"storage": 7}');
  const broken = await pullback(env, ...base);
  assert.notEqual(broken.status, 0);
  assert.doesNotMatch(broken.stdout + broken.stderr, /not added/);
  assert.match(broken.stderr.trim(), /^[A-Z_]+: /);
  writeFileSync(ownConfig, readFileSync(host.configFile));
  const accepted = await pullback(env, ...base);
  assert.equal(accepted.status, 0, accepted.stderr);
  assert.match(accepted.stdout, /paired: the backup host knows us as "fresh"/);
  rmSync(ownConfig);
});
