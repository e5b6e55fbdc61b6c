import { realpathSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { PullbackError } from '../errors.js';

/*
 * The gate's validator: the one place that decides what the backup host may run on the client.
 *
 * A remote `rsync -e ssh` sends one command string (ssh joins rsync's argv with spaces; rsync
 * 3.2.4+ backslash-escapes shell-special characters in it). Modelled on rsync's `rrsync -ro`:
 * only `rsync --server --sender <allowed options> . <absolute paths inside the allowed trees>`
 * passes. Everything is an allow-list; the REASONS tables below only word the refusals.
 */

/** Short flags a sender may get (`-lHogDtpAXrRSe.iLsfxCIvu`): all only shape what is read and how it is sent. */
const SHORT_FLAGS = new Set('ACDEHIJNORSUWXcdghilmnopqrtuvxz8');

/** Long options without a value that change nothing on the client. */
const LONG_FLAGS = new Set([
  'numeric-ids',
  'inplace',
  'ignore-errors',
  'ignore-missing-args',
  'safe-links',
  'open-noatime',
  'msgs2stderr',
  'no-msgs2stderr',
  'list-only',
]);

/** Long options with a value, written `--name=value` (as rsync sends them), and the shape the value must have. */
const LONG_VALUES: Readonly<Record<string, RegExp>> = {
  bwlimit: /^\d+$/,
  timeout: /^\d+$/,
  info: /^[A-Za-z0-9,]+$/,
  iconv: /^[A-Za-z0-9_.:,-]+$/,
  'compress-choice': /^[A-Za-z0-9,-]+$/,
  'checksum-choice': /^[A-Za-z0-9,-]+$/,
  'compress-level': /^-?\d+$/,
  'checksum-seed': /^\d+$/,
  'block-size': /^\d+$/,
};

const WRITES = 'writes or deletes on the client';
const FOLLOWS = 'follows symlinks out of the allowed trees';
const HIDES = 'names files the gate cannot check';
/** Why well-known dangerous options are refused (they would be refused anyway: they are not allowed above). */
const LONG_REASONS: Readonly<Record<string, string>> = {
  'remove-source-files': WRITES,
  'remove-sent-files': WRITES,
  'log-file': WRITES,
  'log-file-format': WRITES,
  'write-batch': WRITES,
  'only-write-batch': WRITES,
  'read-batch': 'makes rsync a receiver that writes on the client',
  'temp-dir': WRITES,
  'backup-dir': WRITES,
  'partial-dir': WRITES,
  backup: WRITES,
  'write-devices': WRITES,
  'copy-devices': 'reads raw block devices',
  daemon: 'starts an rsync daemon',
  config: 'starts an rsync daemon with a config file',
  rsh: 'runs another program',
  'rsync-path': 'runs another program',
  'remote-option': 'passes options the gate cannot check',
  'files-from': HIDES,
  'include-from': HIDES,
  'exclude-from': HIDES,
  'secluded-args': HIDES,
  'protect-args': HIDES,
  'copy-links': FOLLOWS,
  'copy-unsafe-links': FOLLOWS,
  'copy-dirlinks': FOLLOWS,
  'keep-dirlinks': FOLLOWS,
  server: '--server appears twice',
  sender: '--sender appears twice',
};
const SHORT_REASONS: Readonly<Record<string, string>> = {
  s: 'secluded args would send the paths where the gate cannot check them',
  L: FOLLOWS,
  k: FOLLOWS,
  K: FOLLOWS,
  b: WRITES,
  M: 'passes options the gate cannot check',
  e: 'runs another program (-e/--rsh)',
};

/** Characters rsync leaves unescaped; anything else ASCII must come backslash-escaped, as rsync sends it. */
const BARE_OK = /^[A-Za-z0-9%*+,\-./:=?@[\]^_~]$|^[^\0-\x7f]$/;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\0-\x1f\x7f-\x9f]/;
const MAX_COMMAND = 65536;

function refuse(reason: string): never {
  throw new PullbackError('REFUSED', reason);
}

/** Splits the command like the shell would for rsync's escaping: spaces separate, `\x` is a literal x. */
function tokenize(command: string): string[] {
  const tokens: string[] = [];
  let current: string | undefined;
  for (let i = 0; i < command.length; i++) {
    let ch = command[i] as string;
    if (ch === ' ') {
      if (current !== undefined) tokens.push(current);
      current = undefined;
      continue;
    }
    if (ch === '\\') {
      if (i + 1 >= command.length) refuse('the command ends with a lone backslash');
      ch = command[++i] as string;
    } else if (!BARE_OK.test(ch)) {
      refuse(`the command contains an unescaped shell character ${JSON.stringify(ch)}`);
    }
    current = (current ?? '') + ch;
  }
  if (current !== undefined) tokens.push(current);
  return tokens;
}

