import { parseCommandArgs } from '../args.js';
import { runGate } from '../../core/gate/run.js';

const HELP = `Usage: pullback gate --allow TREE [--allow TREE…] [--check] [--rsync PATH]
                     [--refusal-log FILE] [--ancestors-checked] [--lists DIR]

The forced command of the one-shot sshd on the client. Reads SSH_ORIGINAL_COMMAND and runs it
only if it is a read-only rsync sender (rsync --server --sender …) with allowed options of
exactly one --allow tree (TREE/, never a path below it). The tree is pinned (an O_PATH walk
from /) before rsync starts, and rsync runs confined to it (--confine-root, rsync 3.5.0 or
later, refused otherwise) under nice and ionice -c3. A refusal prints one generic REFUSED line.

  --allow TREE         a tree the backup host may read (repeatable, absolute)
  --check              validate only: print the argv that would run, or "REFUSED: reason"
  --rsync PATH         the rsync binary to run (default /usr/bin/rsync)
  --refusal-log FILE   append why a command was refused (for the client's own log)
  --ancestors-checked  system mode: the root helper checked that no ancestor of a tree can be
                       swapped by a non-root user, so a tree the gate cannot walk to goes by name
  --lists DIR          the client's change lists (incrementals): a command with
                       "--files-from pullback-list --from0" gets the tree's list from DIR, checked
                       by the gate and named to rsync by the gate; nothing else names it`;

export async function gateCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      allow: { type: 'string', multiple: true },
      check: { type: 'boolean' },
      rsync: { type: 'string' },
      'refusal-log': { type: 'string' },
      'ancestors-checked': { type: 'boolean' },
      lists: { type: 'string' },
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
    refusalLog: values['refusal-log'],
    ancestorsChecked: values['ancestors-checked'] ?? false,
    ...(values.lists !== undefined ? { listDir: values.lists } : {}),
  });
}
