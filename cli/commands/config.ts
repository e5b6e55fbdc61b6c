import { parseCommandArgs, suggestionFor } from '../args.js';
import {
  clientConfigExists,
  readClientConfig,
  updateClientConfig,
} from '../../core/config/client-store.js';
import type { ClientConfig } from '../../core/config/client-schema.js';
import { notPaired, setHostReach } from '../../core/config/host-reach.js';
import { parseReach } from '../../core/tunnel/reach-choice.js';
import { clientConfigFile } from '../../core/config/paths.js';
import {
  EXCLUDE_PRESETS,
  EXCLUDE_PRESET_NAMES,
  presetPatterns,
  type ExcludePresetName,
} from '../../core/config/exclude-presets.js';
import { builtInExcludes } from '../../core/config/backup-excludes.js';
import { addSources, normalizeSource } from '../../core/config/sources.js';
import { fingerprint } from '../../core/ssh/keys.js';
import { PullbackError } from '../../core/errors.js';

const HELP = `Usage: pullback config <subcommand> [arguments]

Shows and changes this machine's config (~/.config/pullback/config.json) with checks;
the tray's Preferences edit the same file.

  show [--json]                 everything: sources, excludes, presets, hosts, schedule
  add-source DIR…               back up DIR too (must exist; a source inside another is dropped, with a note)
  remove-source DIR…            stop backing up DIR (its snapshots stay on the backup hosts)
  add-exclude PATTERN…          an rsync exclude pattern, e.g. '*.iso' or '/home/me/VMs/'
  remove-exclude PATTERN…       drop one of your exclude patterns
  remove-host NAME              forget a paired backup host (its snapshots stay there; on the
                                backup host: pullback server remove-client NAME)
  set-reach NAME auto|direct|tunnel
                                how backup host NAME reaches this machine: direct (it connects
                                back), tunnel (through this machine's own connection: NAT,
                                offsite), auto (direct when it can, else the tunnel; the default)
  presets                       list the exclude presets, which are on, and what they cover
  enable-preset NAME…           turn an exclude preset on
  disable-preset NAME…          turn an exclude preset off

Pullback's own identity key, state and runtime directories are always excluded (not removable).`;

type Change = (config: ClientConfig) => { config: ClientConfig; notes: string[] };

/** Applies one checked change; nothing is written when the change throws. */
function change(apply: Change): number {
  const notes: string[] = [];
  const next = updateClientConfig((c) => {
    const out = apply(c);
    notes.push(...out.notes);
    return out.config;
  });
  for (const n of notes) console.log(n);
  console.log(`config ${clientConfigFile()}: sources ${next.sources.join(', ') || '(none)'}`);
  return 0;
}

function presetName(name: string): ExcludePresetName {
  if ((EXCLUDE_PRESET_NAMES as string[]).includes(name)) return name as ExcludePresetName;
  const guess = suggestionFor(name, EXCLUDE_PRESET_NAMES);
  throw new PullbackError(
    'BAD_ARGS',
    `config: no exclude preset "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; see pullback config presets`,
  );
}

function show(json: boolean): number {
  const c = readClientConfig();
  const alwaysExcluded = builtInExcludes(c.mode);
  if (json) {
    console.log(JSON.stringify({ file: clientConfigFile(), ...c, alwaysExcluded }));
    return 0;
  }
  if (!clientConfigExists()) console.log('no config yet: run "pullback init"');
  console.log(`config ${clientConfigFile()}`);
  console.log(`name     ${c.name}`);
  console.log(`mode     ${c.mode}`);
  console.log(`sources  ${c.sources.join('\n         ') || '(none)'}`);
  console.log(`excludes ${c.excludes.join('\n         ') || '(none of your own)'}`);
  console.log(`presets  ${c.excludePresets.join(', ') || '(none)'}`);
  console.log(`always excluded  ${alwaysExcluded.join(', ')}`);
  for (const h of c.hosts)
    console.log(
      `host     ${h.name}: ${h.user}@${h.address}:${h.port}, host key ${fingerprint(h.hostKey)}, reach ${h.reach ?? 'auto'}`,
    );
  if (c.hosts.length === 0) console.log('host     (none paired: pullback pair USER@HOST)');
  const s = c.schedule;
  console.log(
    `schedule every ${s.intervalHours} h, overdue after ${s.overdueDays} days${s.pausedUntil ? `, paused until ${s.pausedUntil}` : ''}`,
  );
  return 0;
}

