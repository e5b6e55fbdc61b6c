/**
 * Pullback's privileged helper. Runs as root through pkexec or sudo and does ONE thing: start the
 * one-shot sshd for one system-mode backup. Read it with docs/security.md (system mode).
 *
 *  1. check every argument against an allow-list, and the peer and sources against what root
 *     approved in /etc/pullback/system.json; read from stdin (argv is visible in ps) H, then one
 *     JSON line naming the incremental's change lists, then their bytes: each list for exactly
 *     one of the sources, 1 MiB at most, every name relative and below its tree
 *     (core/system/helper-stdin.ts); anything else is refused before anything is created
 *  2. clean what crashed runs left, make a 0700 one-shot dir owned by pullback-reader, write the
 *     spec and the change lists there (0600, the reader's), and point the gate at the lists;
 *     no program or config path ever comes from the caller
 *  3. drop to pullback-reader keeping only cap_dac_read_search, and only *inheritable*, then run
 *     the listener under nice/ionice; only the rsync copy (file caps =ei) ever makes it effective
 *  4. print {"port","user"} once ready; end the whole tree when stdin closes (the client went
 *     away), at the deadline, or when it ends by itself; remove the one-shot dir
 *
 * Tunnel mode (--tunnel): the listener listens nowhere and says port 0. The rest of stdin, after
 * H and the lists, is relayed to the listener's stdin, and its stdout after its ready line to
 * ours after our ready line: the pull's one SSH connection, which the client carries over its
 * handoff connection. Root must have approved the backup host for tunnel mode.
 */
import { spawn } from 'node:child_process';
import { chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asPullbackError, PullbackError } from '../core/errors.js';
import { gateCommandLine } from '../core/gate/run.js';
import { lookupAccount } from '../core/system/accounts.js';
import { assertApproved, readApprovals } from '../core/system/approvals.js';
import { parseHelperArgv, parseHostPrivateKey } from '../core/system/helper-args.js';
import { readHelperInput } from '../core/system/helper-stdin.js';
import { listFileName } from '../core/change-index/list-file.js';
import {
  cleanStaleSystemOneShotDirs,
  ensureSystemRuntimeBase,
  ONESHOT_PREFIX,
  removeOneShotDir,
} from '../core/system/oneshot-dirs.js';
import {
  APP_CLI_SCRIPT,
  IONICE,
  LISTENER_SCRIPT,
  NICE,
  READ_CAPABILITY,
  READER_USER,
  RSYNC_COPY,
  SETPRIV,
} from '../core/system/paths.js';
import { killTree } from '../core/system/proc.js';
import { writeSecretFile, type OneShotSpec } from '../core/ssh/oneshot.js';
import { ONESHOT_FILES } from '../core/ssh/sshd-config.js';
import { assertTreeNotSwappable } from '../core/system/tree-ownership.js';

/** for H and the change lists (up to 64 MiB through a pipe) */
const STDIN_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 30_000;
/** after the client closes stdin: how long the listener gets to end its one-shot by itself */
const STOP_GRACE_MS = 3_000;

