import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createServer, isIP, Socket, type Server } from 'node:net';
import { Duplex } from 'node:stream';
import { splice } from '../splice.js';
import { dirname, isAbsolute, join } from 'node:path';
import { PullbackError } from '../errors.js';
import { clientStateDir } from '../config/paths.js';
import { parsePublicKey } from './keys.js';
import { ssh2Utils } from './ssh2-utils.js';
import { readRefusals } from '../gate/refusal-log.js';
import { isProcessAlive, ProcessTreeTracker, readProcessInfo } from '../process-tree.js';
import {
  checkAccountName,
  checkGateCommand,
  ONESHOT_FILES,
  renderAuthorizedKeysLine,
  renderOneShotSshdConfig,
} from './sshd-config.js';

/**
 * Everything needed to run one one-shot sshd. Plain JSON: in system mode another process,
 * running as the reader account, runs the listener from this spec.
 */
export interface OneShotSpec {
  /** the 0700 runtime directory it creates (the parent must exist; see makeOneShotDir) */
  dir: string;
  bindAddress: string;
  /** 0 = let the kernel pick */
  port: number;
  /** the backup host's address: the only peer accepted, and the key's from= */
  allowFrom: string;
  /** the only account that may log in */
  user: string;
  /** K, public half */
  clientPublicKey: string;
  /** H, private half (OpenSSH format) */
  hostPrivateKey: string;
  /** the forced command */
  gateCommand: string;
  /** the whole tree dies this many ms after start, and K expires then */
  deadlineMs: number;
  loginGraceSeconds?: number;
  /** default /usr/sbin/sshd */
  sshdPath?: string;
  /**
   * tunnel mode: no listener at all; the one connection arrives as a stream over the handoff's
   * own channel (OneShot.attach). bindAddress, port and allowFrom are then unused.
   */
  tunnel?: boolean;
}

export type OneShotEndReason = 'session-ended' | 'deadline' | 'killed' | 'error';

export interface OneShotOutcome {
  reason: OneShotEndReason;
  /** sshd's exit status, when it exited by itself */
  exitCode?: number | null;
  /** the kill reason or the error message */
  detail?: string;
  /** what sshd logged (LogLevel VERBOSE), for diagnostics */
  sshdLog?: string;
  /** why the gate refused commands in this session: for the client's own log, never the peer */
  gateRefusals?: string[];
}

export interface OneShot {
  port: number;
  dir: string;
  /** settles (never rejects) once the tree is dead and the directory with its secrets is gone */
  done: Promise<OneShotOutcome>;
  /** ends it now; resolves when `done` has settled */
  kill(reason?: string): Promise<void>;
  /**
   * tunnel mode: runs `sshd -i` on this stream (its one connection), `rest` being bytes already
   * read from it. A second call, or a call on a listening one-shot, is refused.
   */
  attach(stream: Duplex, rest?: Buffer): void;
}

const DEFAULT_SSHD = '/usr/sbin/sshd';
const DEFAULT_LOGIN_GRACE_SECONDS = 30;
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_LOG_CHARS = 64 * 1024;
/** how often the tree is walked, so that orphans can still be found and killed later */
const TRACK_INTERVAL_MS = 500;
const SSHD_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

function badRequest(message: string): never {
  throw new PullbackError('BAD_REQUEST', message);
}

