import { parseCommandArgs } from '../args.js';
import { ensureIdentityKey } from '../../core/config/identity.js';
import {
  clientConfigExists,
  readClientConfig,
  writeClientConfig,
  parseClientConfig,
} from '../../core/config/client-store.js';
import { clientConfigFile } from '../../core/config/paths.js';
import { EXCLUDE_PRESET_NAMES } from '../../core/config/exclude-presets.js';
import { addSources } from '../../core/config/sources.js';
import { defaultClientName } from '../../core/config/default-client-name.js';
import { PullbackError } from '../../core/errors.js';

const HELP = `Usage: pullback init [--source DIR]… [--exclude PATTERN]… [--name NAME] [--mode user|system]

Creates this machine's identity key (0600) and its config, or adds to an existing config.
A new config gets every exclude preset (caches, trash, thumbnails, package-manager and browser
caches): see pullback config presets. Pullback's own key, state and runtime dirs are never
backed up.

  --source DIR       a directory to back up (repeatable; default: your home directory); it
                     must exist, and one inside another source is dropped, with a note
  --exclude PATTERN  an rsync exclude pattern (repeatable), e.g. --exclude '.cache/'
  --name NAME        this machine's name on its backup hosts (default: the hostname and six hex
                     digits from /etc/machine-id, e.g. laptop-3fa2c1, so two machines with
                     the same hostname do not collide)
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
  const fresh = !clientConfigExists();
  const current = readClientConfig();
  const picked = values.name === undefined && current.name === 'this-machine';
  const name = values.name ?? (picked ? defaultClientName() : current.name);
  const added = values.source ?? (current.sources.length ? [] : [process.env.HOME ?? '/']);
  // Check everything before writing anything: a missing source refuses the whole init.
  const { config: withAdded, notes } = addSources(current, added);
  const next = parseClientConfig({
    ...withAdded,
    name,
    excludes: [...new Set([...current.excludes, ...(values.exclude ?? [])])],
    ...(fresh ? { excludePresets: EXCLUDE_PRESET_NAMES } : {}),
    ...(values.mode ? { mode: values.mode } : {}),
  });
  const key = ensureIdentityKey(name);
  writeClientConfig(next);
  console.log(`${key.created ? 'created' : 'kept'} identity key ${key.file}`);
  for (const n of notes) console.log(n);
  console.log(`config ${clientConfigFile()}: sources ${next.sources.join(', ')}`);
  if (fresh)
    console.log(
      `exclude presets on: ${next.excludePresets.join(', ')} (pullback config presets to review)`,
    );
  console.log(
    picked
      ? `this machine's name on backup hosts: ${next.name} (the hostname and a suffix from /etc/machine-id; change it with pullback init --name NAME before pairing)`
      : `this machine's name on backup hosts: ${next.name}`,
  );
  console.log(`next: pullback pair USER@BACKUP-HOST`);
  return 0;
}