function fail(err: unknown): never {
  const error = asPullbackError(err, 'HELPER_FAILED');
  process.stderr.write(`${error.toLine()}\n`);
  process.exit(error.code === 'BAD_ARGS' ? 2 : 1);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new PullbackError(
      'HELPER_FAILED',
      'the helper must run as root (through pkexec or sudo)',
    );
  const request = parseHelperArgv(process.argv.slice(2));
  // The caller picks K; root alone decides which backup host may use it, to read what.
  assertApproved(request, readApprovals());
  // the gate may serve these by name (it cannot pin what it cannot walk to): only root may swap them
  for (const source of request.sources) assertTreeNotSwappable(source);
  const input = await readHelperInput(process.stdin, request.sources, STDIN_TIMEOUT_MS);
  const hostPrivateKey = parseHostPrivateKey(input.hostKey);
  const reader = lookupAccount(READER_USER);
  if (!reader || reader.uid === 0)
    throw new PullbackError(
      'HELPER_FAILED',
      'system mode is not installed: run sudo pullback system install',
    );

  const base = ensureSystemRuntimeBase();
  cleanStaleSystemOneShotDirs(base);
  // root makes the run dir; the listener (as the reader) makes the sshd dir inside it
  const runDir = mkdtempSync(join(base, `${ONESHOT_PREFIX}${process.pid}-`));
  const specPath = join(runDir, 'spec.json');
  const spec: OneShotSpec = {
    dir: join(runDir, 'sshd'),
    bindAddress: request.bindAddress,
    port: request.port ?? 0,
    allowFrom: request.allowFrom,
    user: READER_USER,
    clientPublicKey: request.clientPublicKey,
    hostPrivateKey,
    gateCommand: gateCommandLine(process.execPath, APP_CLI_SCRIPT, request.sources, RSYNC_COPY, {
      refusalLog: join(runDir, 'sshd', ONESHOT_FILES.refusals),
      ancestorsChecked: true,
      listDir: runDir,
    }),
    deadlineMs: request.deadlineSeconds * 1000,
    ...(request.tunnel ? { tunnel: true } : {}),
  };
  writeFileSync(specPath, JSON.stringify(spec), { mode: 0o600, flag: 'wx' });
  chownSync(specPath, reader.uid, reader.gid);
  // the gate reads its tree's list from here, as in user mode (it checks every name again)
  for (const list of input.lists) {
    const path = join(runDir, listFileName(list.tree));
    writeSecretFile(path, list.data);
    chownSync(path, reader.uid, reader.gid);
  }
  chownSync(runDir, reader.uid, reader.gid);

  // securebits noroot + a one-capability bounding set: even a setuid-root program run below gains nothing else
  const child = spawn(
    SETPRIV,
    [
      `--reuid=${reader.uid}`,
      `--regid=${reader.gid}`,
      '--clear-groups',
      `--inh-caps=-all,+${READ_CAPABILITY.slice(4)}`,
      '--ambient-caps=-all',
      `--bounding-set=-all,+${READ_CAPABILITY.slice(4)}`,
      '--securebits=+noroot,+noroot_locked',
      '--pdeathsig=SIGKILL',
      '--',
      NICE,
      '-n',
      '10',
      IONICE,
      '-c3',
      process.execPath,
      LISTENER_SCRIPT,
      specPath,
    ],
    {
      detached: true,
      cwd: '/',
      // tunnel mode: the listener's stdin and stdout carry the pull's SSH connection
      stdio: [request.tunnel ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    },
  );
  let ready = false;
  let stoppedWith: number | undefined;
  const stop = (why: string, code: number) => {
    if (stoppedWith !== undefined) return;
    stoppedWith = code;
    if (code !== 0) process.stderr.write(`HELPER_FAILED: ${why}\n`);
    const pid = child.pid;
    const running = () => pid !== undefined && child.exitCode === null && child.signalCode === null;
    if (!running()) return;
    if (code !== 0) return killTree(pid!);
    // The client is done: the listener ends its one-shot itself and relays the gate's refusal
    // reasons first; whatever is left after the grace time is killed.
    process.kill(pid!, 'SIGTERM');
    setTimeout(() => running() && killTree(pid!), STOP_GRACE_MS);
  };
  const readyTimer = setTimeout(
    () => stop('the one-shot did not start in time', 1),
    READY_TIMEOUT_MS,
  );
  const deadline = setTimeout(
    () => stop('the deadline passed: the one-shot was ended', 1),
    request.deadlineSeconds * 1000,
  );
  if (request.tunnel && child.stdin) {
    // the tunnel's inbound bytes: what followed the lists, then the rest of stdin
    child.stdin.on('error', () => {}); // the listener gone: its exit ends the run
    if (input.rest.length) child.stdin.write(input.rest);
    process.stdin.pipe(child.stdin);
  }
  process.stdin
    .on('end', () => stop('stdin closed (the client went away)', ready ? 0 : 1))
    .resume();
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
    process.on(signal, () => stop(`got ${signal}`, 1));
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  let out = Buffer.alloc(0);
  child.stdout!.on('data', (chunk: Buffer) => {
    // after the ready line: in tunnel mode the pull's outbound bytes, for the client
    if (ready) return void (request.tunnel && process.stdout.write(chunk));
    out = Buffer.concat([out, chunk]);
    const newline = out.indexOf(0x0a);
    if (newline < 0) return void (out.length > 4096 && stop('the listener said too much', 1));
    let port: unknown;
    try {
      port = (JSON.parse(out.subarray(0, newline).toString('utf8')) as { port?: unknown }).port;
    } catch {
      // not JSON: refused below
    }
    const expected = request.tunnel
      ? port === 0
      : typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
    if (!expected) return stop('the listener reported no port', 1);
    ready = true;
    clearTimeout(readyTimer);
    process.stdout.write(`${JSON.stringify({ port, user: READER_USER })}\n`);
    if (request.tunnel && out.length > newline + 1) process.stdout.write(out.subarray(newline + 1));
  });
  child.on('error', (err) => stop(`cannot start ${SETPRIV}: ${err.message}`, 1));
  child.on('close', (code) => {
    clearTimeout(readyTimer);
    clearTimeout(deadline);
    removeOneShotDir(runDir);
    process.exit(stoppedWith ?? (ready && code === 0 ? 0 : 1));
  });
}

main().catch(fail);
