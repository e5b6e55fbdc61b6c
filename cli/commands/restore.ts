import { parseCommandArgs } from '../args.js';
import { chooseHost, sayDefaultHost } from '../host-choice.js';
import { ProgressBar } from '../progress-bar.js';
import { readClientConfig } from '../../core/config/client-store.js';
import { readIdentityKey } from '../../core/config/identity.js';
import { PullbackError } from '../../core/errors.js';
import { checkRestoreRequest, restorePaths } from '../../core/restore/client.js';
import type { SnapshotSelector } from '../../core/restore/types.js';
import { safeText } from '../../core/safe-text.js';

const HELP = `Usage: pullback restore [--snapshot ID|latest | --before TIME] [--to DIR | --in-place]
                        [--host NAME] [--json] PATH…

Gets files or whole trees back from one of this machine's snapshots on a backup host (default:
the newest), faithfully: content, modes, mtimes, xattrs, ACLs, hardlinks, symlinks, sparse
files, and owners when run as root. PATH is the path the files had on this machine.

  (default)        each item goes next to its original: "report.odt (restored 2026-11-26 18:01)"
  --to DIR         each PATH's last component goes inside DIR: "restore ~/docs --to /tmp/r"
                   gives /tmp/r/docs (refused if that exists)
  --in-place       replaces the originals, after moving each aside to
                   "<name> (replaced 2026-11-26 18:01)" (said in the output)
  --snapshot ID    a snapshot id from "pullback snapshots" or "pullback versions", or latest
  --before TIME    the newest snapshot started before TIME (ISO 8601, e.g. 2026-11-26T18:00)
  --host NAME      the backup host (default: the only or first one, said on stderr)
  --json           JSON lines on stdout: progress, then {"type":"done",…} or {"type":"error",…}

Run as a normal user, entries whose stored owner and mode would not have let you read them
(e.g. /etc/shadow from a system-mode backup) are skipped, and the count is said. Root gets
everything.

Exit codes: 0 ok, 1 failed (e.g. NOT_FOUND), 2 bad usage, 4 unreachable, 5 trust (host key,
key not accepted), 7 cancelled.`;

export async function restoreCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      snapshot: { type: 'string' },
      before: { type: 'string' },
      to: { type: 'string' },
      'in-place': { type: 'boolean' },
      host: { type: 'string' },
      json: { type: 'boolean' },
    },
    { command: 'restore', positionals: [1, 256] },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.snapshot !== undefined && values.before !== undefined)
    throw new PullbackError('BAD_ARGS', 'restore: --snapshot and --before exclude each other');
  const select: SnapshotSelector =
    values.before !== undefined
      ? { before: values.before }
      : { snapshot: values.snapshot ?? 'latest' };
  const json = values.json ?? false;
  checkRestoreRequest({ paths: positionals, to: values.to, inPlace: values['in-place'] });
  const config = readClientConfig();
  const { host, byDefault } = chooseHost(config, values.host);
  if (byDefault && !json) sayDefaultHost(config, host);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = !json && process.stderr.isTTY;
  const bar = new ProgressBar();
  try {
    const result = await restorePaths(host, readIdentityKey().privateKey, {
      select,
      paths: positionals,
      to: values.to,
      inPlace: values['in-place'],
      signal: abort.signal,
      onProgress: (p) => {
        if (json) console.log(JSON.stringify({ type: 'progress', host: host.name, ...p }));
        else if (tty)
          process.stderr.write(`\r${bar.render({ v: 1, type: 'progress', ...p })}\x1b[K`);
      },
    });
    if (tty) process.stderr.write('\r\x1b[K');
    if (json) {
      console.log(JSON.stringify({ type: 'done', host: host.name, ...result }));
      return 0;
    }
    console.log(`${host.name}: snapshot ${result.snapshot}`);
    for (const aside of result.movedAside)
      console.log(`moved the original aside to ${safeText(aside)}`);
    for (const item of result.items)
      if (item.restoredTo)
        console.log(`restored ${safeText(item.path)} to ${safeText(item.restoredTo)}`);
    for (const w of result.warnings) console.log(`warning: ${safeText(w)}`);
    return 0;
  } catch (err) {
    if (tty) process.stderr.write('\r\x1b[K');
    if (json && err instanceof PullbackError)
      console.log(
        JSON.stringify({ type: 'error', host: host.name, code: err.code, message: err.message }),
      );
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
