import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the compiled CLI entry, for forced commands that run pullback itself. */
export const PULLBACK_CLI_SCRIPT = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** The installation this code runs from (the directory holding package.json, bin/, dist/). */
const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The `pullback` on PATH that runs this very installation, if there is one: the npm global bin
 * (`PREFIX/bin/pullback` → `PREFIX/lib/node_modules/pullback/bin/pullback.js`), the headless
 * .deb's `/usr/bin/pullback` (→ `/usr/lib/pullback-cli/bin/pullback`) or the tray package's
 * (→ `/opt/Pullback/resources/bin/pullback`). Its path survives upgrades; a checkout has none.
 */
export function installedProgram(
  appRoot: string = APP_ROOT,
  invokedAs: string | undefined = process.argv[1],
): string | undefined {
  const root = realpathOrUndefined(appRoot);
  if (!root) return undefined;
  const ours = new Set([
    join(root, 'bin', 'pullback.js'),
    join(root, 'bin', 'pullback'),
    join(dirname(root), 'bin', 'pullback'),
  ]);
  const candidates = [
    ...(invokedAs && basename(invokedAs) === 'pullback' ? [invokedAs] : []),
    join(appRoot, '..', '..', 'bin', 'pullback'), // the .deb: <prefix>/lib/pullback-cli
    join(appRoot, '..', '..', '..', 'bin', 'pullback'), // npm: <prefix>/lib/node_modules/pullback
    '/usr/bin/pullback',
    '/usr/local/bin/pullback',
  ];
  for (const candidate of candidates) {
    const target = existsSync(candidate) ? realpathOrUndefined(candidate) : undefined;
    // the link itself, not its target, is what stays put across upgrades
    if (target && ours.has(target)) return resolve(candidate);
  }
  return undefined;
}

/**
 * argv that runs `pullback <args…>` with this very installation: through its `pullback` on PATH
 * when it has one (forced commands in authorized_keys then survive upgrades and never name a
 * checkout), else with this Node and this script. Inside the tray, the "Node" is Electron's
 * binary, which must be told to behave as plain Node.
 */
export function pullbackCommand(...args: string[]): string[] {
  const program = installedProgram();
  // a .js entry is run by this Node: sshd's PATH may not hold the `node` its #! line asks for
  if (program && !isNodeScript(program)) return [program, ...args];
  const node = process.versions.electron
    ? ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', process.execPath]
    : [process.execPath];
  return [...node, program ?? PULLBACK_CLI_SCRIPT, ...args];
}

/** npm's global bin entry is a link to bin/pullback.js: a Node script despite its name. */
function isNodeScript(program: string): boolean {
  return realpathOrUndefined(program)?.endsWith('.js') ?? false;
}
