import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { mkdirSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { parseCommandArgs } from '../args.js';
import { DEFAULT_SERVER_CONFIG } from '../../core/config/paths.js';
import {
  readServerConfig,
  writeServerConfig,
  parseServerConfig,
} from '../../core/config/server-store.js';
import { retentionFor } from '../../core/server/server-config.js';
import { collectServerStatus, knownClients, type ClientStatus } from '../../core/server/status.js';
import { formatPrometheus } from '../../core/server/prometheus.js';
import { pruneRepository, type PruneResult } from '../../core/storage/prune.js';
import { writeFileAtomic } from '../../core/storage/durable-fs.js';
import {
  addAuthorizedClient,
  listAuthorizedClients,
  removeAuthorizedClient,
} from '../../core/server/authorized-clients.js';
import { pullbackCommand } from '../../core/self-command.js';
import { openRepository } from '../../core/storage/repository.js';
import { validateClientName } from '../../core/storage/client-name.js';
import { PullbackError, asPullbackError } from '../../core/errors.js';
import { formatBytes, formatDuration } from '../../core/format.js';
import { fingerprint } from '../../core/ssh/keys.js';

const HELP = `Usage: pullback server <subcommand> [options]

Administers a backup host. Common options: --config FILE (default ${DEFAULT_SERVER_CONFIG}).

  init --storage DIR [--backend auto|hardlink|btrfs]   create the server config and storage root
  add-client NAME --key 'ssh-ed25519 …' [--replace-key] [--authorized-keys FILE]
                     let a client in: writes its restricted forced-command entry (idempotent);
                     a NAME that already has another key is refused (both fingerprints shown)
                     unless --replace-key: that machine then loses its access
  remove-client NAME [--delete-snapshots]
                     revoke the client's key; its snapshots stay unless asked
  clients            list the clients and their keys
  snapshots NAME [--json]   list a client's snapshots
  prune [NAME] [--dry-run] [--json]
                     apply retention to one client or all (what the pullback-prune timer runs);
                     also removes leftovers of crashes whose process is gone
  status [--json] [--prometheus FILE|-] [--no-size] [--authorized-keys FILE]
                     per client: last success and its age, last result, duration, snapshot
                     count, size, then warnings (a snapshot dated in the future, damaged
                     metadata, crash leftovers); exit 1 if the storage is missing (unmounted);
                     --prometheus writes node_exporter's textfile format (atomically; "-"
                     for stdout)`;

const common = { config: { type: 'string' as const } };

function authorizedKeysDefault(): string {
  return join(homedir(), '.ssh', 'authorized_keys');
}

async function init(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { ...common, storage: { type: 'string' }, backend: { type: 'string' } },
    { command: 'server init' },
  );
  if (values.help) return help();
  if (!values.storage)
    throw new PullbackError('BAD_ARGS', 'server init: --storage DIR is required');
  const file = values.config ?? DEFAULT_SERVER_CONFIG;
  const existing = existsSync(file) ? readServerConfig(file) : undefined;
  const config = parseServerConfig({
    ...existing,
    storage: resolve(values.storage),
    ...(values.backend ? { backend: values.backend } : {}),
  });
  mkdirSync(config.storage, { recursive: true, mode: 0o700 });
  chmodSync(config.storage, 0o700);
  writeServerConfig(file, config);
  console.log(`server config ${file}: storage ${config.storage}, backend ${config.backend}`);
  return 0;
}

async function addClient(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...common,
      key: { type: 'string' },
      'replace-key': { type: 'boolean' },
      'authorized-keys': { type: 'string' },
    },
    { command: 'server add-client', positionals: 1 },
  );
  if (values.help) return help();
  const name = positionals[0]!;
  validateClientName(name);
  if (!values.key)
    throw new PullbackError('BAD_ARGS', "server add-client: --key 'ssh-ed25519 …' is required");
  const configFile = resolve(values.config ?? DEFAULT_SERVER_CONFIG);
  readServerConfig(configFile); // the forced command must point at a valid config
  const file = values['authorized-keys'] ?? authorizedKeysDefault();
  const result = addAuthorizedClient(
    file,
    name,
    values.key,
    pullbackCommand('serve', '--client', name, '--config', configFile),
    { replaceKey: values['replace-key'] ?? false },
  );
  console.log(
    result.outcome === 'replaced-key'
      ? `replaced client ${name}'s key in ${file}: ${fingerprint(result.previousKey!)} no longer gets in, ${fingerprint(values.key)} does`
      : result.outcome === 'updated'
        ? `updated client ${name}'s entry in ${file} (same key)`
        : `${result.outcome === 'added' ? 'added' : 'already present:'} client ${name} in ${file}`,
  );
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
  const { values } = parseCommandArgs(
    argv,
    { ...common, 'authorized-keys': { type: 'string' } },
    { command: 'server clients' },
  );
  if (values.help) return help();
  for (const c of listAuthorizedClients(values['authorized-keys'] ?? authorizedKeysDefault()))
    console.log(`${c.name}  ${c.publicKey}`);
  return 0;
}

