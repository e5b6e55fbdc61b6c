import { parseCommandArgs } from '../args.js';
import {
  recordRunFinished,
  recordRunStarted,
  type RunStart,
} from '../../core/agent/run-records.js';
import { readClientConfig } from '../../core/config/client-store.js';
import { clientStateDir } from '../../core/config/paths.js';
import { changeIndexFile } from '../../core/change-index/index-file.js';
import { readIdentityKey } from '../../core/config/identity.js';
import type { BackupRunResult } from '../../core/handoff/backup-client.js';
import { runBackupWithReach } from '../../core/tunnel/reach.js';
import { effectiveReach, parseReach } from '../../core/tunnel/reach-choice.js';
import { launcherFor } from '../../core/handoff/launchers.js';
import { PullbackError, asPullbackError } from '../../core/errors.js';
import { formatBytes, formatDuration } from '../../core/format.js';
import { ProgressBar } from '../progress-bar.js';
import { exitCodeFor } from '../exit-codes.js';

const HELP = `Usage: pullback backup [--host NAME] [--full] [--reach auto|direct|tunnel] [--json]

Backs up the configured sources now, to every paired backup host or just NAME. No questions
asked (fine for cron). A run sends only what changed since the host's newest snapshot (the
change index); --full makes it a full pass instead (so does the weekly schedule, "fullPass" in
the config, and anything that makes the index untrustworthy). Each run goes into this
machine's history and status, like the agent's and the tray's ("pullback status"), so the
agent does not repeat it. A progress bar on a terminal; with --json one JSON object per line
(progress, done, error) on stdout.

--reach overrides the host's reach setting for this run: direct (the backup host connects
back to this machine), tunnel (the pull comes back inside this machine's own connection:
behind NAT, an offsite backup host), auto (direct when it can connect back, else the tunnel,
remembered per network).

Exit codes: 0 ok, 1 failed, 2 bad usage/config, 3 busy (a run for this machine is already
going), 4 unreachable, 5 trust (host key changed, key not accepted), 6 no space on the backup
host, 7 cancelled.`;

export async function backupCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      host: { type: 'string' },
      reach: { type: 'string' },
      json: { type: 'boolean' },
      full: { type: 'boolean' },
    },
    { command: 'backup' },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const json = values.json ?? false;
  const reach =
    values.reach === undefined ? undefined : parseReach(values.reach, 'backup: --reach');
  const config = readClientConfig();
  const identity = readIdentityKey();
  const hosts = values.host ? config.hosts.filter((h) => h.name === values.host) : config.hosts;
  if (config.hosts.length === 0)
    throw new PullbackError(
      'NOT_PAIRED',
      'no backup host paired yet; run "pullback pair USER@HOST"',
    );
  if (hosts.length === 0)
    throw new PullbackError('BAD_ARGS', `no paired backup host is called "${values.host}"`);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = !json && process.stderr.isTTY;
  const stateDir = clientStateDir();
  // The history is a record, not the backup: a state dir we cannot write warns, never fails the run.
  const remember = (write: () => unknown) => {
    try {
      write();
    } catch (err) {
      console.error(`warning: cannot record the run: ${asPullbackError(err).toLine()}`);
    }
  };
  let worst = 0;
  try {
    for (const host of hosts) {
      const run: RunStart = { host: host.name, trigger: 'cli', startedAt: Date.now() };
      remember(() => recordRunStarted(stateDir, run));
      const finish = (outcome: Parameters<typeof recordRunFinished>[2]) =>
        remember(() =>
          recordRunFinished(stateDir, run, outcome, Date.now(), Date.now() - run.startedAt),
        );
      const bar = new ProgressBar();
      try {
        const result: BackupRunResult = await runBackupWithReach(
          {
            config,
            host,
            identityKey: identity.privateKey,
            launcher: launcherFor(config.mode),
            indexFile: changeIndexFile(host.name),
            full: values.full ?? false,
            signal: abort.signal,
            onProgress: (p) => {
              if (json) console.log(JSON.stringify({ host: host.name, ...p }));
              else if (tty) process.stderr.write(`\r${bar.render(p)}\x1b[K`);
            },
          },
          {
            reach: effectiveReach(reach, host.reach),
            stateDir,
            log: (line) => {
              if (!json) console.error(line);
            },
          },
        );
        finish({ result });
        if (tty) process.stderr.write('\r\x1b[K');
        if (json) console.log(JSON.stringify({ type: 'done', ...result }));
        else {
          const s = result.stats;
          console.log(
            `${host.name}: snapshot ${result.snapshot} (${result.unchanged ? 'nothing changed' : `${result.pass} pass`}): ${s.files ?? '?'} files, ${formatBytes(s.totalBytes ?? 0)} in all, ${formatBytes(s.bytesTransferred ?? 0)} transferred, ${formatDuration(s.durationMs / 1000)}`,
          );
          for (const w of result.warnings) console.log(`${host.name}: warning: ${w}`);
        }
      } catch (err) {
        if (tty) process.stderr.write('\r\x1b[K');
        const error = asPullbackError(err);
        finish({ error });
        if (json)
          console.log(
            JSON.stringify({
              type: 'error',
              host: host.name,
              code: error.code,
              message: error.message,
            }),
          );
        console.error(`${host.name}: ${error.toLine()}`);
        worst = worst || exitCodeFor(error.code);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return worst;
}
