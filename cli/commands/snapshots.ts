import { parseCommandArgs } from '../args.js';
import { readClientConfig } from '../../core/config/client-store.js';
import { readIdentityKey } from '../../core/config/identity.js';
import { listRemoteSnapshots } from '../../core/handoff/backup-client.js';
import { PullbackError } from '../../core/errors.js';
import { formatBytes } from '../../core/format.js';

const HELP = `Usage: pullback snapshots [--host NAME] [--json]

Lists this machine's snapshots on a backup host (read-only: nothing can be changed from here),
with the kind of pass that made each: full, incremental (only what changed was sent; the file
count is then what was sent) or checksum (a full pass comparing contents).`;

export async function snapshotsCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { host: { type: 'string' }, json: { type: 'boolean' } },
    { command: 'snapshots' },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const config = readClientConfig();
  const host = values.host ? config.hosts.find((h) => h.name === values.host) : config.hosts[0];
  if (!host)
    throw new PullbackError(
      'NOT_PAIRED',
      values.host ? `no paired backup host "${values.host}"` : 'no backup host paired yet',
    );
  const snapshots = await listRemoteSnapshots(host, readIdentityKey().privateKey);
  if (values.json) console.log(JSON.stringify(snapshots));
  else
    for (const s of snapshots)
      console.log(
        `${s.id}  ${(s.pass ?? 'full').padEnd(11)}  ${String(s.files ?? '?').padStart(8)} files  ${formatBytes(s.totalBytes ?? 0).padStart(10)}${s.warnings.length ? `  (${s.warnings.length} warnings)` : ''}`,
      );
  return 0;
}
