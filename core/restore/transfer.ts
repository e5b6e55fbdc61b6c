import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../config/client-schema.js';
import { PullbackError } from '../errors.js';
import { interpretRsyncExit } from '../pull/exit-codes.js';
import {
  NO_PROGRESS,
  createLineSplitter,
  parseProgress,
  transferProgress,
} from '../pull/progress.js';
import { ProcessTreeTracker } from '../process-tree.js';
import { safeText } from '../safe-text.js';
import { knownHostsLine } from '../ssh/hostkey-pin.js';
import { encodeRestoreSource } from './remote-path.js';
import type { RestoreProgress } from './types.js';

/*
 * One restore transfer: this machine's own rsync is the receiver, logged in to the backup
 * host's forced `pullback serve --client NAME` with the long-term identity key, the backup
 * host's key pinned from the host config (S6). Flags:
 *   -aHAXS --numeric-ids   content, modes, times, owners (root only), hardlinks, ACLs, xattrs,
 *                          sparse files, devices and specials, ids as numbers;
 *   --no-devices           (not root) a user cannot create devices: left out, not failed on;
 *   --exclude-from --from0 NUL-separated rules, so any name works: the entries serve's restore
 *                          plan says this user could not have read ("- /name/a/b", not root),
 *                          then "+ /name" and "- /*";
 * The source is the entry's parent directory ("<parent>/"), filtered to the one name, received
 * into a fresh staging directory next to the destination, then renamed into place. Asking for
 * the entry itself would not do: the receiver (rightly) rejects file-list names it did not ask
 * for, and serve's pinned source names it "/proc/self/fd/3/…".
 *   --info=progress2 --no-inc-recursive  one honest progress line (as the pull).
 * Names with spaces, newlines, a leading dash or any bytes travel inside the rsync protocol's
 * file list; the one name on the command line is remote-path.ts's base64url source, so the
 * command serve checks never needs --secluded-args (which would hide it from the check).
 */

export interface TransferOptions {
  host: HostConfig;
  identityKey: string;
  snapshot: string;
  /** the entry's parent directory on the client (checked) */
  parent: string;
  /** the entry's name in it */
  name: string;
  /** an empty directory the entry is received into */
  staging: string;
  asRoot: boolean;
  /** paths below the entry to leave out, relative ("/a/b"), as raw bytes */
  exclude: Buffer[];
  onProgress?: (p: RestoreProgress) => void;
  signal?: AbortSignal;
  rsyncPath?: string;
  sshPath?: string;
}

/** A literal rsync pattern for `rel`: wildcards only mean something when one is present. */
function literalPattern(rel: Buffer): Buffer {
  const text = rel.toString('latin1');
  if (!/[*?[]/.test(text)) return rel;
  return Buffer.from(
    text.replace(/[*?[\\]/g, (c) => `\\${c}`),
    'latin1',
  );
}

/** The secrets and lists of one transfer: 0600 files in a 0700 directory, removed after. */
function writeSecrets(o: TransferOptions): { dir: string; filterFile: string } {
  const base = /\s|['"\\]/.test(tmpdir()) ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'pullback-restore-'));
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, 'id'), o.identityKey, { mode: 0o600 });
  writeFileSync(
    join(dir, 'known_hosts'),
    knownHostsLine(o.host.address, o.host.port, o.host.hostKey) + '\n',
    { mode: 0o600 },
  );
  const filterFile = join(dir, 'filter');
  const top = Buffer.from(`/${o.name}`);
  const rule = (prefix: string, pattern: Buffer) =>
    Buffer.concat([Buffer.from(prefix), literalPattern(pattern), Buffer.from([0])]);
  const rules = [
    ...o.exclude.map((rel) => rule('- ', Buffer.concat([top, rel]))),
    rule('+ ', top),
    Buffer.from('- /*\0'),
  ];
  writeFileSync(filterFile, Buffer.concat(rules), { mode: 0o600 });
  return { dir, filterFile };
}

export function buildTransferArgv(
  o: TransferOptions,
  secrets: { dir: string; filterFile: string },
): string[] {
  const ssh = [
    o.sshPath ?? 'ssh',
    '-F',
    '/dev/null',
    '-i',
    join(secrets.dir, 'id'),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    `UserKnownHostsFile=${join(secrets.dir, 'known_hosts')}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'UpdateHostKeys=no',
    '-o',
    'CheckHostIP=no',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=15',
    '-p',
    String(o.host.port),
    '-l',
    o.host.user,
    ...(o.host.localAddress ? ['-b', o.host.localAddress] : []),
  ];
  const hostPart = isIP(o.host.address) === 6 ? `[${o.host.address}]` : o.host.address;
  return [
    o.rsyncPath ?? 'rsync',
    '-aHAXS',
    '--numeric-ids',
    '--info=progress2',
    '--no-inc-recursive',
    ...(o.asRoot ? [] : ['--no-devices']),
    // --from0 first: rsync reads the rules file as soon as it parses --exclude-from
    '--from0',
    `--exclude-from=${secrets.filterFile}`,
    // rsync splits -e on spaces: every part above is free of spaces and quotes
    '-e',
    ssh.join(' '),
    '--',
    `${hostPart}:${encodeRestoreSource(o.snapshot, o.parent)}/`,
    `${o.staging}/`,
  ];
}

/** Runs one transfer; resolves with its warnings (exit 23/24), rejects with a PullbackError. */
export async function runTransfer(o: TransferOptions): Promise<string[]> {
  o.signal?.throwIfAborted();
  const secrets = writeSecrets(o);
  try {
    const [program, ...args] = buildTransferArgv(o, secrets);
    return await new Promise<string[]>((resolve, reject) => {
      // its own process group: a cancel stops rsync, the receiver it forks and its ssh, and
      // the staging directory is removed only once none of them can write into it any more
      const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const tree = child.pid !== undefined ? new ProcessTreeTracker(child.pid) : undefined;
      const stderr: string[] = [];
      let cancelled = false;
      let stopped: Promise<void> = Promise.resolve();
      const onAbort = () => {
        cancelled = true;
        stopped = tree?.killAll() ?? stopped;
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      let shown: RestoreProgress = NO_PROGRESS;
      const lines = createLineSplitter((line) => {
        const p = parseProgress(line);
        if (!p) return;
        shown = transferProgress(p, shown);
        o.onProgress?.(shown);
      });
      child.stdout!.on('data', (d: Buffer) => lines.push(d));
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => {
        if (stderr.length < 200) stderr.push(...d.split('\n'));
      });
      child.on('error', (err) =>
        reject(new PullbackError('MISSING_TOOL', `cannot run ${program}: ${err.message}`)),
      );
      child.on('close', async (code, signal) => {
        o.signal?.removeEventListener('abort', onAbort);
        lines.end();
        await stopped;
        const verdict = interpretRsyncExit({
          job: 'restore',
          exitCode: code,
          signal,
          stderrLines: stderr.map(safeText),
          cancelled,
        });
        if (verdict.error) reject(verdict.error);
        else resolve(verdict.warnings);
      });
    });
  } finally {
    rmSync(secrets.dir, { recursive: true, force: true });
  }
}
