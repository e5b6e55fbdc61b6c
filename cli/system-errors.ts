import { userInfo } from 'node:os';
import { PullbackError } from '../core/errors.js';

/**
 * A file-system refusal (EACCES, EPERM, ENOENT… from Node) as one line a person can act on,
 * instead of `INTERNAL: EACCES: permission denied, open '…'`. Undefined for anything else.
 */
export function describeSystemError(err: unknown): PullbackError | undefined {
  if (!err || typeof err !== 'object' || err instanceof PullbackError) return undefined;
  const { code, path } = err as NodeJS.ErrnoException;
  if (typeof code !== 'string' || typeof path !== 'string') return undefined;
  const who = `the account ${userInfo().username}`;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new PullbackError(
        'BAD_CONFIG',
        `${who} is not allowed to open ${path}: run this as the account that owns it (e.g. sudo -u pullback pullback …)`,
        { cause: err },
      );
    case 'ENOENT':
      return new PullbackError('NOT_FOUND', `${path} does not exist`, { cause: err });
    case 'ENOTDIR':
      return new PullbackError('BAD_CONFIG', `${path}: a part of this path is not a directory`, {
        cause: err,
      });
    default:
      return undefined;
  }
}