function validateSpec(spec: OneShotSpec): Required<OneShotSpec> {
  if (!isAbsolute(spec.dir)) badRequest(`the one-shot directory must be absolute, got ${spec.dir}`);
  if (!existsSync(dirname(spec.dir))) badRequest(`${dirname(spec.dir)} does not exist`);
  if (!spec.tunnel && isIP(spec.bindAddress) === 0)
    badRequest(`bindAddress must be an IP address, got ${spec.bindAddress}`);
  if (!spec.tunnel && isIP(spec.allowFrom) === 0)
    badRequest(`allowFrom must be an IP address, got ${spec.allowFrom}`);
  if (!Number.isInteger(spec.port) || spec.port < 0 || spec.port > 65535) {
    badRequest(`port must be 0..65535, got ${spec.port}`);
  }
  if (!Number.isInteger(spec.deadlineMs) || spec.deadlineMs < 1 || spec.deadlineMs > MAX_TIMER_MS) {
    badRequest(`deadlineMs must be 1..${MAX_TIMER_MS}, got ${spec.deadlineMs}`);
  }
  parsePublicKey(spec.clientPublicKey);
  const host = ssh2Utils().parseKey(spec.hostPrivateKey);
  if (host instanceof Error || host.type !== 'ssh-ed25519' || !host.isPrivateKey()) {
    badRequest('hostPrivateKey must be an unencrypted ed25519 private key in OpenSSH format');
  }
  checkGateCommand(spec.gateCommand);
  checkAccountName(spec.user);
  const sshdPath = spec.sshdPath ?? DEFAULT_SSHD;
  if (!isAbsolute(sshdPath))
    badRequest(`sshdPath must be absolute (sshd insists), got ${sshdPath}`);
  if (!existsSync(sshdPath)) {
    throw new PullbackError('MISSING_TOOL', `${sshdPath} not found: install openssh-server`);
  }
  return {
    ...spec,
    loginGraceSeconds: spec.loginGraceSeconds ?? DEFAULT_LOGIN_GRACE_SECONDS,
    sshdPath,
    tunnel: spec.tunnel ?? false,
  };
}

/** Creates a new file 0600, refusing to follow or reuse anything already there. */
export function writeSecretFile(path: string, content: string | Uint8Array): void {
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    fchmodSync(fd, 0o600);
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    for (let at = 0; at < data.length;) at += writeSync(fd, data, at);
  } finally {
    closeSync(fd);
  }
}

/** The pid file names this process by pid and start time, so a recycled pid is not taken for us. */
function ownerStamp(): string {
  return `${process.pid} ${readProcessInfo(process.pid)?.startTime ?? ''}`.trim() + '\n';
}

/**
 * Creates a one-time secrets directory: 0700, ours, never an existing one (no reuse, no
 * adoption), with the pid file that lets cleanStaleOneShotDirs remove it after a crash (S9).
 */
