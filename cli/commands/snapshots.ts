import { parseCommandArgs } from '../args.js';
import { exitCodeFor } from '../exit-codes.js';
import { readClientConfig } from '../../core/config/client-store.js';
import { readIdentityKey } from '../../core/config/identity.js';
import { listRemoteSnapshots } from '../../core/handoff/backup-client.js';
import { PullbackError, asPullbackError } from '../../core/errors.js';
import { formatBytes } from '../../core/format.js';

const HELP = `Usage: pullback snapshots [--host NAME] [--json]

Lists this machine's snapshots on every paired backup host (or just NAME), oldest first, each
line labelled by its host (read-only: nothing can be changed from here), with the kind of pass
that made each: full, incremental (only what changed was sent; the file count is then what
was sent) or checksum (a full pass comparing contents). Browse one with
"pullback ls --snapshot ID", get files back with "pullback restore".

  --host NAME   only this backup host
  --json        one JSON array of {host, id, startedAt, finishedAt, files, totalBytes, …}

With several hosts, one that cannot be asked gets a "HOST: CODE: message" line on stderr and
the others are still listed; the exit code is that of the first failure.`;

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
  if (config.hosts.length === 0) throw new PullbackError('NOT_PAIRED', 'no backup host paired yet');
  const hosts = values.host ? config.hosts.filter((h) => h.name === values.host) : config.hosts;
  if (hosts.length === 0)
    throw new PullbackError('NOT_PAIRED', `no paired backup host "${values.host}"`);
  const key = readIdentityKey().privateKey;
  const all: ({ host: string } & Awaited<ReturnType<typeof listRemoteSnapshots>>[number])[] = [];
  let worst = 0;
  for (const host of hosts) {
    try {
      const snapshots = await listRemoteSnapshots(host, key);
      all.push(...snapshots.map((s) => ({ host: host.name, ...s })));
    } catch (err) {
      // one host: its error is the command's; several: say which, and go on with the others
      if (hosts.length === 1) throw err;
      const error = asPullbackError(err);
      console.error(`${host.name}: ${error.toLine()}`);
      worst = worst || exitCodeFor(error.code);
    }
  }
  if (values.json) console.log(JSON.stringify(all));
  else {
    const width = Math.max(...hosts.map((h) => h.name.length));
    for (const s of all)
      console.log(
        `${s.host.padEnd(width)}  ${s.id}  ${(s.pass ?? 'full').padEnd(11)}  ${String(s.files ?? '?').padStart(8)} files  ${formatBytes(s.totalBytes ?? 0).padStart(10)}${s.warnings.length ? `  (${s.warnings.length} warnings)` : ''}`,
      );
  }
  return worst;
}
