import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullbackCommand, PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';

// System mode: the gate runs as the reader account without effective capabilities, so it may
// not see into a source's parents. It then serves exactly the allowed tree, nothing below it.
const isRoot = process.getuid?.() === 0;

function gateAsNobody(allow: string, path: string, ...extra: string[]) {
  const argv = pullbackCommand('gate', '--allow', allow, '--check', ...extra);
  return spawnSync(
    'setpriv',
    ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', '--', ...argv],
    {
      encoding: 'utf8',
      env: {
        PATH: '/usr/bin:/bin',
        SSH_ORIGINAL_COMMAND: `rsync --server --sender -lHogDtpAXrSe.LsfxCIvu --numeric-ids . ${path}`,
      },
    },
  );
}

test('S3: behind an unreadable parent the gate serves exactly the allowed tree and refuses paths below it', (t) => {
  if (!isRoot)
    return t.skip('needs root: makes a root-only 0700 parent and runs the gate as nobody');
  const script = PULLBACK_CLI_SCRIPT;
  const readable = spawnSync('setpriv', [
    '--reuid',
    'nobody',
    '--regid',
    'nogroup',
    '--clear-groups',
    '--',
    'test',
    '-r',
    script,
  ]);
  if (readable.status !== 0)
    return t.skip(
      `nobody cannot read this checkout (${script}): clone it somewhere world-readable to run this test`,
    );
  const parent = mkdtempSync(join(tmpdir(), 'pullback-hidden-'));
  chmodSync(parent, 0o700);
  const source = join(parent, 'src');
  mkdirSync(join(source, 'sub'), { recursive: true });
  // only with the root helper's word that no ancestor can be swapped (system mode), by name
  const exact = gateAsNobody(source, `${source}/`, '--ancestors-checked');
  assert.equal(exact.status, 0, exact.stderr);
  assert.match(exact.stdout, new RegExp(`"--confine-root=${source}",".","${source}/"`));
  const unvetted = gateAsNobody(source, `${source}/`);
  assert.notEqual(unvetted.status, 0);
  assert.match(unvetted.stderr, /^REFUSED: tree .* cannot be reached/);
  const below = gateAsNobody(source, `${join(source, 'sub')}/`, '--ancestors-checked');
  assert.notEqual(below.status, 0);
  assert.match(below.stderr, /^REFUSED: /);
  const sideways = gateAsNobody(source, `${join(parent, 'other')}/`, '--ancestors-checked');
  assert.notEqual(sideways.status, 0);
});
