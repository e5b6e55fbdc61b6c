import { PullbackError } from '../errors.js';
import { LIST_TOKEN } from '../change-index/list-file.js';
import { normaliseTree, treeArgument } from './trees.js';

/*
 * The gate's validator: the one place that decides what the backup host may run on the client.
 *
 * A remote `rsync -e ssh` sends one command string (ssh joins rsync's argv with spaces; rsync
 * 3.2.4+ backslash-escapes shell-special characters in it). Modelled on rsync's `rrsync -ro`:
 * only `rsync --server --sender <allowed options> . <one allowed tree>/` passes: exactly one
 * configured tree, not a path below it and not two trees, because each sender is confined to
 * its one tree (--confine-root) and pinned before it starts (pin.ts). Everything is an
 * allow-list; the REASONS tables below only word the refusals.
 */

/** Short flags a sender may get (`-lHogDtpAXrSe.iLsfxCIvu`): all only shape what is read and how it is sent. */
const SHORT_FLAGS = new Set('ACDEHIJNOSUWXcdghilmnopqrtuvxz8');

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
  'insecure-links': FOLLOWS,
  'confine-root': 'is set by the gate itself, to the tree',
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
  R: 'names paths above the tree (one sender per tree, no --relative)',
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
function checkOption(token: string, listed: boolean): void {
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
    // rsync implies -R with --files-from: the names are then those of the gate's own list
    if (letter === 'R' && listed) continue;
    refuse(`option -${letter} ${SHORT_REASONS[letter] ?? "is not on the gate's allow-list"}`);
  }
  // In server mode `-e` carries the protocol capability string (e.g. `e.iLsfxCIvu`), nothing else.
  if (capability !== undefined && !/^\d*\.[A-Za-z]*$/.test(capability)) {
    refuse(`option -e ${SHORT_REASONS.e}, got ${JSON.stringify(token)}`);
  }
}

/** Checks the one source argument: exactly `<tree>/` for one of the allowed trees; returns the tree. */
function checkTreeArgument(path: string, trees: readonly string[]): string {
  if (CONTROL.test(path)) refuse(`path ${JSON.stringify(path)} contains control characters`);
  if (!path.startsWith('/')) refuse(`path ${JSON.stringify(path)} is not absolute`);
  const tree = trees.find((t) => treeArgument(t) === path);
  if (tree !== undefined) return tree;
  if (trees.includes(path)) {
    refuse(`path ${JSON.stringify(path)} must end with "/": the gate serves a tree's contents`);
  }
  refuse(
    `path ${JSON.stringify(path)} is not one of the allowed trees (only a whole tree is served, never a path below it)`,
  );
}

/** The allowed trees, normalised as the pull spells them (trees.ts); each must be absolute. */
export function allowedTrees(allow: readonly string[]): string[] {
  if (allow.length === 0) refuse('no allowed trees were configured (--allow)');
  return allow.map((entry) => {
    try {
      return normaliseTree(entry);
    } catch {
      refuse(`allowed tree ${JSON.stringify(entry)} is not an absolute, normalised path`);
    }
  });
}

/** What a validated command asks for: rsync's sender options, and the one tree it reads. */
export interface SenderRequest {
  /** the options before the ".", as sent (checked against the allow-list) */
  options: string[];
  /** the allowed tree, as configured (normalised); the caller pins it and confines rsync to it */
  tree: string;
  /** the backup host asked for the client's own change list of this tree (--files-from LIST_TOKEN) */
  listed?: true;
}

/**
 * The one way to ask for the change list: `--files-from pullback-list` (what rsync sends for
 * `--files-from=:pullback-list`), at most once, with `--from0`. Both are taken out of the
 * options: the gate names the list file itself. Any other --files-from is refused below.
 */
function takeListRequest(options: string[]): { options: string[]; listed: boolean } {
  const at = options.indexOf('--files-from');
  if (at < 0) return { options, listed: false }; // a --from0 alone is refused as not allowed
  if (options[at + 1] !== LIST_TOKEN)
    refuse(`--files-from may only name the change list (${LIST_TOKEN}), nothing else`);
  const rest = [...options.slice(0, at), ...options.slice(at + 2)];
  if (rest.includes('--files-from')) refuse('--files-from appears twice');
  const from0 = rest.filter((o) => o === '--from0').length;
  if (from0 !== 1) refuse('the change list is read with --from0, exactly once');
  return { options: rest.filter((o) => o !== '--from0'), listed: true };
}

/**
 * Validates SSH_ORIGINAL_COMMAND as a read-only rsync sender of one tree of `allow`.
 * Throws PullbackError('REFUSED', why) otherwise.
 */
export function validateSenderCommand(command: string, allow: readonly string[]): SenderRequest {
  const trees = allowedTrees(allow);
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
  const { options, listed } = takeListRequest(rest.slice(0, dot));
  const paths = rest.slice(dot + 1);
  for (const option of options) checkOption(option, listed);
  if (paths.length === 0) refuse('no source paths were given');
  if (paths.length > 1) refuse('more than one source path: one sender serves one tree');
  return { options, tree: checkTreeArgument(paths[0]!, trees), ...(listed ? { listed } : {}) };
}
