import type { ErrorCode } from '../core/errors.js';

/** Documented exit codes (docs/cli.md): scripts and cron can tell why a run failed. */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  BUSY: 3,
  UNREACHABLE: 4,
  TRUST: 5,
  NO_SPACE: 6,
  CANCELLED: 7,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'BAD_ARGS':
    case 'BAD_CONFIG':
    case 'BAD_REQUEST':
    case 'REFUSED':
    case 'NOT_PAIRED':
    case 'MISSING_TOOL':
      return EXIT.USAGE;
    case 'BUSY':
      return EXIT.BUSY;
    case 'UNREACHABLE':
    case 'TIMEOUT':
      return EXIT.UNREACHABLE;
    case 'HOST_KEY_MISMATCH':
    case 'AUTH_FAILED':
      return EXIT.TRUST;
    case 'NO_SPACE':
      return EXIT.NO_SPACE;
    case 'CANCELLED':
      return EXIT.CANCELLED;
    default:
      return EXIT.FAILED;
  }
}
