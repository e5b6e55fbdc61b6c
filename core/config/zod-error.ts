import type { ZodError } from 'zod';
import { PullbackError, type ErrorCode } from '../errors.js';

/** Turns the first zod issue into one line that names the field: `sources.0: must be an absolute path`. */
export function zodToPullbackError(code: ErrorCode, what: string, error: ZodError): PullbackError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  const message = issue ? issue.message : 'invalid';
  return new PullbackError(code, `${what}: ${field}: ${message}`);
}
