import { homedir } from 'node:os';

/**
 * Exclude presets: named groups of what is worthless in a backup (caches, trash, thumbnails…).
 * `pullback init` turns them all on; `pullback config presets` lists them, `config
 * disable-preset` / `enable-preset` turn one off or on. Documented in docs/cli.md.
 * `home` paths are under each home directory; `system` paths are absolute.
 */
export const EXCLUDE_PRESETS = {
  caches: {
    summary: 'per-user caches in ~/.cache, rebuilt by the programs that made them',
    home: ['.cache/'],
    system: ['/var/cache/apt/archives/'],
  },
  trash: {
    summary: 'the desktop trash (~/.local/share/Trash)',
    home: ['.local/share/Trash/'],
    system: [],
  },
  thumbnails: {
    summary: 'image thumbnails (~/.thumbnails, ~/.cache/thumbnails)',
    home: ['.thumbnails/', '.cache/thumbnails/'],
    system: [],
  },
  'package-caches': {
    summary:
      'package-manager caches: npm (~/.npm/_cacache, ~/.npm/_npx), yarn, pnpm, pip, cargo, go, maven, gradle',
    home: [
      '.npm/_cacache/',
      '.npm/_npx/',
      '.npm/_logs/',
      '.yarn/cache/',
      '.local/share/pnpm/store/',
      '.cache/pip/',
      '.cargo/registry/cache/',
      'go/pkg/mod/cache/',
      '.m2/repository/',
      '.gradle/caches/',
    ],
    system: [],
  },
  'browser-caches': {
    summary: 'web browser caches kept outside ~/.cache (Firefox, Chromium, Chrome)',
    home: [
      '.mozilla/firefox/*/cache2/',
      '.config/chromium/*/Cache/',
      '.config/chromium/*/Code Cache/',
      '.config/google-chrome/*/Cache/',
      '.config/google-chrome/*/Code Cache/',
      'snap/firefox/common/.cache/',
    ],
    system: [],
  },
} as const satisfies Record<
  string,
  { summary: string; home: readonly string[]; system: readonly string[] }
>;

export type ExcludePresetName = keyof typeof EXCLUDE_PRESETS;
export const EXCLUDE_PRESET_NAMES = Object.keys(EXCLUDE_PRESETS) as [
  ExcludePresetName,
  ...ExcludePresetName[],
];

/** Whose homes the rules cover: this account's, and in system mode every usual home. */
export function homes(mode: 'user' | 'system', env: NodeJS.ProcessEnv): string[] {
  const own = (env.HOME || homedir()).replace(/\/+$/, '');
  return [...new Set([own, ...(mode === 'system' ? ['/home/*', '/root'] : [])])];
}

/** The rsync patterns of one preset, for this account (anchored: the pull runs with rsync -R). */
export function presetPatterns(
  name: ExcludePresetName,
  mode: 'user' | 'system' = 'user',
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const preset = EXCLUDE_PRESETS[name];
  return [
    ...homes(mode, env).flatMap((h) => preset.home.map((p) => `${h}/${p}`)),
    ...preset.system,
  ];
}
