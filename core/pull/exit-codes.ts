import { PullbackError, isErrorCode, type ErrorCode } from '../errors.js';

/**
 * What an rsync exit means for a pull.
 *  ok        0: complete.
 *  vanished 24: files disappeared while being read (a browser cache, a temp file): the snapshot
 *              is what the disk looked like, so it is a success with a warning.
 *  partial  23: some files or attributes could not be read. Still promoted, with the errors as
 *              warnings: a laptop user would rather have 99.9 % than nothing, and failing the
 *              run would fail every run for as long as one unreadable file sits in the sources.
 *              Each entry rsync names as not copied is put back as it was in the previous
 *              snapshot (or left out) before promotion, and listed in the metadata
 *              (not-copied.ts, repository promote()).
 *  failed   anything else: nothing is promoted; .incomplete stays for the next run to resume.
 */
export type PullMeaning = 'ok' | 'vanished' | 'partial' | 'failed';

export const RSYNC_EXIT_MEANINGS: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'syntax or usage error',
  2: 'protocol incompatibility',
  3: 'errors selecting input/output files, dirs',
  4: 'requested action not supported',
  5: 'error starting client-server protocol',
  6: 'daemon unable to append to log-file',
  10: 'error in socket I/O',
  11: 'error in file I/O',
  12: 'error in rsync protocol data stream',
  13: 'errors with program diagnostics',
  14: 'error in IPC code',
  20: 'received SIGUSR1 or SIGINT',
  21: 'some error returned by waitpid()',
  22: 'error allocating core memory buffers',
  23: 'partial transfer due to error',
  24: 'partial transfer due to vanished source files',
  25: 'the --max-delete limit stopped deletions',
  30: 'timeout in data send/receive',
  35: 'timeout waiting for daemon connection',
  255: 'the ssh connection failed',
};

/** Which run an rsync was: the words of the verdict differ, its logic does not. */
export type RsyncJob = 'pull' | 'restore';

interface JobWords {
  noun: string;
  vanished: string;
  partial: string;
  /** what a refused host key means here */
  hostKey: string;
  /** the peer's forced command speaks its own `CODE: message` lines on stderr (serve does) */
  peerSpeaksCodes?: string;
}

const WORDS: Record<RsyncJob, JobWords> = {
  pull: {
    noun: 'pull',
    vanished: 'some files vanished while they were being copied',
    partial:
      'some files or attributes could not be copied: each file named below is in this snapshot as it was in the previous one, or left out if that had none (the snapshot metadata lists them under notCopied)',
    hostKey: "the client's sshd did not present the pinned one-time host key",
  },
  restore: {
    noun: 'restore',
    vanished: 'some entries or attributes could not be restored',
    partial: 'some entries or attributes could not be restored',
    hostKey: 'the backup host did not present the host key pinned at pairing',
    peerSpeaksCodes: 'backup host',
  },
};

export interface RsyncEnd {
  /** a pull (the default) or a restore: only the wording differs */
  job?: RsyncJob;
  /** null when rsync was killed by a signal */
  exitCode: number | null;
  signal?: NodeJS.Signals | null;
  stderrLines: readonly string[];
  /** the run was cancelled by us (AbortSignal) */
  cancelled?: boolean;
}

export interface PullVerdict {
  meaning: PullMeaning;
  warnings: string[];
  error?: PullbackError;
}

const MAX_WARNINGS = 50;

/** rsync's own summary lines, which say nothing the lines before them did not. */
const NOISE = [
  /^rsync error: /,
  /^rsync warning: /,
  /^rsync: connection unexpectedly closed/,
  /^rsync: \[\w+\] write error: Broken pipe/,
  /^rsync: \[\w+\] read error: Connection reset/,
  /^rsync(?:: \[\w+\])?: \s*$/,
];

const NO_SPACE = /No space left on device|Disk quota exceeded|\(28\)$/;

