import { fileURLToPath } from 'node:url';

/** Absolute path of the compiled CLI entry, for forced commands that run pullback itself. */
export const PULLBACK_CLI_SCRIPT = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** argv that runs `pullback <args…>` with this very Node and this very installation. */
export function pullbackCommand(...args: string[]): string[] {
  return [process.execPath, PULLBACK_CLI_SCRIPT, ...args];
}
