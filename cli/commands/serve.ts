import { parseCommandArgs } from '../args.js';
import { serve } from '../../core/handoff/serve.js';
import { DEFAULT_SERVER_CONFIG } from '../../core/config/paths.js';
import { PullbackError } from '../../core/errors.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;
const FLUSH_TIMEOUT_MS = 10_000;

const HELP = `Usage: pullback serve --client NAME [--config FILE]

Runs on the backup host as the forced command of one client's key (written by
"pullback server add-client"). Reads one handoff request (JSON line) on stdin, answers on stdout.
The client is NAME, whatever the request says. Not for interactive use.
One connection per client may be waiting to send its request: a second one is answered BUSY at
once. SIGTERM or SIGHUP ends a run cleanly (recorded as cancelled).

  --client NAME   the client this key belongs to
  --config FILE   server config (default ${DEFAULT_SERVER_CONFIG})`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { client: { type: 'string' }, config: { type: 'string' } },
    { command: 'serve' },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.client) throw new PullbackError('BAD_ARGS', 'serve: --client NAME is required');
  // SIGTERM, SIGHUP (sshd ending the session) and SIGINT stop the run like the client going
  // away: the pull is ended, the lock, the run slot and the one-time key are released, the run
  // is recorded as cancelled. Without handlers they would kill serve before its cleanup.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  // A closed session makes stderr fail too (EPIPE): the log is not worth dying for.
  process.stderr.on('error', () => {});
  const code = await serve({
    client: values.client,
    configFile: values.config ?? DEFAULT_SERVER_CONFIG,
    input: process.stdin,
    output: process.stdout,
    signal: stop.signal,
    log: (line) => {
      if (!process.stderr.destroyed) process.stderr.write(line + '\n');
    },
  });
  // stdin stays open (the client keeps its side open to signal it is still there): flush and
  // go, but do not wait for ever on a client that stopped reading.
  await new Promise<void>((resolve) => {
    setTimeout(resolve, FLUSH_TIMEOUT_MS).unref();
    if (process.stdout.destroyed) resolve();
    else process.stdout.write('', () => resolve());
  });
  process.exit(code);
}
