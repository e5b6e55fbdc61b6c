import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { PullbackError } from '../errors.js';
import { UNIX_USER_NAME } from '../config/fields.js';
import { normaliseTree, treeArgument } from '../gate/trees.js';
import { LIST_TOKEN } from '../change-index/list-file.js';
import { PULL_CIPHERS } from '../ssh/sshd-config.js';

/**
 * The rsync command line for one tree of a pull: the backup host's rsync receives from the
 * client's gate-guarded rsync sender over ssh, into `dest` (the tree's place in the
 * repository's `.incomplete/`). A pull runs one per tree (pull-trees.ts): the gate serves one
 * tree per sender, confined to it.
 */
export interface PullArgvOptions {
  rsyncPath?: string;
  remote: {
    user: string;
    /** an IP address: the source address of the handoff connection (S8), never a name */
    host: string;
    port: number;
    identityFile: string;
    knownHostsFile: string;
    /** our side's address of the handoff connection, so the client's listener sees that one */
    bindAddress?: string;
    /**
     * tunnel mode: the master reaches the client through this program (ssh's ProxyCommand,
     * core/tunnel/proxy.ts), not over TCP; ssh runs it through the shell, so each word is
     * allow-listed like every other word here
     */
    proxyCommand?: string[];
  };
  /** the tree on the client (an absolute path, see gate/trees.ts) */
  source: string;
  excludes: string[];
  /** absolute, ends with `/`: `<.incomplete>/<tree>/` */
  dest: string;
  /** hardlink backend: the tree in the previous complete snapshot */
  linkDest?: string;
  /** ssh's ControlPath of the pull's one connection (ssh-master.ts); every tree shares it */
  controlPath?: string;
  /** btrfs backend: write into a snapshot of the previous one (then no linkDest) */
  inplace?: boolean;
  /** hardlink backend: where rsync keeps a cut-off file, outside `dest` (absolute) */
  partialDir?: string;
  bwlimitKiB?: number;
  sshPath?: string;
  /** rsync's --timeout: seconds without any I/O before giving up (exit 30) */
  ioTimeoutSeconds?: number;
  /** an incremental: only the entries of the client's own change list, which the gate hands out */
  listed?: boolean;
  /** hardlink incremental: the tree in the newest snapshot, the basis of unlinked entries */
  copyDest?: string;
  /** a checksum pass: compare every file's content, not its size and mtime */
  checksum?: boolean;
}

export const DEFAULT_IO_TIMEOUT_SECONDS = 300;

/**
 * Flags, and why each is there:
 * -aHAXS           everything a restore needs: hardlinks, ACLs, xattrs, sparse files.
 * (no -R)          `<tree>/` into `<.incomplete>/<tree>/` keeps the snapshot mirroring
 *                  absolute paths (<snapshot>/home/u/docs/…) with one sender per tree.
 * --numeric-ids    uids/gids as numbers: names on the backup host mean nothing for the client.
 * --fake-super     the receiver is unprivileged: ownership, modes and specials go into
 *                  user.rsync.* xattrs; without it unchanged files never match their previous
 *                  copy and --link-dest silently stops linking (DESIGN §4). It only affects our
 *                  (local) side; the remote sender reads the real attributes.
 * --delete         a resumed .incomplete (and btrfs' copy of the previous snapshot) may hold
 *                  files the client no longer has.
 * --delete-excluded  likewise for files excluded since: with btrfs (--inplace into a snapshot of
 *                  the previous one) a newly excluded file would otherwise live on forever.
 * --partial-dir=D  a big file cut off by a dropped wifi is kept in D, outside .incomplete, and
 *                  the resumed run delta-transfers against it. Not --partial: that keeps the
 *                  cut-off file in .incomplete under its real name, where a run ending with
 *                  exit 23 (deletions skipped) would promote it. Absolute, so rsync keeps one
 *                  flat directory (by file name: a clash only costs a worse delta basis).
 *                  Without a partialDir (btrfs, --inplace, which rsync refuses to combine with
 *                  it) --partial; the btrfs backend never resumes into such a run directory.
 * --no-inc-recursive  progress2's percentage is only honest with the full file list; with
 *                  incremental recursion it jumps back and forth (captured: 78 % → 77 % as new
 *                  directories are found). Measured on a 50,511-entry tree, rsync 3.5.0:
 *                  local copy: full 2.4–2.9 s → 2.6–3.3 s, unchanged re-run with --link-dest
 *                  2.04 → 2.06 s, peak RSS 7.2 → 9.8 MB (~50 bytes/file); over ssh to
 *                  127.0.0.2: unchanged re-run 3.2–3.35 s either way, full copies 4–33 s with
 *                  no consistent winner (disk writeback dominates). The cost is latency: the
 *                  first progress line waits for the whole file list (3.2 s here when nothing
 *                  changed). Worth it for a progress bar users can trust (and -H sees every
 *                  hardlink before the first file is written).
 * --info=progress2 one overall progress line, parsed by progress.ts.
 * --stats          the totals for the `done` message and the snapshot's metadata.
 * --timeout        a silently dead link ends the run (exit 30) instead of hanging forever.
 * listed pass (an incremental, see docs/server.md):
 * --files-from=:pullback-list --from0  "use the list": the gate opens the client's own change
 *                  list and hands it to the sender; this side names no path. rsync implies -R
 *                  and -d and (with --files-from) does not recurse, so exactly the listed
 *                  entries come, each with its parent directories' attributes.
 * -I (--ignore-times)  every listed file goes through the delta transfer, even with the same
 *                  size and mtime: a same-size rewrite with its mtime set back arrives.
 * --ignore-missing-args  an entry deleted since the scan is simply not there (the next scan
 *                  lists it as deleted), not an error that would drop the index.
 * (no --delete)    the backup host already removed what the client deleted.
 * --copy-dest=D    hardlink clone: a listed file was unlinked from the clone (never written in
 *                  place: older snapshots share it); its copy in the newest snapshot is the basis.
 * --checksum       a checksum pass compares contents instead of size and mtime.
 * --modify-window=-1  mtimes compared to the nanosecond: by default rsync compares whole
 *                  seconds, so a same-size rewrite within the second of the stored copy's mtime
 *                  looked unchanged to a full pass (and --link-dest linked the old content).
 *                  Only the receiving side uses it; the sender is not told.
 * --filter='- P'   one exclude rule per pattern. Not --exclude=P: rsync reads a leading "+ " or
 *                  "- " in --exclude as a rule prefix (measured: --exclude='+ a' includes a),
 *                  while a "- " filter rule takes the rest of the string literally.
 */