function presets(): number {
  const on = new Set(readClientConfig().excludePresets);
  const width = Math.max(...EXCLUDE_PRESET_NAMES.map((n) => n.length));
  for (const name of EXCLUDE_PRESET_NAMES) {
    console.log(
      `${on.has(name) ? 'on ' : 'off'}  ${name.padEnd(width)}  ${EXCLUDE_PRESETS[name].summary}`,
    );
    for (const p of presetPatterns(name)) console.log(`       ${' '.repeat(width)}  - ${p}`);
  }
  return 0;
}

const SUBCOMMANDS = [
  'show',
  'add-source',
  'remove-source',
  'add-exclude',
  'remove-exclude',
  'remove-host',
  'set-reach',
  'presets',
  'enable-preset',
  'disable-preset',
];

export async function configCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub) {
    console.error(HELP); // like `pullback` alone: a usage error, with the help a person needs
    return 2;
  }
  if (sub === '--help' || sub === '-h') {
    console.log(HELP);
    return 0;
  }
  if (!SUBCOMMANDS.includes(sub)) {
    const guess = suggestionFor(sub, SUBCOMMANDS);
    throw new PullbackError(
      'BAD_ARGS',
      `config: unknown subcommand "${sub}"${guess ? ` (did you mean "${guess}"?)` : ''} (see pullback config --help)`,
    );
  }
  const counts: Record<string, number | [number, number]> = {
    show: 0,
    presets: 0,
    'remove-host': 1,
    'set-reach': 2,
  };
  const { values, positionals } = parseCommandArgs(
    rest,
    sub === 'show' ? { json: { type: 'boolean' } } : {},
    { command: `config ${sub}`, positionals: counts[sub] ?? [1, 256] },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  switch (sub) {
    case 'show':
      return show((values as { json?: boolean }).json ?? false);
    case 'presets':
      return presets();
    case 'add-source':
      return change((c) => addSources(c, positionals));
    case 'remove-source':
      return change((c) => {
        const gone = positionals.map((s) => normalizeSource(s));
        for (const s of gone)
          if (!c.sources.includes(s))
            throw new PullbackError(
              'NOT_FOUND',
              `${s} is not a source (sources: ${c.sources.join(', ') || 'none'})`,
            );
        return { config: { ...c, sources: c.sources.filter((s) => !gone.includes(s)) }, notes: [] };
      });
    case 'add-exclude':
      return change((c) => ({
        config: { ...c, excludes: [...new Set([...c.excludes, ...positionals])] },
        notes: positionals.map((p) => `exclude ${p}`),
      }));
    case 'remove-exclude':
      return change((c) => {
        for (const p of positionals)
          if (!c.excludes.includes(p))
            throw new PullbackError(
              'NOT_FOUND',
              `"${p}" is not one of your exclude patterns (presets: pullback config disable-preset)`,
            );
        return {
          config: { ...c, excludes: c.excludes.filter((p) => !positionals.includes(p)) },
          notes: [],
        };
      });
    case 'remove-host':
      return change((c) => {
        const name = positionals[0]!;
        if (!c.hosts.some((h) => h.name === name)) throw notPaired(c, name);
        return {
          config: { ...c, hosts: c.hosts.filter((h) => h.name !== name) },
          notes: [
            `forgot backup host ${name}; its snapshots stay there (to revoke this machine there: pullback server remove-client)`,
          ],
        };
      });
    case 'set-reach':
      return change((c) => {
        const [name, word] = positionals as [string, string];
        const reach = parseReach(word, 'config set-reach: the reach');
        return {
          config: setHostReach(c, name, reach),
          notes: [`backup host ${name}: reach ${reach}`],
        };
      });
    case 'enable-preset':
    case 'disable-preset': {
      const names = positionals.map(presetName);
      const on = sub === 'enable-preset';
      return change((c) => ({
        config: {
          ...c,
          excludePresets: on
            ? [...new Set([...c.excludePresets, ...names])]
            : c.excludePresets.filter((n) => !names.includes(n)),
        },
        notes: names.map((n) => `preset ${n} ${on ? 'on' : 'off'}`),
      }));
    }
  }
  return 2;
}
