import { PullbackError } from '../errors.js';

/** Quotes one argument for /bin/sh (sshd runs forced commands through the account's shell). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Renders an argv as the value of an authorized_keys `command="…"` option. Characters that
 * cannot be represented safely inside the double quotes are refused rather than escaped.
 */
export function forcedCommandLine(argv: readonly string[]): string {
  for (const arg of argv) {
    if (/["\\\n\r\0]/.test(arg)) {
      throw new PullbackError(
        'BAD_CONFIG',
        `cannot use ${JSON.stringify(arg)} in a forced command: quotes, backslashes and newlines are not allowed`,
      );
    }
  }
  return argv.map(shellQuote).join(' ');
}