/** ssh's own complaints, most specific first. */
const SSH_ERRORS: [RegExp, ErrorCode][] = [
  [/Host key verification failed|No \S+ host key is known/, 'HOST_KEY_MISMATCH'],
  [/Permission denied \(|Too many authentication failures/, 'AUTH_FAILED'],
  [
    /ssh: connect to host|Connection refused|Connection timed out|No route to host|Network is unreachable|Could not resolve hostname|kex_exchange_identification|Connection closed by|Connection reset by|banner exchange/,
    'UNREACHABLE',
  ],
];

export function meaningfulLines(stderrLines: readonly string[]): string[] {
  return stderrLines
    .map((l) => l.trim())
    .filter((l) => l !== '' && !NOISE.some((re) => re.test(l)));
}

function lastMeaningfulLine(stderrLines: readonly string[]): string | undefined {
  const lines = meaningfulLines(stderrLines);
  return (
    lines[lines.length - 1] ??
    stderrLines
      .map((l) => l.trim())
      .filter(Boolean)
      .pop()
  );
}

function describeExit(code: number | null, signal?: NodeJS.Signals | null): string {
  if (code === null) return `rsync was killed by ${signal ?? 'a signal'}`;
  return `rsync exited with ${code} (${RSYNC_EXIT_MEANINGS[code] ?? 'unknown error'})`;
}

function capWarnings(lines: string[]): string[] {
  if (lines.length <= MAX_WARNINGS) return lines;
  return [...lines.slice(0, MAX_WARNINGS), `… and ${lines.length - MAX_WARNINGS} more`];
}

export function interpretRsyncExit(end: RsyncEnd): PullVerdict {
  const { exitCode, stderrLines } = end;
  const detail = lastMeaningfulLine(stderrLines);
  const fail = (code: ErrorCode, message: string): PullVerdict => ({
    meaning: 'failed',
    warnings: [],
    error: new PullbackError(code, message),
  });
  const what = describeExit(exitCode, end.signal);
  const words = WORDS[end.job ?? 'pull'];

  // A run that finished before our cancel reached it is complete: nothing to throw away.
  if (exitCode === 0) return { meaning: 'ok', warnings: [] };
  if (end.cancelled || exitCode === 20)
    return fail('CANCELLED', `the ${words.noun} was cancelled (${what})`);
  if (exitCode === 24) {
    return {
      meaning: 'vanished',
      warnings: capWarnings([words.vanished, ...meaningfulLines(stderrLines)]),
    };
  }
  if (exitCode === 23) {
    return {
      meaning: 'partial',
      warnings: capWarnings([words.partial, ...meaningfulLines(stderrLines)]),
    };
  }
  const noSpace = stderrLines.find((l) => NO_SPACE.test(l));
  if (noSpace) return fail('NO_SPACE', `${noSpace.trim()} (${what})`);
  if (exitCode === 30 || exitCode === 35) {
    return fail('TIMEOUT', `${what}${detail ? `: ${detail}` : ''}`);
  }
  if (words.peerSpeaksCodes) {
    for (const line of meaningfulLines(stderrLines)) {
      const own = /^([A-Z_]+): (.*)$/.exec(line);
      if (own && isErrorCode(own[1]!)) return fail(own[1], `${words.peerSpeaksCodes}: ${own[2]}`);
    }
  }
  // The client's gate says only `REFUSED` (ssh relays it on stderr); the reason stays in the
  // client's own log, because a reason would tell us which of its paths exist.
  if (meaningfulLines(stderrLines).some((l) => l === 'REFUSED' || l.startsWith('REFUSED: ')))
    return fail(
      'REFUSED',
      `the client's gate refused the command (${what}); the client's log says why`,
    );
  if (
    exitCode === null ||
    exitCode === 255 ||
    exitCode === 12 ||
    exitCode === 10 ||
    exitCode === 5
  ) {
    for (const [re, code] of SSH_ERRORS) {
      const line = stderrLines.find((l) => re.test(l));
      if (!line) continue;
      if (code === 'HOST_KEY_MISMATCH') {
        return fail(code, `${words.hostKey}: ${line.trim()} (${what})`);
      }
      return fail(code, `${line.trim()} (${what})`);
    }
  }
  return fail('RSYNC_FAILED', `${what}${detail ? `: ${detail}` : ''}`);
}
