/**
 * `npm run dist:cli`: the headless .deb (pullback-cli) for servers and laptops without the tray,
 * built without Electron. Layout:
 *
 *   /usr/lib/pullback-cli/          the CLI: dist/{core,cli,helper}, bin/, production node_modules
 *   /usr/bin/pullback            →  ../lib/pullback-cli/bin/pullback (runs /usr/bin/node)
 *   /usr/lib/systemd/user/pullback-agent.service, /usr/lib/systemd/system/pullback-prune.*
 *   /usr/share/doc/pullback-cli/    README and docs
 *
 * Node ≥ 20 comes from the system: Depends: nodejs (>= 20) (Debian 13, or NodeSource on
 * Debian 12, whose own nodejs is 18). Not /usr/lib/pullback: that is system mode's directory,
 * which `pullback system uninstall` removes. Output: release/pullback-cli_<version>_<arch>.deb.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNNING_APP_ROOT, writeAppTree } from '../core/system/app-copy.js';
import { PULLBACK_VERSION } from '../core/version.js';

export const DEB_APP_DIR = 'usr/lib/pullback-cli';
const DOCS = [
  'README.md',
  'docs/install.md',
  'docs/cli.md',
  'docs/server.md',
  'docs/security.md',
  'docs/automatic-backups.md',
];

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout.trim();
}

function hasNativeCode(dir: string): boolean {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith('.node'));
}

function control(arch: string, installedKiB: number): string {
  return `${[
    'Package: pullback-cli',
    `Version: ${PULLBACK_VERSION}`,
    `Architecture: ${arch}`,
    'Maintainer: The Pullback developers <developers@pullback.invalid>',
    `Installed-Size: ${installedKiB}`,
    'Depends: nodejs (>= 20), rsync, openssh-client, openssh-server',
    'Recommends: util-linux, libcap2-bin',
    'Conflicts: pullback',
    'Section: admin',
    'Priority: optional',
    'Homepage: https://pullback.invalid/',
    'Description: pull backups for Linux, headless (no tray)',
    ' The machine decides when it is backed up; the backup host pulls the files with rsync',
    ' into plain snapshot directories; nobody holds a credential that works twice.',
    ' This package is the pullback command line, the headless agent and the backup host',
    ' side, for servers and laptops without the tray app.',
  ].join('\n')}\n`;
}

/** Builds the .deb into `outDir`; returns its path. */
export function buildCliDeb(outDir: string, appRoot: string = RUNNING_APP_ROOT): string {
  const stage = mkdtempSync(join(tmpdir(), 'pullback-deb-'));
  try {
    chmodSync(stage, 0o755);
    const app = join(stage, DEB_APP_DIR);
    mkdirSync(join(stage, 'usr/lib'), { recursive: true });
    writeAppTree(app, appRoot, ['bin/pullback.js']);
    copyFileSync(join(appRoot, 'build/deb-cli/pullback'), join(app, 'bin/pullback'));
    chmodSync(join(app, 'bin/pullback'), 0o755);
    mkdirSync(join(stage, 'usr/bin'), { recursive: true });
    symlinkSync('../lib/pullback-cli/bin/pullback', join(stage, 'usr/bin/pullback'));
    const units = join(appRoot, 'build/systemd');
    mkdirSync(join(stage, 'usr/lib/systemd/user'), { recursive: true });
    mkdirSync(join(stage, 'usr/lib/systemd/system'), { recursive: true });
    copyFileSync(
      join(units, 'pullback-agent.service'),
      join(stage, 'usr/lib/systemd/user/pullback-agent.service'),
    );
    for (const unit of ['pullback-prune.service', 'pullback-prune.timer'])
      copyFileSync(join(units, unit), join(stage, 'usr/lib/systemd/system', unit));
    const doc = join(stage, 'usr/share/doc/pullback-cli');
    mkdirSync(doc, { recursive: true });
    for (const d of DOCS) copyFileSync(join(appRoot, d), join(doc, d.split('/').pop()!));
    const debian = join(stage, 'DEBIAN');
    mkdirSync(debian);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      copyFileSync(join(appRoot, 'build/deb-cli', script), join(debian, script));
      chmodSync(join(debian, script), 0o755);
    }
    const arch = hasNativeCode(app) ? run('dpkg', ['--print-architecture']) : 'all';
    const kib = Number(run('du', ['-sk', '--exclude=DEBIAN', stage]).split(/\s/)[0]);
    writeFileSync(join(debian, 'control'), control(arch, kib));
    run('chmod', ['-R', 'u+rwX,go+rX,go-w', stage]);
    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, `pullback-cli_${PULLBACK_VERSION}_${arch}.deb`);
    run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, out]);
    return out;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = buildCliDeb(process.argv[2] ?? join(RUNNING_APP_ROOT, 'release'));
  console.log(`${out} (${Math.round(readFileSync(out).length / 1024)} KiB)`);
}
