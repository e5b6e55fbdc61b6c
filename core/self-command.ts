import { fileURLToPath } from 'node:url';

/** Absolute path of the compiled CLI entry, for forced commands that run pullback itself. */
export const PULLBACK_CLI_SCRIPT = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/**
 * argv that runs `pullback <args…>` with this very Node and this very installation. Inside the
 * tray, the "Node" is Electron's binary, which must be told to behave as plain Node.
 */
export function pullbackCommand(...args: string[]): string[] {
  const node = process.versions.electron
    ? ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', process.execPath]
    : [process.execPath];
  return [...node, PULLBACK_CLI_SCRIPT, ...args];
}
