import { spawn, spawnSync } from 'node:child_process';
import { Duplex } from 'node:stream';
import { splice } from '../splice.js';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { PullbackError, asPullbackError } from '../errors.js';
import { assertApproved, readApprovals } from '../system/approvals.js';
import { lookupGroup } from '../system/accounts.js';
import { helperArgv, MAX_DEADLINE_SECONDS } from '../system/helper-args.js';
import { HELPER_WRAPPER, READER_USER, SUDO_GROUP } from '../system/paths.js';
import type { OneShotLauncher } from './oneshot-launcher.js';
import { GATE_REFUSED_PREFIX } from '../gate/refusal-log.js';
import { encodeHelperInput } from '../system/helper-stdin.js';

/** pkexec may be waiting for the user to answer a password dialog. */
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;

function helperFailed(message: string): PullbackError {
  return new PullbackError('HELPER_FAILED', message);
}

/** How to become root for the helper: directly (already root), sudo -n (a rule applies), or pkexec (desktop). */
function elevation(args: string[], env: NodeJS.ProcessEnv): string[] {
  if (!existsSync(HELPER_WRAPPER))
    throw helperFailed('system mode is not installed: run sudo pullback system install');
  if (process.getuid?.() === 0) return [HELPER_WRAPPER];
  const sudoAllows =
    existsSync('/usr/bin/sudo') &&
    spawnSync('/usr/bin/sudo', ['-n', '-l', HELPER_WRAPPER, ...args], { stdio: 'ignore' })
      .status === 0;
  if (sudoAllows) return ['/usr/bin/sudo', '-n', HELPER_WRAPPER];
  if ((env.DISPLAY || env.WAYLAND_DISPLAY) && existsSync('/usr/bin/pkexec'))
    return ['/usr/bin/pkexec', HELPER_WRAPPER];
  const group = lookupGroup(SUDO_GROUP);
  const user = userInfo().username;
  if (!group)
    throw helperFailed(
      'system mode is not installed completely (no pullback group): run sudo pullback system install',
    );
  if (!group.members.includes(user))
    throw helperFailed(
      `you are not in the ${SUDO_GROUP} group: sudo adduser ${user} ${SUDO_GROUP} (then log in again)`,
    );
  if (!process.getgroups?.().includes(group.gid))
    throw helperFailed(
      `you were added to the ${SUDO_GROUP} group but this session predates it: log out and in again`,
    );
  throw helperFailed(
    'sudo does not let you run the Pullback helper without a password: check sudo pullback system status',
  );
}

/** The last meaningful line the helper (or sudo/pkexec) printed, without a repeated code prefix. */
function lastLine(stderr: string): string {
  const line =
    stderr
      .trim()
      .split('\n')
      .filter((l) => l && !l.startsWith(GATE_REFUSED_PREFIX))
      .pop() ?? '';
  return line.replace(/^HELPER_FAILED:\s*/, '');
}

/**
 * The helper checks what root approved on every call; checking here first (the file is
 * world-readable) spares the user a password prompt that could only end in a refusal.
 */
function refuseUnapproved(allowFrom: string, sources: readonly string[], tunnel: boolean): void {
  let approvals;
  try {
    approvals = readApprovals();
  } catch {
    return; // the helper reports what is wrong with the file
  }
  try {
    assertApproved({ allowFrom, sources, tunnel }, approvals);
  } catch (err) {
    throw helperFailed(
      `${asPullbackError(err).message.replace(/^helper: /, '')}; system mode serves only the backup hosts and sources root approved`,
    );
  }
}

/**
 * System mode: the privileged helper starts the one-shot as pullback-reader with only
 * CAP_DAC_READ_SEARCH inheritable. H and an incremental's change lists go over the helper's stdin
 * (argv shows in ps); the stdin stays open for the whole run, and closing it is how the client
 * says "stop".
 */
