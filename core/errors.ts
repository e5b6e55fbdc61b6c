/**
 * Errors are values with a stable code and a one-line human message.
 * Every refusal in Pullback is a PullbackError, so the CLI, the handoff protocol and the
 * tray can all show `CODE: message` and map the code to an exit status.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 'the request was malformed or not allowed',
  BAD_CONFIG: 'a configuration file is invalid',
  BAD_ARGS: 'command-line arguments are invalid',
  BUSY: 'another run is already in progress',
  NOT_PAIRED: 'no backup host is configured',
  HOST_KEY_MISMATCH: 'the backup host presented a different host key',
  UNREACHABLE: 'the backup host could not be reached',
  AUTH_FAILED: 'the backup host refused our key',
  PROTOCOL: 'the other side broke the handoff protocol',
  TIMEOUT: 'an operation took too long',
  RSYNC_FAILED: 'rsync failed',
  NO_SPACE: 'the backup host ran out of disk space',
  CANCELLED: 'the run was cancelled',
  REFUSED: 'the gate refused a command',
  MISSING_TOOL: 'a required program is not installed',
  HELPER_FAILED: 'the privileged helper failed',
  NOT_FOUND: 'the requested thing does not exist',
  INTERNAL: 'an unexpected internal error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PullbackError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'PullbackError';
  }
  /** The one-line form used everywhere a user sees an error. */
  toLine(): string {
    return `${this.code}: ${this.message.replace(/\s*\n\s*/g, ' ')}`;
  }
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** Wraps anything thrown into a PullbackError without losing an existing code. */
export function asPullbackError(err: unknown, fallback: ErrorCode = 'INTERNAL'): PullbackError {
  if (err instanceof PullbackError) return err;
  if (
    err &&
    typeof err === 'object' &&
    'code' in err &&
    (err as { code: unknown }).code === 'ENOSPC'
  ) {
    return new PullbackError('NO_SPACE', String((err as { message?: unknown }).message), {
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new PullbackError(fallback, message, { cause: err });
}
