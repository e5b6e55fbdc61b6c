import { parseCommandArgs } from '../args.js';
import { serve } from '../../core/handoff/serve.js';
import { DEFAULT_SERVER_CONFIG } from '../../core/config/paths.js';
import { PullbackError } from '../../core/errors.js';

const HELP = `Usage: pullback serve --client NAME [--config FILE]

Runs on the backup host as the forced command of one client's key (written by
"pullback server add-client"). Reads one handoff request (JSON line) on stdin, answers on stdout.
The client is NAME, whatever the request says. Not for interactive use.

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
  const code = await serve({
    client: values.client,
    configFile: values.config ?? DEFAULT_SERVER_CONFIG,
    input: process.stdin,
    output: process.stdout,
    log: (line) => process.stderr.write(line + '\n'),
  });
  // stdin stays open (the client keeps its side open to signal it is still there): flush and go.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
