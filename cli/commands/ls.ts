import { parseCommandArgs } from '../args.js';
import { chooseHost, sayDefaultHost } from '../host-choice.js';
import { readClientConfig } from '../../core/config/client-store.js';
import { readIdentityKey } from '../../core/config/identity.js';
import { listEntries } from '../../core/restore/client.js';
import { formatBytes, formatDateTime, formatMode } from '../../core/format.js';
import { safeText } from '../../core/safe-text.js';

const HELP = `Usage: pullback ls [--snapshot ID|latest] [--host NAME] [--json] [PATH]

Lists a directory (default: /) of one of this machine's snapshots on a backup host (default:
the newest), with the mode, owner, size and mtime the source had (read-only). PATH is the
path the files had on this machine.

  --snapshot ID   a snapshot id from "pullback snapshots", or latest (default)
  --host NAME     the backup host (default: the only or first one, said on stderr)
  --json          one JSON object: {"snapshot", "entries": [{name, path, type, mode, uid, gid, size, mtime, target?}]}`;

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
      `${formatMode(e.type, e.mode)} ${String(e.uid).padStart(6)} ${String(e.gid).padStart(6)} ${formatBytes(e.size).padStart(10)}  ${formatDateTime(e.mtime)}  ${safeText(e.name)}${link}`,
    );
  }
  return 0;
}
