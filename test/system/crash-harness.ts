import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import type { LaunchedOneShot } from '../../core/handoff/oneshot-launcher.js';
import {
  PROTOCOL_VERSION,
  responseSchema,
  type HandoffResponse,
} from '../../core/handoff/messages.js';
import { openRepository } from '../../core/storage/repository.js';

/**
 * `pullback serve` run directly as a child process (as sshd would run the forced command), so
 * a test can set its environment (PULLBACK_TEST_PAUSE_AT) and kill it, or its rsync, with
 * SIGKILL. The client side is real: a user-mode one-shot sshd on 127.0.0.2 that admits only
 * 127.0.0.3, the address serve connects back from.
 */
export const CLIENT_ADDRESS = '127.0.0.2';
export const HOST_ADDRESS = '127.0.0.3';

export interface ServeRun {
  child: ChildProcess;
  pid: number;
  responses: HandoffResponse[];
  stderr(): string;
  waitForResponse(
    match: (r: HandoffResponse) => boolean,
    timeoutMs?: number,
  ): Promise<HandoffResponse>;
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** resolves when serve has exited and the one-shot is gone */
  finished: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    final?: HandoffResponse;
  }>;
  oneShot: LaunchedOneShot;
}

export interface ServeRunOptions {
  client: string;
  configFile: string;
  sources: string[];
  env?: NodeJS.ProcessEnv;
  bwlimitKiB?: number;
}

export async function startServeRun(o: ServeRunOptions): Promise<ServeRun> {
  const k = generateKeyPair('pullback-test-K');
  const h = generateKeyPair('pullback-test-H');
  const oneShot = await launchUserOneShot({
    bindAddress: CLIENT_ADDRESS,
    allowFrom: HOST_ADDRESS,
    clientPublicKey: k.publicKey,
    hostPrivateKey: h.privateKey,
    sources: o.sources,
    deadlineMs: 120_000,
  });
  const child = spawn(
    process.execPath,
    [PULLBACK_CLI_SCRIPT, 'serve', '--client', o.client, '--config', o.configFile],
    {
      env: {
        ...process.env,
        SSH_CONNECTION: `${CLIENT_ADDRESS} 50000 ${HOST_ADDRESS} 22`,
        ...o.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const responses: HandoffResponse[] = [];
  let stderr = '';
  let out = '';
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      responses.push(responseSchema.parse(JSON.parse(line)));
    }
    notify();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    notify();
  });
  // Keep stdin open: serve takes its end as "the client went away".
  child.stdin!.on('error', () => {});
  child.stdin!.write(
    JSON.stringify({
      v: PROTOCOL_VERSION,
      type: 'backup',
      port: oneShot.port,
      privateKey: k.privateKey,
      hostKey: h.publicKey,
      user: oneShot.user,
      sources: o.sources,
      excludes: [],
      options: o.bwlimitKiB ? { bwlimitKiB: o.bwlimitKiB } : {},
      clientVersion: 'crash-test',
    }) + '\n',
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      notify();
      resolve({ code, signal });
    }),
  );
  const until = (what: string, ok: () => boolean, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (ok()) {
          cleanup();
          resolve();
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(
            new Error(
              `serve exited before ${what}; responses ${JSON.stringify(responses)}; stderr ${stderr}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `no ${what} within ${timeoutMs} ms; responses ${JSON.stringify(responses)}; stderr ${stderr}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return {
    child,
    pid: child.pid!,
    responses,
    stderr: () => stderr,
    async waitForResponse(match, timeoutMs = 60_000) {
      await until('matching response', () => responses.some(match), timeoutMs);
      return responses.find(match)!;
    },
    waitForStderr: (pattern, timeoutMs = 60_000) =>
      until(`stderr ${pattern}`, () => pattern.test(stderr), timeoutMs),
    finished: exited.then(async (end) => {
      child.stdin!.destroy();
      await oneShot.stop();
      const final = responses.find((r) => r.type === 'done' || r.type === 'error');
      return { ...end, ...(final ? { final } : {}) };
    }),
    oneShot,
  };
}

/** Runs serve to its end and expects a snapshot. */
export async function backupThroughServe(o: ServeRunOptions): Promise<string> {
  const run = await startServeRun(o);
  const end = await run.finished;
  if (end.final?.type !== 'done')
    throw new Error(
      `the run did not complete: ${JSON.stringify(end.final)}; stderr ${run.stderr()}`,
    );
  return end.final.snapshot;
}

/** Everything about every complete snapshot of a client: names, inodes, modes, sizes, times, sha256. */
export async function fingerprintSnapshots(
  storage: string,
  client: string,
): Promise<Map<string, string>> {
  const repo = openRepository(storage, client, { backend: 'auto' });
  const result = new Map<string, string>();
  for (const s of await repo.listSnapshots()) {
    const lines: string[] = [readFileSync(`${s.path}.json`, 'utf8')];
    const walk = (d: string) => {
      for (const name of readdirSync(d).sort()) {
        const p = join(d, name);
        const st = lstatSync(p);
        const sum = st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : '-';
        lines.push(
          `${relative(s.path, p)} ino=${st.ino} mode=${st.mode.toString(8)} size=${st.size} mtime=${st.mtimeMs} ${sum}`,
        );
        if (st.isDirectory()) walk(p);
      }
    };
    walk(s.path);
    // and every xattr (user.rsync.%stat holds the client's mode and owner, ACLs theirs)
    const xattrs = spawnSync('getfattr', ['-R', '-d', '-m', '-', '-h', '-e', 'hex', '.'], {
      cwd: s.path,
      encoding: 'utf8',
    });
    if (xattrs.status !== 0) throw new Error(`getfattr failed: ${xattrs.stderr}`);
    lines.push(xattrs.stdout);
    result.set(s.id, createHash('sha256').update(lines.join('\n')).digest('hex'));
  }
  return result;
}
