import { parseCommandArgs } from '../args.js';
import { chooseHost, sayDefaultHost } from '../host-choice.js';
import { readClientConfig } from '../../core/config/client-store.js';
import { readIdentityKey } from '../../core/config/identity.js';
import { fileVersions } from '../../core/restore/client.js';
import { formatBytes, formatDateTime } from '../../core/format.js';

const HELP = `Usage: pullback versions [--host NAME] [--json] PATH

Lists the distinct versions of PATH (as it was on this machine) across this machine's
snapshots on a backup host, oldest first: type, size, mtime and the snapshots that hold each.
Restore one with "pullback restore --snapshot ID PATH".

  --host NAME   the backup host (default: the only or first one, said on stderr)
  --json        a JSON array, one element per version: {type, size, mtime, snapshots}`;

export async function versionsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { host: { type: 'string' }, json: { type: 'boolean' } },
    { command: 'versions', positionals: 1 },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const config = readClientConfig();
  const { host, byDefault } = chooseHost(config, values.host);
  if (byDefault) sayDefaultHost(config, host);
  const versions = await fileVersions(host, readIdentityKey().privateKey, positionals[0]!);
  if (values.json) {
    console.log(JSON.stringify(versions));
    return 0;
  }
  for (const v of versions) {
    const span =
      v.snapshots.length === 1
        ? v.snapshots[0]
        : `${v.snapshots[0]} … ${v.snapshots[v.snapshots.length - 1]} (${v.snapshots.length} snapshots)`;
    console.log(
      `${formatDateTime(v.mtime)}  ${v.type.padEnd(7)} ${formatBytes(v.size).padStart(10)}  ${span}`,
    );
  }
  return 0;
}
