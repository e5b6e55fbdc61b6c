import type { ErrorCode } from '../errors.js';

/** One sentence per error code: what the user can do about a failed backup. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  HOST_KEY_MISMATCH:
    "The backup host's identity changed; if it was reinstalled, pair again, otherwise do not back up to it until you know why.",
  UNREACHABLE:
    'The backup host did not answer; check that it is switched on and that this machine is on the same network.',
  TIMEOUT: 'The backup host took too long to answer; Pullback will try again.',
  AUTH_FAILED:
    "The backup host no longer accepts this machine's key; run the add-client line from pairing on the backup host again.",
  NO_SPACE: "The backup host's disk is full; free space there or keep fewer snapshots (retention).",
  BUSY: 'The backup host is busy (another backup of this machine, or its limit of backups at once); Pullback will try again.',
  CANCELLED: 'The backup was cancelled; the next automatic backup starts later on its own.',
  RSYNC_FAILED:
    "Copying files failed; the backup host's log names the file, and Pullback will try again.",
  NOT_PAIRED: 'This machine is not paired with a backup host yet; pair with one first.',
  BAD_CONFIG: 'The settings are invalid; fix them in Preferences or in the config file.',
  MISSING_TOOL: 'A program Pullback needs is missing; run "pullback doctor" to see which.',
  HELPER_FAILED:
    'The privileged helper failed; run "pullback doctor", or back up in user mode instead.',
  PROTOCOL:
    'The two machines disagree about the backup protocol; update Pullback on both to the same version.',
  REFUSED:
    'This machine refused what the backup host asked for; update Pullback on both machines and check the folders to back up.',
};

const FALLBACK_HINT =
  'Something unexpected failed; Pullback will try again, and its log has the details.';

export function hintFor(code: string): string {
  return HINTS[code as ErrorCode] ?? FALLBACK_HINT;
}
