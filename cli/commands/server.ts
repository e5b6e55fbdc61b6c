import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { mkdirSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { parseCommandArgs } from '../args.js';
import { DEFAULT_SERVER_CONFIG } from '../../core/config/paths.js';
import { readServerConfig, writeServerConfig, parseServerConfig } from '../../core/config/server-store.js';
import {
  addAuthorizedClient,
  listAuthorizedClients,
  removeAuthorizedClient,
} from '../../core/server/authorized-clients.js';
import { pullbackCommand } from '../../core/self-command.js';
import { openRepository } from '../../core/storage/repository.js';
import { validateClientName } from '../../core/storage/client-name.js';
import { PullbackError } from '../../core/errors.js';
import { formatBytes } from '../../core/format.js';

const HELP = `Usage: pullback server <subcommand> [options]

Administers a backup host. Common options: --config FILE (default ${DEFAULT_SERVER_CONFIG}).

  init --storage DIR [--backend auto|hardlink|btrfs]   create the server config and storage root
  add-client NAME --key 'ssh-ed25519 …' [--authorized-keys FILE]
                     let a client in: writes its restricted forced-command entry (idempotent)
  remove-client NAME [--delete-snapshots]
                     revoke the client's key; its snapshots stay unless asked
  clients            list the clients and their keys
  snapshots NAME [--json]   list a client's snapshots`;

const common = { config: { type: 'string' as const } };

function authorizedKeysDefault(): string {
  return join(homedir(), '.ssh', 'authorized_keys');
}

async function init(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { ...common, storage: { type: 'string' }, backend: { type: 'string' } }, { command: 'server init' });
  if (values.help) return help();
  if (!values.storage) throw new PullbackError('BAD_ARGS', 'server init: --storage DIR is required');
  const file = values.config ?? DEFAULT_SERVER_CONFIG;
  const existing = existsSync(file) ? readServerConfig(file) : undefined;
  const config = parseServerConfig({ ...existing, storage: resolve(values.storage), ...(values.backend ? { backend: values.backend } : {}) });
  mkdirSync(config.storage, { recursive: true, mode: 0o700 });
  chmodSync(config.storage, 0o700);
  writeServerConfig(file, config);
  console.log(`server config ${file}: storage ${config.storage}, backend ${config.backend}`);
  return 0;
}

async function addClient(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...common, key: { type: 'string' }, 'authorized-keys': { type: 'string' } },
    { command: 'server add-client', positionals: 1 },
  );
  if (values.help) return help();
  const name = positionals[0]!;
  validateClientName(name);
  if (!values.key) throw new PullbackError('BAD_ARGS', "server add-client: --key 'ssh-ed25519 …' is required");
  const configFile = resolve(values.config ?? DEFAULT_SERVER_CONFIG);
  readServerConfig(configFile); // the forced command must point at a valid config
  const file = values['authorized-keys'] ?? authorizedKeysDefault();
  const { changed } = addAuthorizedClient(file, name, values.key, pullbackCommand('serve', '--client', name, '--config', configFile));
  console.log(`${changed ? 'added' : 'already present:'} client ${name} in ${file}`);
  return 0;
}

async function removeClient(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...common, 'authorized-keys': { type: 'string' }, 'delete-snapshots': { type: 'boolean' } },
    { command: 'server remove-client', positionals: 1 },
  );
  if (values.help) return help();
  const name = positionals[0]!;
  const file = values['authorized-keys'] ?? authorizedKeysDefault();
  const removed = removeAuthorizedClient(file, name);
  console.log(removed ? `revoked client ${name}'s key` : `client ${name} had no key in ${file}`);
  if (values['delete-snapshots']) {
    const config = readServerConfig(values.config ?? DEFAULT_SERVER_CONFIG);
    const dir = join(config.storage, name);
    rmSync(dir, { recursive: true, force: true });
    console.log(`deleted ${dir}`);
  } else console.log('snapshots kept (use --delete-snapshots to delete them)');
  return 0;
}

async function clients(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { ...common, 'authorized-keys': { type: 'string' } }, { command: 'server clients' });
  if (values.help) return help();
  for (const c of listAuthorizedClients(values['authorized-keys'] ?? authorizedKeysDefault())) console.log(`${c.name}  ${c.publicKey}`);
  return 0;
}

async function snapshots(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...common, json: { type: 'boolean' } }, { command: 'server snapshots', positionals: 1 });
  if (values.help) return help();
  const config = readServerConfig(values.config ?? DEFAULT_SERVER_CONFIG);
  const repo = openRepository(config.storage, positionals[0]!, { backend: config.backend });
  const list = await repo.listSnapshots();
  if (values.json) console.log(JSON.stringify(list.map(({ path, meta }) => ({ path, ...meta }))));
  else for (const s of list) console.log(`${s.id}  ${s.path}  ${s.meta.stats.files ?? '?'} files  ${formatBytes(s.meta.stats.totalBytes ?? 0)}`);
  return 0;
}

function help(): number {
  console.log(HELP);
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  init,
  'add-client': addClient,
  'remove-client': removeClient,
  clients,
  snapshots,
};

export async function serverCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') return help();
  const run = SUBCOMMANDS[sub];
  if (!run) throw new PullbackError('BAD_ARGS', `server: unknown subcommand "${sub}" (see pullback server --help)`);
  return run(rest);
}