/** One option token before the `.`; returns nothing, throws why it is not allowed. */
function checkOption(token: string): void {
  const long = /^--([^=]+)(?:=(.*))?$/.exec(token);
  if (long) {
    const [, name = '', value] = long;
    if (/^(delete|del$)/.test(name))
      refuse(`--${name} is a delete option, refused on a read-only sender`);
    const reason = LONG_REASONS[name];
    if (reason) refuse(`--${name} ${reason}`);
    if (LONG_FLAGS.has(name)) {
      if (value !== undefined) refuse(`--${name} takes no value`);
      return;
    }
    const shape = LONG_VALUES[name];
    if (!shape) refuse(`option --${name} is not on the gate's allow-list`);
    if (value === undefined || !shape.test(value)) {
      refuse(
        `--${name} needs a value like --${name}=${shape.source}, got ${JSON.stringify(token)}`,
      );
    }
    return;
  }
  if (/^-B\d+$/.test(token)) return; // --block-size as rsync forwards it
  const short = /^-([^e]*)(?:e(.*))?$/.exec(token);
  if (!short || token === '-')
    refuse(`argument ${JSON.stringify(token)} is not an option rsync sends`);
  const [, letters = '', capability] = short;
  for (const letter of letters) {
    if (SHORT_FLAGS.has(letter)) continue;
    refuse(`option -${letter} ${SHORT_REASONS[letter] ?? "is not on the gate's allow-list"}`);
  }
  // In server mode `-e` carries the protocol capability string (e.g. `e.iLsfxCIvu`), nothing else.
  if (capability !== undefined && !/^\d*\.[A-Za-z]*$/.test(capability)) {
    refuse(`option -e ${SHORT_REASONS.e}, got ${JSON.stringify(token)}`);
  }
}

function isInside(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}

/** Checks one source path; returns it unchanged (rsync -R transmits it as written). */
function checkPath(path: string, allowedRoots: readonly string[]): string {
  if (CONTROL.test(path)) refuse(`path ${JSON.stringify(path)} contains control characters`);
  if (!path.startsWith('/')) refuse(`path ${JSON.stringify(path)} is not absolute`);
  const body = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  for (const segment of body.split('/').slice(1)) {
    if (segment === '' && body !== '/') refuse(`path ${JSON.stringify(path)} contains "//"`);
    if (segment === '.' || segment === '..') {
      refuse(
        `path ${JSON.stringify(path)} contains a "${segment}" segment; only normalised paths are allowed`,
      );
    }
  }
  let real: string;
  try {
    real = realpathSync(body);
  } catch (err) {
    // System mode: the gate runs without effective capabilities and may not see into the
    // source's parents. Then only an allowed tree itself is served, exactly as configured
    // (the root helper checked those trees, symlinks included, before it dropped privileges).
    if (isPermissionError(err) && allowedRoots.includes(body)) return path;
    refuse(`path ${JSON.stringify(path)} does not exist or cannot be resolved`);
  }
  if (allowedRoots.some((root) => isInside(real, root))) return path;
  const viaLink = allowedRoots.some((root) => isInside(body, root));
  refuse(
    viaLink
      ? `path ${JSON.stringify(path)} leaves the allowed trees through a symlink (it resolves to ${real})`
      : `path ${JSON.stringify(path)} is outside the allowed trees`,
  );
}

/** The allowed trees as real paths; each must be an absolute, existing path. */
export function resolveAllowedRoots(allow: readonly string[]): string[] {
  if (allow.length === 0) refuse('no allowed trees were configured (--allow)');
  return allow.map((entry) => {
    if (!isAbsolute(entry)) refuse(`allowed tree ${JSON.stringify(entry)} is not an absolute path`);
    try {
      return realpathSync(entry);
    } catch (err) {
      // Unresolvable for lack of permission (system mode): kept as written, exact match only.
      const trimmed = entry.length > 1 ? entry.replace(/\/$/, '') : entry;
      const normalised = trimmed
        .split('/')
        .slice(1)
        .every((s) => s !== '' && s !== '.' && s !== '..');
      if (isPermissionError(err) && normalised) return trimmed;
      refuse(`allowed tree ${JSON.stringify(entry)} does not exist`);
    }
  });
}

function isPermissionError(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'EACCES';
}

/**
 * Validates SSH_ORIGINAL_COMMAND as a read-only rsync sender on paths inside `allow`.
 * Returns rsync's argv without the program name; throws PullbackError('REFUSED', why) otherwise.
 */
export function validateSenderCommand(command: string, allow: readonly string[]): string[] {
  const roots = resolveAllowedRoots(allow);
  if (command.trim() === '') refuse('the command is empty (not run by a remote rsync)');
  if (command.length > MAX_COMMAND) refuse(`the command is longer than ${MAX_COMMAND} characters`);
  const control = CONTROL.exec(command);
  if (control) {
    const code = control[0].charCodeAt(0);
    const name =
      code === 10
        ? 'a newline'
        : code === 0
          ? 'a NUL byte'
          : `control character U+${code.toString(16).padStart(4, '0')}`;
    refuse(`the command contains ${name}`);
  }
  const [program, server, sender, ...rest] = tokenize(command);
  if (program !== 'rsync') refuse(`only rsync may run, not ${JSON.stringify(program)}`);
  if (server !== '--server')
    refuse('not an rsync server command: --server must come right after rsync');
  if (sender !== '--sender')
    refuse('receiver mode is refused: only a sending (read-only) rsync --server --sender may run');
  const dot = rest.indexOf('.');
  if (dot < 0) refuse('no "." argument: not a command line rsync sends');
  const options = rest.slice(0, dot);
  const paths = rest.slice(dot + 1);
  options.forEach(checkOption);
  if (paths.length === 0) refuse('no source paths were given');
  return ['--server', '--sender', ...options, '.', ...paths.map((p) => checkPath(p, roots))];
}
