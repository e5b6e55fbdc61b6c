import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullbackCommand } from '../../core/self-command.js';

function freshClient() {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-cli-config-'));
  const home = join(dir, 'home');
  mkdirSync(join(home, 'Documents'), { recursive: true });
  const env = {
    ...process.env,
    HOME: home,
    PULLBACK_CONFIG_DIR: join(dir, 'config'),
    PULLBACK_STATE_DIR: join(dir, 'state'),
  };
  const run = (...args: string[]) => {
    const [node, ...rest] = pullbackCommand(...args);
    return spawnSync(node!, rest, { encoding: 'utf8', env, cwd: home, timeout: 30_000 });
  };
  const config = () => JSON.parse(readFileSync(join(dir, 'config', 'config.json'), 'utf8'));
  return { dir, home, run, config };
}

function assertOneLineRefusal(r: ReturnType<typeof spawnSync>, pattern: RegExp) {
  assert.notEqual(r.status, 0, `refused: ${String(r.stdout)}`);
  const lines = String(r.stderr).trim().split('\n');
  assert.equal(lines.length, 1, String(r.stderr));
  assert.match(lines[0]!, /^[A-Z_]+: /);
  assert.match(lines[0]!, pattern);
}

test('S10: init refuses a source that does not exist: one line, a code, non-zero, nothing written', () => {
  const c = freshClient();
  const r = c.run('init', '--source', join(c.home, 'Documnets'));
  assertOneLineRefusal(r, /NOT_FOUND: source .*Documnets does not exist/);
  assert.ok(!existsSync(join(c.dir, 'config')), 'no config dir, no identity key');
});

test('S10: config add-source refuses a source that does not exist, and leaves the config as it was', () => {
  const c = freshClient();
  assert.equal(c.run('init', '--source', join(c.home, 'Documents')).status, 0);
  const before = readFileSync(join(c.dir, 'config', 'config.json'), 'utf8');
  const r = c.run('config', 'add-source', '/media/usb-disk-not-there');
  assertOneLineRefusal(r, /does not exist/);
  assert.equal(readFileSync(join(c.dir, 'config', 'config.json'), 'utf8'), before);
});

test('R: overlapping sources are reduced to the outer one, with a note', () => {
  const c = freshClient();
  assert.equal(c.run('init', '--source', join(c.home, 'Documents')).status, 0);
  const r = c.run('config', 'add-source', c.home);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Documents is inside .*home, which is backed up already/);
  assert.deepEqual(c.config().sources, [c.home]);
  const again = c.run('config', 'add-source', 'Documents'); // relative to the cwd (home)
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /inside/);
  assert.deepEqual(c.config().sources, [c.home]);
});

test('R: init turns every exclude preset on; config presets lists them and disable/enable-preset turn one off and on', () => {
  const c = freshClient();
  const init = c.run('init');
  assert.equal(init.status, 0, init.stderr);
  assert.deepEqual(c.config().sources, [c.home], 'the home directory by default');
  assert.deepEqual(c.config().excludePresets, [
    'caches',
    'trash',
    'thumbnails',
    'package-caches',
    'browser-caches',
  ]);
  const list = c.run('config', 'presets');
  assert.equal(list.status, 0);
  assert.match(list.stdout, /^on +package-caches/m);
  assert.ok(list.stdout.includes(`- ${c.home}/.npm/_npx/`), list.stdout);
  assert.equal(c.run('config', 'disable-preset', 'caches').status, 0);
  assert.match(c.run('config', 'presets').stdout, /^off +caches/m);
  assert.ok(!c.config().excludePresets.includes('caches'));
  const typo = c.run('config', 'enable-preset', 'cache');
  assertOneLineRefusal(typo, /no exclude preset "cache" \(did you mean "caches"\?\)/);
  assert.equal(c.run('config', 'enable-preset', 'caches').status, 0);
  assert.ok(c.config().excludePresets.includes('caches'));
});

