import { asPullbackError } from '../core/errors.js';
import { PULLBACK_VERSION } from '../core/version.js';
import { exitCodeFor, EXIT } from './exit-codes.js';
import { suggestionFor } from './args.js';
import { describeSystemError } from './system-errors.js';
type Command = { summary: string; run: (argv: string[]) => Promise<number> };

// Commands load only when they run: `gate` and `serve` sit on every backup's critical path,
// and loading every command's modules there costs a third of a second.
const COMMANDS: Record<string, Command> = {
  init: {
    summary: "create this machine's identity key and config",
    run: async (a) => (await import('./commands/init.js')).initCommand(a),
  },
  pair: {
    summary: 'pair with a backup host (pins its host key)',
    run: async (a) => (await import('./commands/pair.js')).pairCommand(a),
  },
  backup: {
    summary: 'back up now to one or all backup hosts',
    run: async (a) => (await import('./commands/backup.js')).backupCommand(a),
  },
  status: {
    summary: "show each backup host's last backup, last attempt and next due time",
    run: async (a) => (await import('./commands/status.js')).statusCommand(a),
  },
  config: {
    summary: 'show or change sources, excludes, exclude presets and paired hosts, with checks',
    run: async (a) => (await import('./commands/config.js')).configCommand(a),
  },
  snapshots: {
    summary: "list this machine's snapshots on a backup host (read-only)",
    run: async (a) => (await import('./commands/snapshots.js')).snapshotsCommand(a),
  },
  ls: {
    summary: 'list a directory of a snapshot, with the modes and owners the source had',
    run: async (a) => (await import('./commands/ls.js')).lsCommand(a),
  },
  versions: {
    summary: "list a file's distinct versions across the snapshots",
    run: async (a) => (await import('./commands/versions.js')).versionsCommand(a),
  },
  restore: {
    summary:
      'get files or trees back from a snapshot (next to the originals, --to DIR, --in-place)',
    run: async (a) => (await import('./commands/restore.js')).restoreCommand(a),
  },
  server: {
    summary: 'administer a backup host (init, add-client, prune, status, …)',
    run: async (a) => (await import('./commands/server.js')).serverCommand(a),
  },
  system: {
    summary: 'system mode: install, uninstall or check the privileged helper (root)',
    run: async (a) => (await import('./commands/system.js')).systemCommand(a),
  },
  agent: {
    summary: "run automatic backups headless (the tray's controller, one log line per event)",
    run: async (a) => (await import('./commands/agent.js')).agentCommand(a),
  },
  doctor: {
    summary: 'check the programs Pullback needs and their versions',
    run: async (a) => (await import('./commands/doctor.js')).doctorCommand(a),
  },
  serve: {
    summary: "(backup host, forced command) answer one client's handoff",
    run: async (a) => (await import('./commands/serve.js')).serveCommand(a),
  },
  'tunnel-proxy': {
    summary: "(backup host, ssh ProxyCommand) carry a tunnelled pull's ssh",
    run: async (a) => (await import('./commands/tunnel-proxy.js')).tunnelProxyCommand(a),
  },
  gate: {
    summary: '(client, forced command) allow one read-only rsync sender',
    run: async (a) => (await import('./commands/gate.js')).gateCommand(a),
  },
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
  if (!name) {
    // no command is a usage error (scripts notice), but the help is what a person needs
    console.error(usage());
    return EXIT.USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === '--version' || name === 'version') {
    console.log(PULLBACK_VERSION);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    const guess = suggestionFor(name, Object.keys(COMMANDS));
    console.error(
      `BAD_ARGS: unknown command "${name}"${guess ? ` (did you mean "${guess}"?)` : ''} (see pullback --help)`,
    );
    return EXIT.USAGE;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const error = describeSystemError(err) ?? asPullbackError(err);
    console.error(error.toLine());
    return exitCodeFor(error.code);
  }
}
