#!/usr/bin/env node
// Idempotent set-up: Debian packages the project needs, npm dependencies, build.
// Fast when nothing is missing; never asks questions (cron/CI friendly).
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const log = (line) => {
  if (!quiet) console.log(`setup: ${line}`);
};

// program that must exist -> Debian package that provides it
const NEEDED = [
  ['/usr/sbin/sshd', 'openssh-server'],
  ['/usr/bin/ssh', 'openssh-client'],
  ['/usr/bin/ssh-keygen', 'openssh-client'],
  ['/usr/bin/rsync', 'rsync'],
  ['/usr/sbin/ip', 'iproute2'],
  // tunnel tests: a NAT router namespace masquerades the client (test/system/tunnel-nat.test.ts)
  ['/usr/sbin/nft', 'nftables'],
  ['/usr/bin/setfacl', 'acl'],
  ['/usr/bin/setfattr', 'attr'],
  ['/usr/sbin/setcap', 'libcap2-bin'],
  ['/usr/bin/setpriv', 'util-linux'],
  ['/usr/bin/ionice', 'util-linux'],
  ['/usr/bin/btrfs', 'btrfs-progs'],
  ['/usr/sbin/mkfs.btrfs', 'btrfs-progs'],
  ['/usr/bin/chromium', 'chromium'],
  // UI tests and screenshots: a real font, whatever the machine's recommends policy
  ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', 'fonts-liberation'],
  ['/usr/bin/sudo', 'sudo'],
  ['/usr/bin/pkexec', 'pkexec'],
  ['/usr/bin/restic', 'restic'],
  ['/usr/bin/borg', 'borgbackup'],
];

function missingPackages() {
  const missing = new Set();
  for (const [program, pkg] of NEEDED) if (!existsSync(program)) missing.add(pkg);
  return [...missing];
}

function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, {
    stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
    ...opts,
  });
  if (result.status !== 0) {
    console.error(
      `setup: ${cmd} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`,
    );
    process.exit(1);
  }
}

const missing = missingPackages();
if (missing.length > 0) {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    console.error(`setup: missing Debian packages: ${missing.join(' ')}`);
    console.error(
      `setup: run this once, then try again:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`,
    );
    process.exit(1);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

// sshd started as root needs its privilege-separation directory (normally made by systemd).
if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });

const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
const modules = join(root, 'node_modules');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  if (existsSync(modules) && lstatSync(modules).isSymbolicLink()) {
    // npm ci empties the directory a linked node_modules points to, then replaces the link:
    // a shared install (worktrees) would be wiped for everyone using it. Leave it alone.
    console.error(
      `setup: node_modules links to ${realpathSync(modules)}, older than package-lock.json; not running npm ci through the link (run it there)`,
    );
  } else {
    log('installing npm dependencies (npm ci)');
    run('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: root,
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
    });
  }
}

log('building');
run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'tsconfig.json')], { cwd: root });
// The tray app: Electron main, sandboxed preload, renderer pages (the UI tests load them).
run(process.execPath, [join(root, 'scripts', 'build-ui.mjs')], { cwd: root });
log('ready');
