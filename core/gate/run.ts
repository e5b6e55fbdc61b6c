import { spawn } from 'node:child_process';
import {
  closeSync,
  constants as fsConstants,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { asPullbackError, PullbackError } from '../errors.js';
import { forcedCommandLine } from '../ssh/forced-command.js';
import { pinTree } from './pin.js';
import { appendRefusal, PEER_REFUSAL } from './refusal-log.js';
import { assertRsyncConfines } from './rsync-confine.js';
import { treeArgument } from './trees.js';
import { validateSenderCommand } from './validate.js';
import { listFileName, MAX_LIST_BYTES, validateFileList } from '../change-index/list-file.js';

export interface GateOptions {
  /** trees the backup host may read (absolute, existing) */
  allow: string[];
  /** validate only: print the argv that would run */
  check: boolean;
  /** the rsync binary to run, default /usr/bin/rsync */
  rsyncPath?: string;
  /** where SSH_ORIGINAL_COMMAND comes from, default process.env */
  env?: NodeJS.ProcessEnv;
  /** why a command was refused goes here (the client reads it after the session), never to the peer */
  refusalLog?: string;
  /**
   * System mode: the root helper refused trees with an ancestor a non-root user could swap, so
   * a tree the gate (without capabilities) cannot walk to may be passed to rsync by name.
   */
  ancestorsChecked?: boolean;
  /** the one-shot directory's change lists (the client wrote them): an incremental may use them */
  listDir?: string;
}

/** The pinned tree as rsync gets it: fd 3 of rsync, or (system mode, see above) the name. */
interface RsyncSource {
  fd?: number;
  source: string;
  confineRoot: string;
}

/** rsync's fd 3 is the pinned tree: the spawn's fourth stdio slot. */
const PINNED_FD_IN_RSYNC = 3;
/**
 * Reads and checks the client's own change list of `tree` (never a name from the peer): the
 * names rsync is then given as its source arguments, each below the pinned tree. (Not as a
 * --files-from file: rsync 3.5 confines that file itself to --confine-root, i.e. to the tree.)
 */
function readChangeList(listDir: string | undefined, tree: string): string[] {
  if (listDir === undefined) throw new PullbackError('REFUSED', 'this one-shot has no change list');
  let data: Buffer;
  try {
    const fd = openSync(
      join(listDir, listFileName(tree)),
      fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW,
    );
    try {
      if (!fstatSync(fd).isFile() || fstatSync(fd).size > MAX_LIST_BYTES)
        throw new PullbackError('REFUSED', 'the change list is not a plain file of sane size');
      data = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (err instanceof PullbackError) throw err;
    throw new PullbackError('REFUSED', `there is no change list for tree ${JSON.stringify(tree)}`);
  }
  return validateFileList(data);
}

/**
 * rsync's source arguments for the listed entries: `<root>/./<name>` (with -R, the part after
 * "/./" is the name on the receiver, and its parents come along as implied directories), and
 * `<root>/./.` for the tree's own directory (which, with --dirs, brings its direct entries too).
 */
function listedSources(root: string, names: readonly string[]): string[] {
  const base = root.endsWith('/') ? root : `${root}/`;
  return names.map((name) => `${base}./${name}`);
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

/** Pins the tree (pin.ts); only in system mode may an unwalkable tree go by name. */
function pinForRsync(tree: string, ancestorsChecked: boolean): RsyncSource {
  try {
    const pinned = pinTree(tree, process.getuid ? [process.getuid()] : []);
    return {
      fd: pinned.fd,
      source: `/proc/self/fd/${PINNED_FD_IN_RSYNC}/`,
      confineRoot: pinned.realPath,
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    if (ancestorsChecked) return { source: treeArgument(tree), confineRoot: tree };
    throw new PullbackError(
      'REFUSED',
      `tree ${JSON.stringify(tree)} cannot be reached: ${(err as Error).message}`,
    );
  }
}

/**
 * The forced command of the one-shot sshd: validates SSH_ORIGINAL_COMMAND, pins the one tree
 * it asks for and runs a read-only rsync sender confined to that tree. Returns the exit status
 * for the process (rsync's own when it ran). A refusal prints exactly one generic `REFUSED`
 * line on stderr for the peer, puts the reason into the refusal log, and returns 1; with
 * --check (run by hand) it prints the reason instead.
 */
export async function runGate(opts: GateOptions): Promise<number> {
  const env = opts.env ?? process.env;
  let argv: string[];
  let pinned: RsyncSource;
  let listed: string[] | undefined;
  try {
    const rsyncPath = opts.rsyncPath ?? '/usr/bin/rsync';
    assertRsyncConfines(rsyncPath);
    const request = validateSenderCommand(env.SSH_ORIGINAL_COMMAND ?? '', opts.allow);
    if (request.listed) listed = readChangeList(opts.listDir, request.tree);
    pinned = pinForRsync(request.tree, opts.ancestorsChecked ?? false);
    const rsyncArgv = [
      '--server',
      '--sender',
      ...request.options,
      // the receiver's --files-from implies --dirs on a sender that reads the list itself
      ...(listed ? ['--dirs'] : []),
      `--confine-root=${pinned.confineRoot}`,
      '.',
      ...(listed ? listedSources(pinned.source, listed) : [pinned.source]),
    ];
    argv = execArgv(rsyncArgv, rsyncPath);
  } catch (err) {
    const line = asPullbackError(err).toLine();
    if (opts.refusalLog) appendRefusal(opts.refusalLog, line);
    process.stderr.write(`${opts.check ? line : PEER_REFUSAL}\n`);
    return 1;
  }
  if (opts.check) {
    process.stdout.write(`${JSON.stringify(argv)}\n`);
    return 0;
  }
  return runInherited(argv, pinned.fd);
}

/** Runs argv with the gate's stdio (the rsync protocol stream), `fd` as its fd 3, and passes stop signals on. */
function runInherited(argv: string[], fd: number | undefined): Promise<number> {
  const [program = '', ...args] = argv;
  return new Promise((resolve) => {
    const stdio: ('inherit' | number)[] = ['inherit', 'inherit', 'inherit'];
    if (fd !== undefined) stdio[PINNED_FD_IN_RSYNC] = fd;
    const child = spawn(program, args, { stdio });
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
  extra: { refusalLog?: string; ancestorsChecked?: boolean; listDir?: string } = {},
): string {
  return forcedCommandLine([nodePath, cliScript, ...gateArgs(allow, { rsyncPath, ...extra })]);
}

/** `gate --allow T…` and its options: the one spelling of the gate's command line. */
export function gateArgs(
  allow: readonly string[],
  o: { rsyncPath?: string; refusalLog?: string; ancestorsChecked?: boolean; listDir?: string } = {},
): string[] {
  const argv = ['gate', ...allow.flatMap((tree) => ['--allow', tree])];
  if (o.rsyncPath !== undefined) argv.push('--rsync', o.rsyncPath);
  if (o.refusalLog !== undefined) argv.push('--refusal-log', o.refusalLog);
  if (o.ancestorsChecked) argv.push('--ancestors-checked');
  if (o.listDir !== undefined) argv.push('--lists', o.listDir);
  return argv;
}
