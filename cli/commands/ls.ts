import { parseCommandArgs } from '../args.js';
import { chooseHost, sayDefaultHost } from '../host-choice.js';
import { readClientConfig } from '../../core/config/client-store.js';
import { readIdentityKey } from '../../core/config/identity.js';
import { listEntries } from '../../core/restore/client.js';
import type { RemoteEntry } from '../../core/restore/types.js';
import { formatBytes, formatDateTime } from '../../core/format.js';
import { safeText } from '../../core/safe-text.js';

const HELP = `Usage: pullback ls [--snapshot ID|latest] [--host NAME] [--json] [PATH]

Lists a directory (default: /) of one of this machine's snapshots on a backup host (default:
the newest), with the mode, owner, size and mtime the source had (read-only). PATH is the
path the files had on this machine.

  --snapshot ID   a snapshot id from "pullback snapshots", or latest (default)
  --host NAME     the backup host (default: the only or first one, said on stderr)
  --json          one JSON object: {"snapshot", "entries": [{name, path, type, mode, uid, gid, size, mtime, target?}]}`;

const TYPE_CHAR: Record<RemoteEntry['type'], string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  fifo: 'p',
  socket: 's',
  char: 'c',
  block: 'b',
};

/** "rwxr-x---" with setuid/setgid/sticky as ls shows them. */
export function modeString(type: RemoteEntry['type'], mode: number): string {
  const rwx = (bits: number, special: boolean, s: string) =>
    `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? (bits & 1 ? s : s.toUpperCase()) : bits & 1 ? 'x' : '-'}`;
  return (
    TYPE_CHAR[type] +
    rwx(mode >> 6, (mode & 0o4000) !== 0, 's') +
    rwx(mode >> 3, (mode & 0o2000) !== 0, 's') +
    rwx(mode, (mode & 0o1000) !== 0, 't')
  );
}

export async function lsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { snapshot: { type: 'string' }, host: { type: 'string' }, json: { type: 'boolean' } },
    { command: 'ls', positionals: [0, 1] },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const config = readClientConfig();
  const { host, byDefault } = chooseHost(config, values.host);
  if (byDefault) sayDefaultHost(config, host);
  const result = await listEntries(host, readIdentityKey().privateKey, {
    snapshot: values.snapshot ?? 'latest',
    path: positionals[0] ?? '/',
  });
  if (values.json) {
    console.log(JSON.stringify(result));
    return 0;
  }
  console.error(`${host.name}: snapshot ${result.snapshot}`);
  for (const e of result.entries) {
    const link = e.target !== undefined ? ` -> ${safeText(e.target)}` : '';
    console.log(
      `${modeString(e.type, e.mode)} ${String(e.uid).padStart(6)} ${String(e.gid).padStart(6)} ${formatBytes(e.size).padStart(10)}  ${formatDateTime(e.mtime)}  ${safeText(e.name)}${link}`,
    );
  }
  return 0;
}
