import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PullbackError } from '../errors.js';
import { interpretRsyncExit } from './exit-codes.js';
import { buildSshMasterArgv, type PullArgvOptions } from './rsync-argv.js';

/*
 * A pull runs one rsync per tree, but the one-shot sshd takes one connection and K logs in
 * once (S1). So the pull opens one ssh master connection, and each tree's rsync runs its
 * session through the master's ControlPath (sshd's MaxSessions 1: one session at a time).
 */

export interface SshMaster {
  /** ends the connection (the one-shot sshd then exits); resolves once ssh has exited */
  close(): Promise<void>;
}

// every poll is one stat(); the master being up sits on every backup's critical path
const READY_POLL_MS = 5;
/** ssh's own ConnectTimeout is 10 s; this only bounds a master that neither connects nor fails */
const READY_TIMEOUT_MS = 60_000;
const MAX_STDERR = 16_384;

/**
 * Starts the master and resolves once its control socket is there. A master that fails (host
 * key, authentication, unreachable) rejects with the error its ssh complaint means, worded as
 * for an rsync that failed the same way.
 */
export function openSshMaster(
  remote: PullArgvOptions['remote'],
  controlPath: string,
  o: { sshPath?: string; signal?: AbortSignal } = {},
): Promise<SshMaster> {
  const [program, ...args] = buildSshMasterArgv(remote, controlPath, o.sshPath);
  const child = spawn(program!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-MAX_STDERR);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => resolve(code));
    child.once('error', (err) => {
      stderr += `\n${err.message}`;
      resolve(-1);
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const close = async (): Promise<void> => {
    if (!gone) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      if (gone) {
        void exited.then((code) => {
          const verdict = interpretRsyncExit({
            exitCode: code === null || code < 0 ? 255 : code,
            stderrLines: stderr.split('\n'),
            cancelled: o.signal?.aborted ?? false,
          });
          reject(
            verdict.error ??
              new PullbackError('UNREACHABLE', 'the ssh connection to the client ended at once'),
          );
        });
        return;
      }
      if (o.signal?.aborted) {
        void close().then(() =>
          reject(new PullbackError('CANCELLED', 'the pull was cancelled while connecting')),
        );
        return;
      }
      if (existsSync(controlPath)) return resolve({ close });
      if (Date.now() - started > READY_TIMEOUT_MS) {
        void close().then(() =>
          reject(new PullbackError('TIMEOUT', 'the ssh connection to the client never came up')),
        );
        return;
      }
      setTimeout(poll, READY_POLL_MS);
    };
    poll();
  });
}
