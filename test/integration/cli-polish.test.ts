import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullbackCommand } from '../../core/self-command.js';

function pullback(args: string[], env: NodeJS.ProcessEnv = process.env, asNobody = false) {
  const [node, ...rest] = pullbackCommand(...args);
  const drop = asNobody
    ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']
    : [];
  const [cmd, ...argv] = [...drop, node!, ...rest];
  return spawnSync(cmd!, argv, { encoding: 'utf8', env, timeout: 30_000 });
}

test('S10: an unknown flag gets one clean line with a "did you mean"', () => {
  const r = pullback(['backup', '--hots', 'nas']);
  assert.equal(r.status, 2);
  assert.equal(
    r.stderr.trim(),
    'BAD_ARGS: backup: unknown option --hots (did you mean --host?) (see --help)',
  );
  const far = pullback(['backup', '--frobnicate']);
  assert.equal(far.stderr.trim(), 'BAD_ARGS: backup: unknown option --frobnicate (see --help)');
});

test('S10: an unknown command gets a "did you mean" too', () => {
  const r = pullback(['snapshot']);
  assert.equal(r.status, 2);
  assert.match(
    r.stderr.trim(),
    /^BAD_ARGS: unknown command "snapshot" \(did you mean "snapshots"\?\)/,
  );
});

test('R: pullback with no command prints the help and exits 2', () => {
  const r = pullback([]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^Usage: pullback <command>/m);
  assert.match(r.stderr, /^ {2}config /m);
});

test('R: doctor and server status run by an account that cannot read a file say so in one line, never INTERNAL: EACCES', (t) => {
  if (process.getuid?.() !== 0)
    return t.skip('needs root to run the CLI as another account (nobody)');
  const dir = mkdtempSync(join(tmpdir(), 'pullback-eacces-'));
  chmodSync(dir, 0o755);
  const server = join(dir, 'server.json');
  writeFileSync(server, JSON.stringify({ storage: dir }), { mode: 0o600 }); // root's, 0600
  const status = pullback(
    ['server', 'status', '--config', server],
    { PATH: '/usr/bin:/bin' },
    true,
  );
  assert.notEqual(status.status, 0);
  assert.equal(status.stderr.trim().split('\n').length, 1, status.stderr);
  assert.doesNotMatch(status.stderr, /INTERNAL|EACCES/);
  assert.match(
    status.stderr,
    new RegExp(`^BAD_CONFIG: the account nobody is not allowed to open ${server}`),
  );
  const config = join(dir, 'config');
  spawnSync('mkdir', ['-m', '755', config]);
  writeFileSync(join(config, 'config.json'), '{}', { mode: 0o600 });
  const doctor = pullback(['doctor'], { PATH: '/usr/bin:/bin', PULLBACK_CONFIG_DIR: config }, true);
  assert.notEqual(doctor.status, 0);
  assert.doesNotMatch(doctor.stderr, /INTERNAL|EACCES/);
  assert.match(
    doctor.stderr.trim(),
    /^BAD_CONFIG: the account nobody is not allowed to open .*config\.json/,
  );
});