test('R: config add-exclude, remove-exclude, remove-source and remove-host change only what they say; show shows it', () => {
  const c = freshClient();
  assert.equal(c.run('init', '--source', join(c.home, 'Documents')).status, 0);
  assert.equal(c.run('config', 'add-exclude', '*.iso', '/srv/vm/').status, 0);
  assert.deepEqual(c.config().excludes, ['*.iso', '/srv/vm/']);
  assert.equal(c.run('config', 'remove-exclude', '*.iso').status, 0);
  assert.deepEqual(c.config().excludes, ['/srv/vm/']);
  assertOneLineRefusal(c.run('config', 'remove-exclude', '*.iso'), /not one of your exclude/);
  assertOneLineRefusal(c.run('config', 'remove-host', 'nas'), /no paired backup host "nas"/);
  const show = c.run('config', 'show');
  assert.equal(show.status, 0);
  assert.match(show.stdout, /^sources {2}.*Documents$/m);
  assert.match(show.stdout, /^always excluded .*id_ed25519/m);
  const json = JSON.parse(c.run('config', 'show', '--json').stdout);
  assert.deepEqual(json.excludes, ['/srv/vm/']);
  assert.ok(json.alwaysExcluded.some((p: string) => p.endsWith('/id_ed25519')));
  assert.equal(c.run('config', 'remove-source', join(c.home, 'Documents')).status, 0);
  assert.deepEqual(c.config().sources, []);
  assertOneLineRefusal(c.run('config', 'remove-source', '/nowhere'), /is not a source/);
  assertOneLineRefusal(c.run('config', 'frob'), /unknown subcommand "frob"/);
  assert.deepEqual(readdirSync(join(c.dir, 'config')).sort(), [
    'config.json',
    'id_ed25519',
    'id_ed25519.pub',
  ]);
});

test("R: config set-reach sets one host's reach (show shows it); a bad word or an unknown host is refused in one line, and backup --reach checks its word", () => {
  const c = freshClient();
  assert.equal(c.run('init', '--source', join(c.home, 'Documents')).status, 0);
  const file = join(c.dir, 'config', 'config.json');
  const hostKey =
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4rT3vTt99Ox5kndS4HmgTrKBT8SKzhK4rhGkEVGlCI';
  writeFileSync(
    file,
    JSON.stringify({
      ...c.config(),
      hosts: ['nas', 'vps'].map((name) => ({
        name,
        user: 'pullback',
        address: `${name}.example.org`,
        hostKey,
      })),
    }),
  );
  const set = c.run('config', 'set-reach', 'vps', 'tunnel');
  assert.equal(set.status, 0, set.stderr);
  assert.match(set.stdout, /backup host vps: reach tunnel/);
  assert.deepEqual(
    c.config().hosts.map((h: { name: string; reach?: string }) => [h.name, h.reach]),
    [
      ['nas', undefined],
      ['vps', 'tunnel'],
    ],
  );
  assert.match(c.run('config', 'show').stdout, /^host {5}vps: .*, reach tunnel$/m);
  const before = readFileSync(file, 'utf8');
  const bad = c.run('config', 'set-reach', 'vps', 'sideways');
  assert.equal(bad.status, 2);
  assertOneLineRefusal(
    bad,
    /BAD_ARGS: config set-reach: the reach must be one of auto, direct, tunnel, got "sideways"/,
  );
  assertOneLineRefusal(
    c.run('config', 'set-reach', 'office', 'direct'),
    /NOT_FOUND: no paired backup host "office" \(paired: nas, vps\)/,
  );
  assert.equal(readFileSync(file, 'utf8'), before, 'refusals change nothing');
  const backup = c.run('backup', '--reach', 'sideways');
  assert.equal(backup.status, 2);
  assertOneLineRefusal(
    backup,
    /BAD_ARGS: backup: --reach must be one of auto, direct, tunnel, got "sideways"/,
  );
});
