import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { asPullbackError, PullbackError } from '../errors.js';
import { forcedCommandLine } from '../ssh/forced-command.js';
import { validateSenderCommand } from './validate.js';

export interface GateOptions {
  /** trees the backup host may read (absolute, existing) */
  allow: string[];
  /** validate only: print the argv that would run */
  check: boolean;
  /** the rsync binary to run, default /usr/bin/rsync */
  rsyncPath?: string;
  /** where SSH_ORIGINAL_COMMAND comes from, default process.env */
  env?: NodeJS.ProcessEnv;
}

const FORWARDED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Absolute path of a system tool, so the gate never depends on the session's PATH. */
function systemTool(name: string): string {
  const found = ['/usr/bin', '/bin', '/usr/sbin', '/sbin']
    .map((dir) => `${dir}/${name}`)
    .find((p) => existsSync(p));
  if (!found)
    throw new PullbackError(
      'MISSING_TOOL',
      `${name} is not installed (looked in /usr/bin, /bin, /usr/sbin, /sbin)`,
    );
  return found;
}

/** The full argv the gate runs for a validated rsync argv: rsync at low CPU and idle I/O priority. */
function execArgv(rsyncArgv: string[], rsyncPath: string): string[] {
  return [systemTool('nice'), '-n', '10', systemTool('ionice'), '-c3', rsyncPath, ...rsyncArgv];
}

/**
 * The forced command of the one-shot sshd: validates SSH_ORIGINAL_COMMAND and runs it as a
 * read-only rsync sender. Returns the exit status for the process (rsync's own when it ran).
 * A refusal prints exactly one `REFUSED: reason` line on stderr and returns 1.
 */
export async function runGate(opts: GateOptions): Promise<number> {
  const env = opts.env ?? process.env;
  let argv: string[];
  try {
    const rsyncArgv = validateSenderCommand(env.SSH_ORIGINAL_COMMAND ?? '', opts.allow);
    argv = execArgv(rsyncArgv, opts.rsyncPath ?? '/usr/bin/rsync');
  } catch (err) {
    process.stderr.write(`${asPullbackError(err).toLine()}\n`);
    return 1;
  }
  if (opts.check) {
    process.stdout.write(`${JSON.stringify(argv)}\n`);
    return 0;
  }
  return runInherited(argv);
}

/** Runs argv with the gate's stdio (the rsync protocol stream) and passes stop signals on. */
function runInherited(argv: string[]): Promise<number> {
  const [program = '', ...args] = argv;
  return new Promise((resolve) => {
    const child = spawn(program, args, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const done = (status: number): void => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      resolve(status);
    };
    child.on('error', (err) => {
      process.stderr.write(`RSYNC_FAILED: could not start ${program}: ${err.message}\n`);
      done(1);
    });
    child.on('exit', (code, signal) =>
      done(code ?? 128 + (signal ? constants.signals[signal] : 0)),
    );
  });
}

/**
 * The `command="…"` value for authorized_keys that runs this gate: each argument quoted for
 * /bin/sh (sshd runs forced commands through the account's shell). Throws BAD_CONFIG for
 * arguments that cannot sit safely inside the double quotes (`"`, `\`, newline, NUL).
 */
export function gateCommandLine(
  nodePath: string,
  cliScript: string,
  allow: readonly string[],
  rsyncPath?: string,
): string {
  const argv = [nodePath, cliScript, 'gate', ...allow.flatMap((tree) => ['--allow', tree])];
  if (rsyncPath !== undefined) argv.push('--rsync', rsyncPath);
  return forcedCommandLine(argv);
}