export const launchSystemOneShot: OneShotLauncher = async (request) => {
  const tunnel = request.tunnel === true;
  refuseUnapproved(request.allowFrom, request.sources, tunnel);
  const args = helperArgv({
    bindAddress: request.bindAddress,
    allowFrom: request.allowFrom,
    clientPublicKey: request.clientPublicKey,
    deadlineSeconds: Math.min(
      MAX_DEADLINE_SECONDS,
      Math.max(1, Math.ceil(request.deadlineMs / 1000)),
    ),
    sources: request.sources,
    tunnel,
  });
  const [command, ...prefix] = elevation(args, process.env);
  // detached: no controlling terminal, so sudo relays no pty and Ctrl-C reaches the client first
  const child = spawn(command!, [...prefix, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  let all = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_384);
    all = (all + chunk).slice(-65_536);
  });
  child.stdin.on('error', () => {}); // EPIPE when the helper refused early: reported from its exit
  const done = new Promise<number | null>((resolve) =>
    child.once('close', (code) => resolve(code)),
  );
  // H, then the change lists (core/system/helper-stdin.ts); the helper writes them where the gate reads
  child.stdin.write(encodeHelperInput(request.hostPrivateKey, request.lists ?? []));

  const port = await new Promise<number>((resolve, reject) => {
    let out = Buffer.alloc(0);
    const timer = setTimeout(() => {
      child.stdin.end();
      reject(helperFailed('the privileged helper did not start the one-shot in time'));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      out = Buffer.concat([out, chunk]);
      const newline = out.indexOf(0x0a);
      if (newline < 0) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      try {
        const ready = JSON.parse(out.subarray(0, newline).toString('utf8')) as {
          port?: unknown;
          user?: unknown;
        };
        if (
          typeof ready.port !== 'number' ||
          ready.user !== READER_USER ||
          (ready.port === 0) !== tunnel
        )
          throw new Error('unexpected fields');
        // tunnel mode: what follows is the pull's outbound bytes, for attachTunnel
        child.stdout.pause();
        if (out.length > newline + 1) child.stdout.unshift(out.subarray(newline + 1));
        if (!tunnel) child.stdout.resume();
        resolve(ready.port);
      } catch {
        child.stdin.end();
        child.stdout.resume();
        reject(
          helperFailed(
            `the privileged helper said something unexpected: ${out.subarray(0, 200).toString('utf8')}`,
          ),
        );
      }
    };
    child.stdout.on('data', onData);
    void done.then((code) => {
      clearTimeout(timer);
      const why = lastLine(stderr) || `exit status ${code}`;
      const denied = command === '/usr/bin/pkexec' && (code === 126 || code === 127);
      reject(
        helperFailed(
          denied
            ? 'pkexec did not authorise the Pullback helper (dialog dismissed or not allowed)'
            : `the privileged helper failed: ${why}`,
        ),
      );
    });
  });

  let attached = false;
  return {
    port,
    user: READER_USER,
    listsWritten: request.lists !== undefined,
    done,
    gateRefusals: async () => {
      await done;
      return all
        .split('\n')
        .filter((l) => l.startsWith(GATE_REFUSED_PREFIX))
        .map((l) => l.slice(GATE_REFUSED_PREFIX.length))
        .slice(-20);
    },
    stop: async () => {
      child.stdin.end();
      if (!attached) child.stdout.resume(); // a tunnel never attached: read on to the helper's end
      const timer = setTimeout(() => {
        if (process.getuid?.() === 0) child.kill('SIGKILL');
      }, STOP_TIMEOUT_MS);
      await done;
      clearTimeout(timer);
    },
    ...(tunnel
      ? {
          // the one pull connection: in through the helper's stdin, out through its stdout
          attachTunnel: (stream: Duplex, rest?: Buffer) => {
            if (attached || child.exitCode !== null || child.signalCode !== null) {
              stream.destroy();
              throw new PullbackError(
                'REFUSED',
                'this one-shot takes no (further) tunnel connection',
              );
            }
            attached = true;
            void splice(
              stream,
              Duplex.from({ readable: child.stdout, writable: child.stdin }),
              rest,
            );
          },
        }
      : {}),
  };
};
