import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from './prng.js';
import { assertTreesIdentical, restoreSnapshot } from './tree-compare.js';
import { makeTestClient, type BackupHost } from './backup-host.js';
import { runBackup, type BackupRunOptions } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { changeIndexFile } from '../../core/change-index/index-file.js';

/*
 * The change index's property test: a random tree, then random changes of every kind a
 * backup must notice (same-size rewrites with the mtime set back, appends, truncation, chmod,
 * chown, xattrs, ACLs added and removed, renames, hardlinks added and removed, type swaps, deletions, new empty
 * directories, sparse files, mtimes set back), an incremental after each round. After each:
 * the newest snapshot restores identical to the source, and every older snapshot is exactly
 * what it was (content hashes, modes, times and the user.rsync.* xattrs --fake-super keeps).
 */

const isRoot = process.getuid?.() === 0;

type Rand = () => number;
const pick = <T>(rand: Rand, list: readonly T[]): T | undefined =>
  list.length ? list[Math.floor(rand() * list.length)] : undefined;

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

function walk(root: string): { files: string[]; dirs: string[]; links: string[] } {
  const out = { files: [] as string[], dirs: [] as string[], links: [] as string[] };
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      if (st.isDirectory()) {
        out.dirs.push(path);
        pending.push(path);
      } else if (st.isSymbolicLink()) out.links.push(path);
      else if (st.isFile()) out.files.push(path);
    }
  }
  return out;
}

let counter = 0;
const fresh = (rand: Rand) => `n${counter++}-${Math.floor(rand() * 1e6)}`;
const bytes = (rand: Rand, n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
};

export function makeRandomTree(root: string, rand: Rand, entries: number): void {
  const dirs = [root];
  for (let i = 0; i < entries; i++) {
    const parent = pick(rand, dirs)!;
    const r = rand();
    const path = join(parent, fresh(rand));
    if (r < 0.2) {
      mkdirSync(path);
      dirs.push(path);
    } else if (r < 0.25) symlinkSync(`target-${i}`, path);
    else writeFileSync(path, bytes(rand, Math.floor(rand() * 3000)));
  }
}

/** One random change; returns its name (the test prints how many of each ran) and where it went. */
export function randomChange(root: string, rand: Rand): { name: string; where: string } {
  const { files, dirs, links } = walk(root);
  const anyDir = pick(rand, [root, ...dirs])!;
  const file = pick(rand, files);
  const ops: [string, () => void][] = [
    [
      'same-size rewrite, mtime set back',
      () => {
        if (!file) return;
        const st = lstatSync(file);
        writeFileSync(file, bytes(rand, st.size || 1));
        utimesSync(file, st.atime, st.mtime);
      },
    ],
    ['append', () => file && appendFileSync(file, bytes(rand, 100))],
    ['truncate', () => file && truncateSync(file, Math.floor(lstatSync(file).size / 2))],
    ['chmod', () => file && chmodSync(file, pick(rand, [0o600, 0o644, 0o755, 0o640])!)],
    [
      'chown',
      () =>
        isRoot &&
        file &&
        chownSync(file, 1000 + Math.floor(rand() * 5), 1000 + Math.floor(rand() * 5)),
    ],
    [
      'xattr',
      () =>
        file && sh('setfattr', ['-n', 'user.prop', '-v', String(Math.floor(rand() * 1e6)), file]),
    ],
    ['acl', () => file && sh('setfacl', ['-m', `u:nobody:${pick(rand, ['r', 'rw', 'rx'])}`, file])],
    ['acl removed', () => file && sh('setfacl', ['-b', file])],
    ['rename', () => file && renameSync(file, join(anyDir, fresh(rand)))],
    ['hardlink added', () => file && linkSync(file, join(anyDir, fresh(rand)))],
    [
      'hardlink removed',
      () => {
        const linked = files.filter((f) => lstatSync(f).nlink > 1);
        const victim = pick(rand, linked);
        if (victim) rmSync(victim);
      },
    ],
    [
      'file to directory',
      () => {
        if (!file) return;
        rmSync(file);
        mkdirSync(file);
        writeFileSync(join(file, 'inside'), bytes(rand, 50));
      },
    ],
    [
      'directory to symlink',
      () => {
        const dir = pick(rand, dirs);
        if (!dir) return;
        rmSync(dir, { recursive: true });
        symlinkSync('somewhere', dir);
      },
    ],
    [
      'symlink to file',
      () => {
        const link = pick(rand, links);
        if (!link) return;
        rmSync(link);
        writeFileSync(link, bytes(rand, 70));
      },
    ],
    ['delete file', () => file && rmSync(file)],
    [
      'delete directory',
      () => {
        const dir = pick(rand, dirs);
        if (dir) rmSync(dir, { recursive: true });
      },
    ],
    ['new empty directory', () => mkdirSync(join(anyDir, fresh(rand)))],
    [
      'sparse file',
      () => {
        const fd = openSync(join(anyDir, fresh(rand)), 'w');
        ftruncateSync(fd, 4 * 1024 * 1024);
        writeSync(fd, bytes(rand, 10), 0, 10, 2 * 1024 * 1024);
        closeSync(fd);
      },
    ],
    ['mtime set back', () => file && utimesSync(file, new Date(2001, 1, 1), new Date(2001, 1, 1))],
    [
      'new file',
      () => writeFileSync(join(anyDir, fresh(rand)), bytes(rand, Math.floor(rand() * 5000))),
    ],
  ];
  const [name, apply] = pick(rand, ops)!;
  apply();
  return { name, where: `file ${file ?? '-'}, dir ${anyDir}` };
}

