import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';

export const IS_ROOT = process.getuid?.() === 0;

/**
 * A freshly made unprivileged account (needs root) for the system tests that run the client
 * side as a normal user; `remove()` deletes it and its home again.
 */
export interface ThrowawayUser {
  name: string;
  home: string;
  uid: number;
  /** why this account cannot run this checkout's CLI, if it cannot */
  cannotRun?: string;
  /** the Pullback CLI as the account, in its home, with a minimal environment plus `env` */
  cli(args: string[], env?: NodeJS.ProcessEnv): SpawnSyncReturns<string>;
  remove(): void;
}

export function makeThrowawayUser(prefix: string): ThrowawayUser {
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  const home = `/home/${name}`;
  const made = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', name], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`useradd failed: ${made.stderr}`);
  const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
  const setpriv = ['--reuid', name, '--regid', name, '--init-groups', '--'];
  // `args` as the account, with no root left
  const run = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
    spawnSync('setpriv', [...setpriv, ...args], {
      encoding: 'utf8',
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      ...(options.env !== undefined && { env: options.env }),
      timeout: 120_000,
    });
  const readable = run(['test', '-r', PULLBACK_CLI_SCRIPT]);
  return {
    name,
    home,
    uid,
    ...(readable.status !== 0 && {
      cannotRun: `${name} cannot read this checkout (${PULLBACK_CLI_SCRIPT}); clone it somewhere world-readable`,
    }),
    cli: (args, env = {}) =>
      run([process.execPath, PULLBACK_CLI_SCRIPT, ...args], {
        cwd: home,
        env: { PATH: '/usr/bin:/bin', HOME: home, USER: name, LOGNAME: name, ...env },
      }),
    remove: () => void spawnSync('userdel', ['--remove', name]),
  };
}
