import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { freePort } from './ports.js';

/**
 * A real `sshd -D -e` for tests, the demo and benchmarks. Ready means *this* sshd printed
 * "Server listening" (a port probe could reach somebody else's); a port taken between choosing
 * and binding (tests run in parallel) is retried with another one.
 */
export interface SshdDaemon {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

export interface SshdDaemonOptions {
  address: string;
  configFile: string;
  /** the sshd_config text for a port */
  render: (port: number) => string;
  /** keep this port (restarts); otherwise a free one is chosen */
  port?: number;
  /** run inside this network namespace */
  netns?: string;
}

function spawnOnce(
  o: SshdDaemonOptions,
  port: number,
): Promise<{ proc: ChildProcess; log: () => string } | string> {
  writeFileSync(o.configFile, o.render(port), { mode: 0o600 });
  const argv = ['/usr/sbin/sshd', '-D', '-e', '-f', o.configFile];
  const [cmd, ...args] = o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv;
  const proc = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      resolve(`not ready in 10 s: ${log}`);
    }, 10_000);
    proc.stderr!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-200_000);
      if (log.includes(`Server listening on ${o.address} port ${port}`)) {
        clearTimeout(timer);
        resolve({ proc, log: () => log });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve(`exited (${code}): ${log}`);
    });
  });
}

export async function startSshdDaemon(o: SshdDaemonOptions): Promise<SshdDaemon> {
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  let failure = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    // A fresh namespace has nothing listening, and its address may not exist out here.
    const port =
      o.port ?? (o.netns ? 20_000 + Math.floor(Math.random() * 40_000) : await freePort(o.address));
    const started = await spawnOnce(o, port);
    if (typeof started === 'string') {
      failure = started;
      if (o.port) break;
      continue;
    }
    const { proc, log } = started;
    return {
      port,
      log,
      stop: () =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
          proc.once('exit', () => resolve());
          proc.kill('SIGTERM');
        }),
    };
  }
  throw new Error(`sshd on ${o.address} did not start: ${failure}`);
}
