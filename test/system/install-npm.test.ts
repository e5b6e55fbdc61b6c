import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNNING_APP_ROOT } from '../../core/system/app-copy.js';
import { exerciseInstalledProgram, IS_ROOT, NEEDS_ROOT } from './install-harness.js';

function npm(args: string[], cwd: string) {
  const r = spawnSync('npm', args, { encoding: 'utf8', cwd, timeout: 300_000 });
  assert.equal(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}`);
  return r;
}

test('R: npm pack + npm install -g into a prefix gives a pullback that works for another account, after an upgrade too', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const dir = mkdtempSync(join(tmpdir(), 'pullback-npm-install-'));
  chmodSync(dir, 0o755);
  try {
    // dist/ is built already (the test runs from it); prepack would only build it again
    npm(['pack', '--ignore-scripts', '--pack-destination', dir], RUNNING_APP_ROOT);
    const tgz = join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('.tgz'))!,
    );
    const prefix = join(dir, 'prefix');
    const install = () =>
      npm(['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tgz], dir);
    install();
    const program = join(prefix, 'bin', 'pullback');
    const forced = await exerciseInstalledProgram([program], install);
    assert.match(
      forced,
      new RegExp(`command="${process.execPath} ${program} serve --client `),
      'the forced command runs the npm global bin, a path that survives upgrades',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
