import { spawn } from 'node:child_process';
import { PullbackError } from '../core/errors.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** Runs one program (argv array, no shell) asynchronously; a non-zero exit throws one clear line. */
export function execTool(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    child.once('error', (err) =>
      reject(new PullbackError('MISSING_TOOL', `cannot run ${command}: ${err.message}`)),
    );
    child.once('close', (code, signal) => {
      if (code === 0) return resolve({ stdout, stderr });
      const why = (stderr || stdout).trim().split('\n').slice(-3).join(' | ');
      reject(
        new PullbackError(
          'INTERNAL',
          `${command} ${args.slice(0, 3).join(' ')}… failed (exit ${code ?? signal}): ${why}`,
        ),
      );
    });
  });
}

/** Wall time of `work` in seconds (monotonic clock). */
export async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
