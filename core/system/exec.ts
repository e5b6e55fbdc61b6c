import { spawnSync } from 'node:child_process';
import { PullbackError, type ErrorCode } from '../errors.js';

/** Runs a system tool synchronously (argv array, no shell); a failure becomes one clear line. */
export function runTool(command: string, args: string[], code: ErrorCode = 'INTERNAL'): string {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
  if (result.error)
    throw new PullbackError('MISSING_TOOL', `cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const why = (result.stderr || result.stdout).trim().split('\n')[0] ?? '';
    throw new PullbackError(
      code,
      `${command} ${args.join(' ')} failed (exit ${result.status}): ${why}`,
    );
  }
  return result.stdout;
}

/** Like runTool but returns undefined instead of throwing (for probes). */
export function probeTool(
  command: string,
  args: string[],
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
  return {
    status: result.error ? null : result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
  };
}