/**
 * What a snapshot is, to the byte: every entry's type, mode, size, mtime and content hash,
 * and every user.rsync.* xattr (--fake-super's owners, modes, ACLs and xattrs).
 */
export function fingerprint(dir: string): string {
  const lines: string[] = [];
  const pending = [dir];
  for (let d = pending.pop(); d !== undefined; d = pending.pop()) {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const st = lstatSync(path, { bigint: true });
      let content = '';
      if (st.isFile()) content = createHash('sha256').update(readFileSync(path)).digest('hex');
      lines.push(`${path.slice(dir.length)} ${st.mode} ${st.size} ${st.mtimeNs} ${content}`);
      if (st.isDirectory()) pending.push(path);
    }
  }
  const x = spawnSync(
    'getfattr',
    ['-R', '-P', '-d', '-m', '^user\\.rsync\\.', '-e', 'hex', '--absolute-names', dir],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  return `${lines.join('\n')}\n${x.stdout}`;
}

export interface PropertyRun {
  seed: number;
  rounds: number;
  changesPerRound: number;
  counts: Record<string, number>;
  passes: Record<string, number>;
}

/** Runs the property against `host` and returns what ran (printed by the caller). */
export async function runChangeProperty(
  host: BackupHost,
  o: { seed: number; rounds: number; changesPerRound: number; entries: number },
): Promise<PropertyRun> {
  const rand = mulberry32(o.seed);
  const source = mkdtempSync(join(tmpdir(), 'pullback-prop-src-'));
  makeRandomTree(source, rand, o.entries);
  const c = await makeTestClient(host, { sources: [source] });
  const opts: BackupRunOptions = {
    config: c.config,
    host: c.config.hosts[0]!,
    identityKey: c.identityKey,
    launcher: launchUserOneShot,
    indexFile: changeIndexFile('home', c.env),
  };
  const snapDir = (id: string) => join(host.storage, c.name, 'snapshots', id);
  const recorded = new Map<string, string>();
  const result: PropertyRun = { ...o, counts: {}, passes: {} };
  const first = await runBackup(opts);
  recorded.set(first.snapshot, fingerprint(snapDir(first.snapshot)));
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < o.changesPerRound; i++) {
      const { name, where } = randomChange(source, rand);
      result.counts[name] = (result.counts[name] ?? 0) + 1;
      // PULLBACK_PROPERTY_TRACE=1 with PULLBACK_SEED=N: every change of a failing seed, replayed
      if (process.env.PULLBACK_PROPERTY_TRACE === '1')
        process.stderr.write(`seed ${o.seed}, round ${round}: ${name} (${where})\n`);
    }
    const run = await runBackup(opts);
    const kind = run.unchanged ? 'unchanged' : run.pass;
    result.passes[kind] = (result.passes[kind] ?? 0) + 1;
    const where = `seed ${o.seed}, round ${round}`;
    assert.ok(
      run.pass === 'incremental',
      `${where}: expected an incremental, got ${run.pass} (${run.fullBecause ?? ''})`,
    );
    const restored = mkdtempSync(join(tmpdir(), 'pullback-prop-restore-'));
    restoreSnapshot(join(snapDir(run.snapshot), source), restored);
    try {
      assertTreesIdentical(source, restored);
    } catch (err) {
      throw new Error(
        `${where}: the newest snapshot differs from the source: ${(err as Error).message}`,
      );
    }
    rmSync(restored, { recursive: true, force: true });
    for (const [id, print] of recorded)
      assert.ok(fingerprint(snapDir(id)) === print, `${where}: older snapshot ${id} was modified`);
    if (!recorded.has(run.snapshot)) recorded.set(run.snapshot, fingerprint(snapDir(run.snapshot)));
  }
  rmSync(source, { recursive: true, force: true });
  return result;
}

/** Seeds and sizes: fixed and fast by default, long with PULLBACK_LONG=1 (PULLBACK_SEED=N replays one). */
export function propertySettings(): {
  seeds: number[];
  rounds: number;
  changesPerRound: number;
  entries: number;
} {
  const long = process.env.PULLBACK_LONG === '1';
  const seed = process.env.PULLBACK_SEED ? [Number(process.env.PULLBACK_SEED)] : undefined;
  return long
    ? {
        seeds: seed ?? [1, 2, 3, Date.now() % 100000],
        rounds: 25,
        changesPerRound: 6,
        entries: 300,
      }
    : { seeds: seed ?? [20261202], rounds: 6, changesPerRound: 5, entries: 60 };
}
