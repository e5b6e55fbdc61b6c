import { asPullbackError } from '../core/errors.js';
import { PULLBACK_VERSION } from '../core/version.js';
import { exitCodeFor } from './exit-codes.js';
import { initCommand } from './commands/init.js';
import { pairCommand } from './commands/pair.js';
import { backupCommand } from './commands/backup.js';
import { snapshotsCommand } from './commands/snapshots.js';
import { serverCommand } from './commands/server.js';
import { serveCommand } from './commands/serve.js';
import { gateCommand } from './commands/gate.js';
import { doctorCommand } from './commands/doctor.js';
import { systemCommand } from './commands/system.js';
import { agentCommand } from './commands/agent.js';

type Command = { summary: string; run: (argv: string[]) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  init: { summary: "create this machine's identity key and config", run: initCommand },
  pair: { summary: 'pair with a backup host (pins its host key)', run: pairCommand },
  backup: { summary: 'back up now to one or all backup hosts', run: backupCommand },
  snapshots: {
    summary: "list this machine's snapshots on a backup host (read-only)",
    run: snapshotsCommand,
  },
  server: {
    summary: 'administer a backup host (init, add-client, snapshots, …)',
    run: serverCommand,
  },
  system: {
    summary: 'system mode: install, uninstall or check the privileged helper (root)',
    run: systemCommand,
  },
  agent: {
    summary: "run automatic backups headless (the tray's controller, one log line per event)",
    run: agentCommand,
  },
  doctor: { summary: 'check the programs Pullback needs and their versions', run: doctorCommand },
  serve: {
    summary: "(backup host, forced command) answer one client's handoff",
    run: serveCommand,
  },
  gate: { summary: '(client, forced command) allow one read-only rsync sender', run: gateCommand },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    `pullback ${PULLBACK_VERSION} — pull backups: the machine decides when, the backup host pulls.`,
    '',
    'Usage: pullback <command> [options]   (pullback <command> --help for details)',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Exit codes: 0 ok, 1 failed, 2 bad usage/config, 3 busy, 4 unreachable, 5 trust (host key/auth), 6 no space, 7 cancelled.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === '--version' || name === 'version') {
    console.log(PULLBACK_VERSION);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`BAD_ARGS: unknown command "${name}" (see pullback --help)`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const error = asPullbackError(err);
    console.error(error.toLine());
    return exitCodeFor(error.code);
  }
}
