import type { ErrorCode } from '../errors.js';
import { asSentence } from '../format.js';

/**
 * What a failed backup means for the person in front of the screen: what happened, in one
 * sentence, and what to do about it, in another. Raw texts from Node and ssh2
 * (`connect ECONNREFUSED 127.0.0.3:22`, `All configured authentication methods failed`) are
 * recognised and replaced; the raw text is kept only as `detail`, for logs.
 */
export interface ExplainedError {
  code: string;
  /** what happened, one sentence */
  message: string;
  /** what the user can do about it, one sentence */
  hint: string;
  /** the original text, when `message` replaced it */
  detail?: string;
}

/** One sentence per error code: what the user can do about a failed backup. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  HOST_KEY_MISMATCH:
    'If the backup host was reinstalled, pair with it again; otherwise do not back up to it until you know why.',
  UNREACHABLE:
    'Check that the backup host is switched on and that this machine is on the same network.',
  TIMEOUT: 'The backup host took too long to answer; Pullback will try again.',
  AUTH_FAILED:
    'Run the add-client line from pairing on the backup host again ("pullback server add-client").',
  NO_SPACE: "Free space on the backup host's disk, or keep fewer snapshots there (retention).",
  BUSY: 'Another backup of this machine is running, or the backup host is at its limit; Pullback will try again.',
  CANCELLED: 'The next automatic backup starts later on its own.',
  RSYNC_FAILED: "The backup host's log names the file; Pullback will try again.",
  NOT_PAIRED: 'Pair this machine with a backup host first.',
  BAD_CONFIG: 'Fix the settings in Preferences or in the config file.',
  MISSING_TOOL: 'Run "pullback doctor" to see which program is missing.',
  HELPER_FAILED: 'Run "pullback doctor", or back up in user mode instead.',
  PROTOCOL: 'Update Pullback on both machines to the same version.',
  REFUSED:
    'Update Pullback on both machines, and check that the folders to back up exist and are allowed.',
};

const FALLBACK_HINT = 'Pullback will try again; its log has the details.';

export function hintFor(code: string): string {
  return HINTS[code as ErrorCode] ?? FALLBACK_HINT;
}

/** `1.2.3.4:22` or `[::1]:22` out of a Node socket message, if it names one. */
function endpointIn(text: string): string | undefined {
  return /(\[[0-9a-f:.]+\]:\d+|\d{1,3}(?:\.\d{1,3}){3}:\d+)/i.exec(text)?.[1];
}

interface Translation {
  match: RegExp;
  code?: ErrorCode;
  message(where: string): string;
  hint?: string;
}

const TRANSLATIONS: Translation[] = [
  {
    match: /ECONNREFUSED/,
    message: (where) => `The backup host${where} refused the connection: no SSH server answers.`,
    hint: 'Check that the SSH server runs on the backup host and that the port in the pairing is right.',
  },
  {
    match: /ETIMEDOUT|did not answer within|handshake timed out|Timed out while waiting/i,
    message: (where) => `The backup host${where} did not answer in time.`,
  },
  {
    match: /EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN|No route to host/,
    message: (where) => `There is no network route to the backup host${where}.`,
    hint: 'Check that this machine is connected to the network the backup host is on.',
  },
  {
    match: /ENOTFOUND|EAI_AGAIN|cannot resolve|getaddrinfo/,
    message: () => "The backup host's name could not be looked up.",
    hint: "Check the network connection, or pair using the backup host's address instead of its name.",
  },
  {
    match: /ECONNRESET|EPIPE|socket hang up|Connection lost/i,
    message: (where) => `The backup host${where} closed the connection unexpectedly.`,
    hint: "Pullback will try again; if it keeps happening, check the backup host's SSH logs.",
  },
  {
    match: /All configured authentication methods failed|refused our key|Permission denied/,
    code: 'AUTH_FAILED',
    message: () => "The backup host no longer accepts this machine's key.",
  },
  {
    match: /different host key|host key changed|Host key verification failed/i,
    code: 'HOST_KEY_MISMATCH',
    message: () =>
      'The backup host presented a different identity (host key) than the one pinned when pairing.',
  },
];

/** Turns a code and message (ours or a raw Node/ssh2 text) into what happened and what to do. */
export function explainError(code: string, message: string): ExplainedError {
  const translation = TRANSLATIONS.find((t) => t.match.test(message));
  if (!translation) return { code, message: asSentence(message), hint: hintFor(code) };
  const endpoint = endpointIn(message);
  const finalCode = translation.code ?? code;
  return {
    code: finalCode,
    message: translation.message(endpoint ? ` (${endpoint})` : ''),
    hint: translation.hint ?? hintFor(finalCode),
    detail: message,
  };
}
