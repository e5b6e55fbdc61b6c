// `npm run demo`: the main job with zero configuration. A throwaway backup host on 127.0.0.3,
// a throwaway client on 127.0.0.2, a sample tree (or --source DIR), two real backups through
// the real CLI, and the snapshot's path on a line starting "snapshot: ".
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  writeFileSync,
  appendFileSync,
  linkSync,
  symlinkSync,
  rmSync,
  readFileSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startBackupHost } from '../test/support/backup-host.js';
import { PULLBACK_CLI_SCRIPT } from '../core/self-command.js';
import { makeDemoBtrfs, showReadOnlySubvolume } from './demo-btrfs.js';
import { installSystemMode } from '../core/system/install.js';

function makeSampleTree(root: string): void {
  for (let d = 0; d < 10; d++) {
    const dir = join(root, `project-${d}`, 'src');
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 20; f++)
      writeFileSync(join(dir, `file-${f}.txt`), `project ${d} file ${f}\n`.repeat(50 + f));
  }
  writeFileSync(join(root, 'photo.raw'), Buffer.alloc(4 * 1024 * 1024, 7));
  writeFileSync(join(root, 'notes with spaces.md'), '# notes\n');
  linkSync(join(root, 'notes with spaces.md'), join(root, 'hardlink-to-notes.md'));
  symlinkSync('project-0/src/file-0.txt', join(root, 'link-to-file-0'));
}

/** System mode needs root: install the helper, the reader account and the rsync copy, and say so. */
function prepareSystemMode(): void {
  if (process.getuid?.() !== 0)
    throw new Error(
      '--mode system installs the privileged helper: run the demo as root (sudo npm run demo -- --mode system)',
    );
  console.log(
    'demo: installing system mode (pullback system install): reader account, helper, rsync copy with cap_dac_read_search',
  );
  for (const line of installSystemMode()) console.log(`demo:   ${line}`);
}

/** Files only root can read: what system mode exists for. */
function addRootOnlyFiles(root: string): void {
  const dir = join(root, 'root-only');
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'shadow-like'), 'only root can read this\n', { mode: 0o600 });
  writeFileSync(join(root, 'mode-000-file'), 'nobody may read this\n', { mode: 0o000 });
  chmodSync(join(root, 'mode-000-file'), 0o000);
}

function pullback(env: NodeJS.ProcessEnv, args: string[], quiet = false): string {
  const r = spawnSync(process.execPath, [PULLBACK_CLI_SCRIPT, ...args], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'],
  });
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? '');
    throw new Error(`pullback ${args[0]} failed with exit ${r.status}: ${r.stderr ?? ''}`);
  }
  return r.stdout;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { source: { type: 'string' }, mode: { type: 'string' }, backend: { type: 'string' } },
  });
  const mode = values.mode ?? 'user';
  if (mode !== 'user' && mode !== 'system')
    throw new Error(`--mode must be user or system, got ${mode}`);
  if (mode === 'system') prepareSystemMode();
  const work = mkdtempSync(join(tmpdir(), 'pullback-demo-'));
  const btrfs = values.backend === 'btrfs' ? makeDemoBtrfs() : undefined;
  let succeeded = false;
  const storage = btrfs?.storage ?? mkdtempSync(join(tmpdir(), 'pullback-demo-storage-'));
  const source = values.source ? resolve(values.source) : join(work, 'sample');
  if (!values.source) {
    makeSampleTree(source);
    if (mode === 'system') addRootOnlyFiles(source);
    console.log(`demo: generated a sample tree in ${source}`);
  }
  const host = await startBackupHost({
    storage,
    backend: (values.backend as 'hardlink' | 'btrfs' | undefined) ?? 'hardlink',
  });
  console.log(
    `demo: backup host listening on ${host.address}:${host.port} (real sshd), storage ${storage}`,
  );
  const env = {
    ...process.env,
    PULLBACK_CONFIG_DIR: join(work, 'config'),
    PULLBACK_STATE_DIR: join(work, 'state'),
  };
  try {
    pullback(env, ['init', '--name', 'demo-laptop', '--source', source, '--mode', mode]);
    const out = pullback(env, [
      'pair',
      `${host.user}@${host.address}:${host.port}`,
      '--name',
      'demo-host',
      '--yes',
      '--local-address',
      '127.0.0.2',
    ]);
    process.stdout.write(out);
    const publicKey = readFileSync(join(env.PULLBACK_CONFIG_DIR, 'id_ed25519.pub'), 'utf8').trim();
    console.log('demo: (on the backup host) pullback server add-client demo-laptop --key …');
    pullback(env, [
      'server',
      'add-client',
      'demo-laptop',
      '--key',
      publicKey,
      '--config',
      host.configFile,
      '--authorized-keys',
      host.authorizedKeys,
    ]);
    console.log('demo: first backup');
    process.stdout.write(pullback(env, ['backup']));
    if (!values.source) {
      appendFileSync(join(source, 'project-3', 'src', 'file-7.txt'), 'a change\n');
      writeFileSync(join(source, 'new-file.txt'), 'new\n');
    }
    console.log('demo: second backup (only the changes travel; unchanged files are hardlinked)');
    process.stdout.write(pullback(env, ['backup']));
    const list = JSON.parse(
      pullback(env, ['server', 'snapshots', 'demo-laptop', '--json', '--config', host.configFile]),
    ) as { id: string; path: string }[];
    const last = list[list.length - 1];
    if (!last) throw new Error('no snapshot was made');
    console.log(`demo: ${list.length} snapshots; browse them with ls, restore with cp or rsync`);
    if (btrfs) {
      showReadOnlySubvolume(last.path);
      console.log(
        `demo: the btrfs stays mounted for browsing; remove it with: ${btrfs.removalHint}`,
      );
    }
    console.log(`storage: ${storage}`);
    if (mode === 'system' && !values.source) {
      const copy = join(last.path, source, 'root-only', 'shadow-like');
      console.log(
        `demo: the root-only file was read by the capability-holding rsync sender: ${copy}`,
      );
    }
    console.log(`snapshot: ${last.path}`);
    succeeded = true;
    return 0;
  } finally {
    await host.stop();
    if (!succeeded) btrfs?.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`demo failed: ${err.message}`);
    process.exit(1);
  },
);