async function snapshots(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...common, json: { type: 'boolean' } },
    { command: 'server snapshots', positionals: 1 },
  );
  if (values.help) return help();
  const config = readServerConfig(values.config ?? DEFAULT_SERVER_CONFIG);
  const repo = openRepository(config.storage, positionals[0]!, { backend: config.backend });
  const { snapshots: list, damaged } = await repo.inspect();
  for (const d of damaged) console.error(damagedWarning(positionals[0]!, d));
  if (values.json) console.log(JSON.stringify(list.map(({ path, meta }) => ({ path, ...meta }))));
  else
    for (const s of list)
      console.log(
        `${s.id}  ${s.path}  ${s.meta.stats.files ?? '?'} files  ${formatBytes(s.meta.stats.totalBytes ?? 0)}`,
      );
  return 0;
}

async function prune(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...common, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
    { command: 'server prune', positionals: [0, 1] },
  );
  if (values.help) return help();
  const config = readServerConfig(values.config ?? DEFAULT_SERVER_CONFIG);
  const names =
    positionals[0] !== undefined ? [validateClientName(positionals[0])] : knownClients(config);
  const results: PruneResult[] = [];
  let failed = 0;
  for (const name of names) {
    const repo = openRepository(config.storage, name, { backend: config.backend });
    try {
      const result = await pruneRepository(repo, retentionFor(config, name), {
        dryRun: values['dry-run'] ?? false,
      });
      results.push(result);
      for (const d of result.damaged) console.error(damagedWarning(name, d));
      if (!values.json) {
        const verb = result.dryRun ? 'would remove' : 'removed';
        console.log(
          `${name}: ${verb} ${result.removed.length}, keeps ${result.kept.length}${result.removed.length ? ` (${result.removed.join(', ')})` : ''}`,
        );
      }
    } catch (err) {
      // One client's trouble (a backup holding its lock: BUSY) does not stop the others.
      failed++;
      console.error(`${name}: ${asPullbackError(err).toLine()}`);
    }
  }
  if (values.json) console.log(JSON.stringify(results));
  return failed ? 1 : 0;
}

async function status(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      ...common,
      json: { type: 'boolean' },
      prometheus: { type: 'string' },
      'no-size': { type: 'boolean' },
      'authorized-keys': { type: 'string' },
    },
    { command: 'server status' },
  );
  if (values.help) return help();
  const config = readServerConfig(values.config ?? DEFAULT_SERVER_CONFIG);
  const keys = values['authorized-keys'] ?? authorizedKeysDefault();
  const result = await collectServerStatus(config, {
    sizes: !values['no-size'],
    ...(existsSync(keys) ? { authorizedKeys: keys } : {}),
  });
  if (values.prometheus === '-') process.stdout.write(formatPrometheus(result));
  else if (values.prometheus !== undefined) {
    // Atomic: node_exporter must never read half a file. Its collector reads *.prom only,
    // and the temp name does not end in .prom.
    await writeFileAtomic(resolve(values.prometheus), formatPrometheus(result), 0o644);
  }
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else if (values.prometheus === undefined)
    for (const c of result.clients) for (const line of statusLines(c)) console.log(line);
  return 0;
}

function damagedWarning(client: string, d: { id: string; reason: string }): string {
  return `WARNING ${client}: snapshot ${d.id} is not listed, not pruned and not deleted: ${d.reason}`;
}

/** The client's line, then one indented line per thing an admin should look at. */
function statusLines(c: ClientStatus): string[] {
  const lines = [statusLine(c)];
  if (c.clockWarning) lines.push(`  WARNING clock: ${c.clockWarning}`);
  for (const d of c.damaged)
    lines.push(`  WARNING snapshot ${d.id} is not listed (nothing deletes it): ${d.reason}`);
  if (c.leftovers.length)
    lines.push(
      `  left by crashes (the next backup or \`server prune\` removes them once their process is gone): ${c.leftovers.join(', ')}`,
    );
  return lines;
}

function statusLine(c: ClientStatus): string {
  const success =
    c.lastSuccessAgeSeconds !== undefined
      ? `last success ${formatDuration(c.lastSuccessAgeSeconds)} ago`
      : 'never backed up';
  const last =
    c.lastResult === 'failed'
      ? `, last run FAILED (${c.lastError?.code}: ${c.lastError?.message})`
      : c.lastResult === 'cancelled'
        ? `, last run cancelled (${c.lastError?.message})`
        : '';
  const size = c.sizeBytes !== undefined ? `, ${formatBytes(c.sizeBytes)}` : '';
  return `${c.client}: ${c.running ? 'running, ' : ''}${success}${last}, ${c.snapshots} snapshots${size}${c.incomplete ? ', an interrupted run waits to resume' : ''}`;
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
  prune,
  status,
};

export async function serverCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') return help();
  const run = SUBCOMMANDS[sub];
  if (!run)
    throw new PullbackError(
      'BAD_ARGS',
      `server: unknown subcommand "${sub}" (see pullback server --help)`,
    );
  return run(rest);
}
