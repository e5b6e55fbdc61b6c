import { parseCommandArgs } from '../args.js';
import { runGate } from '../../core/gate/run.js';

const HELP = `Usage: pullback gate --allow PATH [--allow PATH…] [--check] [--rsync PATH]

The forced command of the one-shot sshd on the client. Reads SSH_ORIGINAL_COMMAND and runs it
only if it is a read-only rsync sender (rsync --server --sender …) with allowed options on paths
inside the --allow trees; runs rsync under nice and ionice -c3.

  --allow PATH   a tree the backup host may read (repeatable, absolute)
  --check        validate only: print the argv that would run, or "REFUSED: reason"
  --rsync PATH   the rsync binary to run (default /usr/bin/rsync)`;

export async function gateCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      allow: { type: 'string', multiple: true },
      check: { type: 'boolean' },
      rsync: { type: 'string' },
    },
    { command: 'gate' },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  return runGate({
    allow: values.allow ?? [],
    check: values.check ?? false,
    rsyncPath: values.rsync,
  });
}