export function buildPullArgv(o: PullArgvOptions): string[] {
  const source = validateSource(o.source);
  if (!isAbsolute(o.dest) || !o.dest.endsWith('/')) {
    throw bad(
      `the destination must be an absolute path ending with "/", got ${JSON.stringify(o.dest)}`,
    );
  }
  if (o.inplace && o.linkDest !== undefined) {
    throw bad('--inplace (btrfs) and --link-dest (hardlink) exclude each other');
  }
  if (o.inplace && o.partialDir !== undefined) {
    throw bad('--inplace (btrfs) and --partial-dir exclude each other');
  }
  if (o.linkDest !== undefined && !isAbsolute(o.linkDest)) {
    throw bad(`--link-dest must be an absolute path, got ${JSON.stringify(o.linkDest)}`);
  }
  if (
    o.copyDest !== undefined &&
    (!o.listed || o.linkDest !== undefined || !isAbsolute(o.copyDest))
  ) {
    throw bad('--copy-dest is only for a listed pass into a clone, as an absolute path');
  }
  if (o.listed && o.checksum) throw bad('a listed pass sends its list with -I, not --checksum');
  const argv = [
    o.rsyncPath ?? 'rsync',
    '-aHAXS',
    '--numeric-ids',
    '--fake-super',
    '--modify-window=-1',
    ...(o.listed
      ? ['--ignore-times', '--ignore-missing-args', `--files-from=:${LIST_TOKEN}`, '--from0']
      : ['--delete', '--delete-excluded']),
    ...(o.checksum ? ['--checksum'] : []),
    o.partialDir !== undefined ? `--partial-dir=${absolutePath(o.partialDir)}` : '--partial',
    '--no-inc-recursive',
    '--info=progress2',
    '--stats',
    `--timeout=${positiveInt(o.ioTimeoutSeconds ?? DEFAULT_IO_TIMEOUT_SECONDS, 'timeout')}`,
  ];
  for (const pattern of o.excludes) {
    if (pattern.length === 0 || /[\n\r\0]/.test(pattern)) {
      throw bad(`exclude pattern ${JSON.stringify(pattern)} must be one non-empty line`);
    }
    argv.push(`--filter=- ${pattern}`);
  }
  if (o.linkDest !== undefined) argv.push(`--link-dest=${o.linkDest}`);
  if (o.copyDest !== undefined) argv.push(`--copy-dest=${o.copyDest}`);
  if (o.inplace) argv.push('--inplace');
  if (o.bwlimitKiB !== undefined && o.bwlimitKiB > 0) {
    argv.push(`--bwlimit=${positiveInt(o.bwlimitKiB, 'bwlimit')}`);
  }
  const ssh = sshWords(o.remote, o.sshPath);
  if (o.controlPath !== undefined)
    ssh.push('-S', word(o.controlPath, 'the control path'), '-o', 'ControlMaster=no');
  // a tree's session goes through the master only: were its control socket gone, ssh would
  // connect by itself, and the tunnel takes one connection
  if (o.remote.proxyCommand !== undefined) ssh.push('-o', 'ProxyCommand=/bin/false');
  argv.push('-e', ssh.join(' '));
  const host = remoteHost(o.remote.host);
  const user = validateUser(o.remote.user);
  // The source is absolute and the destination too, so neither can be read as an option; the
  // `--` says so anyway (rsync builds the remote command from its options, not from this).
  argv.push('--', `${user}@${host}:${treeArgument(source)}`, o.dest);
  return argv;
}

