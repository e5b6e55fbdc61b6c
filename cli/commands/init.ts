import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseCommandArgs } from '../args.js';
import { ensureIdentityKey } from '../../core/config/identity.js';
import {
  readClientConfig,
  writeClientConfig,
  parseClientConfig,
} from '../../core/config/client-store.js';
import { clientConfigFile } from '../../core/config/paths.js';
import { PullbackError } from '../../core/errors.js';

const HELP = `Usage: pullback init [--source DIR]… [--exclude PATTERN]… [--name NAME] [--mode user|system]

Creates this machine's identity key (0600) and its config, or adds to an existing config.

  --source DIR       a directory to back up (repeatable; default: your home directory)
  --exclude PATTERN  an rsync exclude pattern (repeatable), e.g. --exclude '.cache/'
  --name NAME        a label for this machine (default: the hostname)
  --mode MODE        user (what you can read; default) or system (whole filesystem, needs the helper)`;

export async function initCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      source: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
      name: { type: 'string' },
      mode: { type: 'string' },
    },
    { command: 'init' },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.mode !== undefined && values.mode !== 'user' && values.mode !== 'system') {
    throw new PullbackError(
      'BAD_ARGS',
      `init: --mode must be "user" or "system", got "${values.mode}"`,
    );
  }
  const current = readClientConfig();
  const name = values.name ?? (current.name === 'this-machine' ? hostname() : current.name);
  const sources =
    values.source?.map((s) => resolve(s)) ??
    (current.sources.length ? current.sources : [process.env.HOME ?? '/']);
  // Validate everything before writing anything.
  const next = parseClientConfig({
    ...current,
    name,
    sources: [...new Set([...current.sources, ...sources])],
    excludes: [...new Set([...current.excludes, ...(values.exclude ?? [])])],
    ...(values.mode ? { mode: values.mode } : {}),
  });
  const key = ensureIdentityKey(name);
  writeClientConfig(next);
  console.log(`${key.created ? 'created' : 'kept'} identity key ${key.file}`);
  console.log(`config ${clientConfigFile()}: sources ${next.sources.join(', ')}`);
  console.log(`next: pullback pair USER@BACKUP-HOST`);
  return 0;
}