export function createOneShotDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 }); // fails if it exists
  } catch (err) {
    throw new PullbackError('INTERNAL', `cannot create ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  chmodSync(dir, 0o700);
  const st = lstatSync(dir);
  if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) {
    throw new PullbackError('INTERNAL', `${dir} is not a directory of ours`);
  }
  writeSecretFile(join(dir, ONESHOT_FILES.pid), ownerStamp());
}

/** Writes the secrets and the config into the freshly created spec.dir. */
function prepareDirectory(spec: Required<OneShotSpec>, expiresAt: Date): string {
  const hostKey = spec.hostPrivateKey.endsWith('\n')
    ? spec.hostPrivateKey
    : spec.hostPrivateKey + '\n';
  writeSecretFile(join(spec.dir, ONESHOT_FILES.hostKey), hostKey);
  const keyLine = renderAuthorizedKeysLine({
    publicKey: spec.clientPublicKey,
    from: spec.tunnel ? null : spec.allowFrom,
    expiresAt,
    command: spec.gateCommand,
  });
  writeSecretFile(join(spec.dir, ONESHOT_FILES.authorizedKeys), keyLine + '\n');
  const config = renderOneShotSshdConfig({
    dir: spec.dir,
    user: spec.user,
    gateCommand: spec.gateCommand,
    loginGraceSeconds: spec.loginGraceSeconds,
  });
  const configFile = join(spec.dir, ONESHOT_FILES.config);
  writeSecretFile(configFile, config);
  return configFile;
}

/** `sshd -t`: sshd itself checks the config, keys and privilege-separation setup. */
function testSshdConfig(sshdPath: string, configFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      sshdPath,
      ['-t', '-f', configFile],
      { env: SSHD_ENV, timeout: 10_000 },
      (err, _out, stderr) => {
        if (!err) return resolve();
        const why = String(stderr).trim().split('\n').slice(-3).join('; ') || err.message;
        const hint = /privilege separation directory/i.test(why)
          ? ' (as root: mkdir -p /run/sshd)'
          : '';
        reject(
          new PullbackError('INTERNAL', `sshd refused the one-shot configuration: ${why}${hint}`),
        );
      },
    );
  });
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(new PullbackError('INTERNAL', `cannot listen on ${host}:${port}: ${err.message}`)),
    );
    server.listen({ host, port, exclusive: true }, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) compares equal to `1.2.3.4`. */
function sameAddress(a: string | undefined, b: string): boolean {
  const plain = (s: string) => s.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();
  return a !== undefined && plain(a) === plain(b);
}

/**
 * Starts the one-shot: a listener that accepts exactly one connection from spec.allowFrom
 * (any other peer is reset unanswered and does not use up the shot), hands that socket to
 * `sshd -i`, and kills the whole tree at the deadline. See DESIGN §4 "The one shot".
 */
export async function startOneShotSshd(input: OneShotSpec): Promise<OneShot> {
  const spec = validateSpec(input);
  const startedAt = Date.now();
  createOneShotDir(spec.dir);
  let configFile: string;
  try {
    configFile = prepareDirectory(spec, new Date(startedAt + spec.deadlineMs));
    await testSshdConfig(spec.sshdPath, configFile);
  } catch (err) {
    rmSync(spec.dir, { recursive: true, force: true });
    if (err instanceof PullbackError) throw err;
    throw new PullbackError('INTERNAL', `cannot prepare ${spec.dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }

  const server = createServer({ pauseOnConnect: true });
  let port = 0;
  try {
    // tunnel mode listens nowhere: the one connection comes through attach()
    if (!spec.tunnel) port = await listen(server, spec.bindAddress, spec.port);
  } catch (err) {
    server.close();
    rmSync(spec.dir, { recursive: true, force: true });
    throw err;
  }

  let sshd: ChildProcess | undefined;
  let tracker: ProcessTreeTracker | undefined;
  let trackTimer: NodeJS.Timeout | undefined;
  let log = '';
  let finishing: Promise<OneShotOutcome> | undefined;
  let resolveDone!: (outcome: OneShotOutcome) => void;
  const done = new Promise<OneShotOutcome>((resolve) => (resolveDone = resolve));

  // fires from the event loop, long after `finish` below exists
  const deadlineTimer = setTimeout(
    () => void finish('deadline', { detail: `deadline of ${spec.deadlineMs} ms reached` }),
    Math.max(0, startedAt + spec.deadlineMs - Date.now()),
  );

  const finish = (reason: OneShotEndReason, extra: Omit<OneShotOutcome, 'reason'> = {}) => {
    finishing ??= (async () => {
      // done must settle whatever happens: failures are noted, never thrown
      const outcome: OneShotOutcome = { reason, ...extra };
      const note = (what: string, err: unknown) =>
        (outcome.detail = `${outcome.detail ?? reason}; ${what}: ${(err as Error).message}`);
      clearTimeout(deadlineTimer);
      clearInterval(trackTimer);
      server.close();
      try {
        if (tracker) await tracker.killAll(2000);
      } catch (err) {
        note('could not kill the sshd tree', err);
      }
      sshd?.stderr?.destroy();
      const refusals = readRefusals(join(spec.dir, ONESHOT_FILES.refusals));
      if (refusals.length) outcome.gateRefusals = refusals;
      try {
        rmSync(spec.dir, { recursive: true, force: true });
      } catch (err) {
        note(`could not remove ${spec.dir} (the next start retries)`, err);
      }
      if (log) outcome.sshdLog = log;
      resolveDone(outcome);
      return outcome;
    })();
    return finishing;
  };

  /** A socket is handed to sshd itself; a tunnel stream is relayed through sshd's stdio pipes. */
  const handOver = (connection: Socket | { stream: Duplex; rest?: Buffer }) => {
    server.close(); // the one shot is taken: later connections are refused by the kernel
    const isSocket = connection instanceof Socket;
    try {
      sshd = spawn(spec.sshdPath, ['-i', '-e', '-f', configFile], {
        stdio: isSocket ? [connection, connection, 'pipe'] : ['pipe', 'pipe', 'pipe'],
        detached: true, // sshd leads its own process group
        env: SSHD_ENV,
      });
    } catch (err) {
      (isSocket ? connection : connection.stream).destroy();
      void finish('error', { detail: `cannot start sshd: ${(err as Error).message}` });
      return;
    }
    if (isSocket) {
      // sshd holds its own copy now; destroy() closes ours without shutting the connection down
      connection.destroy();
    } else {
      relayStream(connection.stream, connection.rest, sshd);
    }
    sshd.stderr?.setEncoding('utf8');
    sshd.stderr?.on('data', (chunk: string) => {
      log = (log + chunk).slice(-MAX_LOG_CHARS);
    });
    sshd.once('error', (err) => void finish('error', { detail: `sshd: ${err.message}` }));
    sshd.once('exit', (code) => void finish('session-ended', { exitCode: code }));
    if (sshd.pid !== undefined) {
      tracker = new ProcessTreeTracker(sshd.pid);
      trackTimer = setInterval(() => tracker?.refresh(), TRACK_INTERVAL_MS);
    }
  };

  server.on('connection', (socket: Socket) => {
    if (sshd || finishing || !sameAddress(socket.remoteAddress, spec.allowFrom)) {
      socket.resetAndDestroy(); // unanswered: not even an SSH banner
      return;
    }
    handOver(socket);
  });
  server.on('error', (err) => void finish('error', { detail: `listener: ${err.message}` }));

  return {
    port,
    dir: spec.dir,
    done,
    kill: async (reason = 'killed') => {
      await finish('killed', { detail: reason });
    },
    attach: (stream, rest) => {
      if (!spec.tunnel || sshd || finishing) {
        stream.destroy();
        throw new PullbackError('REFUSED', 'this one-shot takes no (further) tunnel connection');
      }
      handOver({ stream, rest });
    },
  };
}

/** Tunnel mode: the stream's bytes go to sshd's stdin, its stdout back; either end closing ends both. */
function relayStream(stream: Duplex, rest: Buffer | undefined, sshd: ChildProcess): void {
  if (!sshd.stdin || !sshd.stdout) return;
  sshd.stdin.on('error', () => {}); // sshd gone: its exit ends the one-shot
  void splice(stream, Duplex.from({ readable: sshd.stdout, writable: sshd.stdin }), rest);
}

/** Creates `base` 0700 if needed and returns a fresh `oneshot-<random>` path in it (not yet created). */
export function makeOneShotDir(base: string): string {
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const st = lstatSync(base);
  if (!st.isDirectory()) throw new PullbackError('INTERNAL', `${base} is not a directory`);
  if (process.getuid && st.uid === process.getuid()) chmodSync(base, 0o700);
  return join(base, `oneshot-${randomBytes(8).toString('hex')}`);
}

/** A directory without a pid file younger than this may be in the middle of being set up. */
const PID_FILE_GRACE_MS = 60_000;

function ownerIsAlive(dir: string): boolean {
  let stamp: string;
  try {
    stamp = readFileSync(join(dir, ONESHOT_FILES.pid), 'utf8');
  } catch {
    return Date.now() - lstatSync(dir).mtimeMs < PID_FILE_GRACE_MS;
  }
  const [pid, startTime] = stamp.trim().split(/\s+/).map(Number);
  if (!pid || !Number.isInteger(pid)) return false;
  return isProcessAlive(pid, Number.isInteger(startTime) ? startTime : undefined);
}

/**
 * Removes `oneshot-*` directories under base whose owner process is gone: what a crashed run
 * left behind is cleaned at the next start (S9). Returns the removed paths.
 */
export function cleanStaleOneShotDirs(base: string): string[] {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith('oneshot-')) continue;
    const dir = join(base, name);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) continue;
      if (ownerIsAlive(dir)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // vanished meanwhile, or not ours: leave it
    }
  }
  return removed;
}

/**
 * Where one-shot directories live: `$PULLBACK_STATE_DIR/run` (tests), else
 * `$XDG_RUNTIME_DIR/pullback` (tmpfs, gone at logout), else `<state dir>/run`.
 */
export function defaultRuntimeBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PULLBACK_STATE_DIR) return join(env.PULLBACK_STATE_DIR, 'run');
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && isAbsolute(runtime)) {
    try {
      accessSync(runtime, constants.W_OK);
      return join(runtime, 'pullback');
    } catch {
      // not writable: fall through
    }
  }
  return join(clientStateDir(env), 'run');
}
