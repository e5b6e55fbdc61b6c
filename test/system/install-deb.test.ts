import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCliDeb } from '../../scripts/dist-cli.js';
import { exerciseInstalledProgram, IS_ROOT, NEEDS_ROOT } from './install-harness.js';

function dpkgDeb(args: string[]) {
  const r = spawnSync('dpkg-deb', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `dpkg-deb ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('R: the headless .deb (npm run dist:cli) installs pullback, its units and docs; it works for another account, after an upgrade too', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const dir = mkdtempSync(join(tmpdir(), 'pullback-deb-install-'));
  chmodSync(dir, 0o755);
  try {
    const deb = buildCliDeb(join(dir, 'release'));
    const fields = dpkgDeb(['--field', deb, 'Package', 'Depends']);
    assert.match(fields, /^Package: pullback-cli$/m);
    assert.match(fields, /^Depends: nodejs \(>= 20\)/m, 'Node ≥ 20 comes from the system');
    assert.doesNotMatch(dpkgDeb(['--contents', deb]), /electron\b(?!-store)/, 'no Electron inside');
    const root = join(dir, 'root');
    const install = () => dpkgDeb(['--extract', deb, root]);
    install();
    chmodSync(root, 0o755);
    assert.equal(readlinkSync(join(root, 'usr/bin/pullback')), '../lib/pullback-cli/bin/pullback');
    for (const unit of ['user/pullback-agent.service', 'system/pullback-prune.service'])
      assert.match(
        readFileSync(join(root, 'usr/lib/systemd', unit), 'utf8'),
        /^ExecStart=\/usr\/bin\/pullback /m,
        `${unit} runs the installed program`,
      );
    assert.ok(existsSync(join(root, 'usr/share/doc/pullback-cli/install.md')));
    const program = join(root, 'usr/bin/pullback');
    const help = spawnSync(program, ['--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: pullback <command>/m);
    const forced = await exerciseInstalledProgram([program], install);
    assert.match(
      forced,
      new RegExp(`command="${program} serve --client `),
      'the forced command runs /usr/bin/pullback (here inside the throwaway root)',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