/**
 * The ssh master of a pull: one connection, authenticated once with K, whose ControlPath every
 * tree's rsync then opens its session through (the one-shot sshd accepts one connection).
 */
export function buildSshMasterArgv(
  remote: PullArgvOptions['remote'],
  controlPath: string,
  sshPath?: string,
): string[] {
  const words = sshWords(remote, sshPath);
  if (remote.proxyCommand !== undefined) {
    if (remote.proxyCommand.length === 0) throw bad('the ProxyCommand is empty');
    const proxy = remote.proxyCommand.map((w) => word(w, 'a ProxyCommand word'));
    words.push('-o', `ProxyCommand=${proxy.join(' ')}`);
  }
  words.push('-M', '-S', word(controlPath, 'the control path'), '-o', 'ControlPersist=no');
  words.push('-N', '-T', `${validateUser(remote.user)}@${hostAddress(remote.host)}`);
  return words;
}

/**
 * rsync splits its -e value on whitespace (and interprets quotes), so every word we put in it
 * must be free of both: allow-listed characters only.
 */
const SAFE_WORD = /^[A-Za-z0-9_./@:+=,-]+$/;

function word(value: string, what: string): string {
  if (!SAFE_WORD.test(value)) {
    throw bad(
      `${what} ${JSON.stringify(value)} cannot go into rsync's -e command: only letters, digits and _./@:+=,- are allowed (no spaces or quotes)`,
    );
  }
  return value;
}

/** ssh and its options, one word each: rsync's -e (joined by spaces) and the master alike. */
function sshWords(remote: PullArgvOptions['remote'], sshPath = 'ssh'): string[] {
  const path = (value: string, what: string) => {
    if (!isAbsolute(value))
      throw bad(`${what} must be an absolute path, got ${JSON.stringify(value)}`);
    return word(value, what);
  };
  const words = [
    word(sshPath, 'the ssh program'),
    '-F',
    '/dev/null',
    '-i',
    path(remote.identityFile, 'the identity file'),
    '-p',
    String(positiveInt(remote.port, 'port', 65535)),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'PreferredAuthentications=publickey',
    '-o',
    `UserKnownHostsFile=${path(remote.knownHostsFile, 'the known_hosts file')}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'UpdateHostKeys=no',
    '-o',
    'HostKeyAlgorithms=ssh-ed25519',
    '-o',
    `Ciphers=${PULL_CIPHERS.join(',')}`,
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ClearAllForwardings=yes',
    '-o',
    'ForwardAgent=no',
    '-o',
    'RequestTTY=no',
  ];
  if (remote.bindAddress !== undefined) {
    if (isIP(remote.bindAddress) === 0) {
      throw bad(
        `the bind address must be an IP address, got ${JSON.stringify(remote.bindAddress)}`,
      );
    }
    words.push('-b', remote.bindAddress);
  }
  return words;
}

function hostAddress(host: string): string {
  if (isIP(host) === 0)
    throw bad(`the client's address must be an IP address, got ${JSON.stringify(host)}`);
  return host;
}

function remoteHost(host: string): string {
  return isIP(hostAddress(host)) === 6 ? `[${host}]` : host;
}

function absolutePath(path: string): string {
  if (!isAbsolute(path) || /[\n\r\0]/.test(path))
    throw bad(`--partial-dir must be an absolute path, got ${JSON.stringify(path)}`);
  return path;
}

function validateUser(user: string): string {
  if (!UNIX_USER_NAME.test(user)) {
    throw bad(`the remote user must be a Unix user name, got ${JSON.stringify(user)}`);
  }
  return user;
}

function validateSource(source: string): string {
  if (!source.startsWith('/') || /[\n\r\0]/.test(source) || source.split('/').includes('..')) {
    throw bad(`source ${JSON.stringify(source)} must be an absolute path without ".." or newlines`);
  }
  try {
    return normaliseTree(source);
  } catch (err) {
    throw bad((err as Error).message);
  }
}

function positiveInt(n: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw bad(`${what} must be an integer 1..${max}, got ${n}`);
  return n;
}

function bad(message: string): PullbackError {
  return new PullbackError('BAD_REQUEST', message);
}
