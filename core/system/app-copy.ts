import {
  chmodSync,
  cpSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PullbackError } from '../errors.js';
import { APP_DIR, SYSTEM_PREFIX } from './paths.js';

/** The installation this code runs from (the directory holding package.json, dist/, node_modules/). */
export const RUNNING_APP_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The compiled folders root runs: the helper, the listener, and the CLI for the gate. */
const DIST_PARTS = ['dist/core', 'dist/cli', 'dist/helper'];

interface PackageJson {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Node's lookup: <from>/node_modules/<name>, then upwards, but never above the app root. */
function resolvePackage(name: string, from: string, appRoot: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === appRoot || dir === dirname(dir)) return undefined;
  }
}

/** Top-level node_modules entries holding the production dependency closure (nested ones ride along). */
export function productionPackages(appRoot: string): string[] {
  const seen = new Set<string>();
  const queue: string[] = [appRoot];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    const pkg = readPackage(dir);
    const optional = Object.keys(pkg.optionalDependencies ?? {});
    for (const name of [...Object.keys(pkg.dependencies ?? {}), ...optional]) {
      const found = resolvePackage(name, dir, appRoot);
      if (!found) {
        if (optional.includes(name)) continue;
        throw new PullbackError(
          'MISSING_TOOL',
          `dependency ${name} of ${pkg.name ?? dir} is not installed: run npm ci first`,
        );
      }
      if (!seen.has(found)) {
        seen.add(found);
        queue.push(found);
      }
    }
  }
  const topLevel = join(appRoot, 'node_modules');
  return [...seen]
    .filter((p) => dirname(p) === topLevel || dirname(dirname(p)) === topLevel)
    .sort();
}

/** Root-owned, readable by all (the reader account runs it), writable by root only. */
function lockDown(path: string): void {
  const st = lstatSync(path);
  lchownSync(path, 0, 0);
  if (st.isSymbolicLink()) return;
  chmodSync(path, st.isDirectory() || (st.mode & 0o100) !== 0 ? 0o755 : 0o644);
  if (st.isDirectory()) for (const entry of readdirSync(path)) lockDown(join(path, entry));
}

/**
 * Writes the runnable CLI tree into `dest` (a new directory): the compiled folders, a package.json
 * with only what ESM loading and version.ts need (no scripts anyone could be tricked into
 * running) and the production dependency closure. Symlinks are resolved at copy time. The
 * system-mode app copy and the headless .deb (scripts/dist-cli.ts) are both made by this.
 */
export function writeAppTree(
  dest: string,
  appRoot: string = RUNNING_APP_ROOT,
  extra: string[] = [],
): void {
  for (const part of [...DIST_PARTS, 'package.json', ...extra]) {
    if (!existsSync(join(appRoot, part)))
      throw new PullbackError(
        'MISSING_TOOL',
        `${join(appRoot, part)} is missing: run npm run build first`,
      );
  }
  mkdirSync(dest, { mode: 0o755 });
  const pkg = readPackage(appRoot);
  writeFileSync(
    join(dest, 'package.json'),
    `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true, dependencies: pkg.dependencies }, null, 2)}\n`,
  );
  for (const part of [...DIST_PARTS, ...extra])
    cpSync(join(appRoot, part), join(dest, part), { recursive: true, dereference: true });
  const modules = join(appRoot, 'node_modules');
  for (const pkgDir of productionPackages(appRoot)) {
    cpSync(pkgDir, join(dest, 'node_modules', pkgDir.slice(modules.length + 1)), {
      recursive: true,
      dereference: true,
      filter: (src) => !src.split('/').includes('.bin'),
    });
  }
}

/**
 * Copies the app root runs into /usr/lib/pullback/app, owned by root: the user's checkout is
 * never what root executes. The swap is a rename.
 */
export function installAppCopy(appRoot: string = RUNNING_APP_ROOT): void {
  mkdirSync(SYSTEM_PREFIX, { recursive: true, mode: 0o755 });
  const staging = `${APP_DIR}.new`;
  rmSync(staging, { recursive: true, force: true });
  writeAppTree(staging, appRoot);
  lockDown(staging);
  const old = `${APP_DIR}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(APP_DIR)) renameSync(APP_DIR, old);
  renameSync(staging, APP_DIR);
  rmSync(old, { recursive: true, force: true });
}
