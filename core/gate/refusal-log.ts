import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';

/*
 * Why the gate refused, kept on the client. The backup host reads only `REFUSED` (a reason
 * such as "does not exist" would tell it which paths exist); the reason goes into a file in
 * the one-shot directory, which the client reads after the session for its own log.
 */

/** What the peer reads for every refusal, whatever the reason. */
export const PEER_REFUSAL = 'REFUSED';

/** How the system-mode one-shot listener relays these reasons to the client, on its stderr. */
export const GATE_REFUSED_PREFIX = 'GATE_REFUSED: ';

const MAX_LINES = 20;
const MAX_LINE = 500;

/** Appends one reason line; a log that cannot be written never turns a refusal into a run. */
export function appendRefusal(file: string, reason: string): void {
  try {
    const fd = openSync(
      file,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      writeSync(fd, `${oneLine(reason)}\n`);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort: the refusal itself already happened
  }
}

// eslint-disable-next-line no-control-regex -- dropping control characters is the point
const CONTROL = /[\0-\x1f\x7f-\x9f]/g;

function oneLine(text: string): string {
  return text.replace(CONTROL, ' ').slice(0, MAX_LINE);
}

/** The reasons logged so far (none when the file is absent), without control characters. */
export function readRefusals(file: string): string[] {
  let text: string;
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map(oneLine)
    .filter((line) => line.trim() !== '')
    .slice(-MAX_LINES);
}
