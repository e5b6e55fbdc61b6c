import { clientStateDir, identityKeyFile } from './paths.js';
import { defaultRuntimeBase } from '../ssh/oneshot.js';
import { homes, presetPatterns, type ExcludePresetName } from './exclude-presets.js';

/**
 * Always excluded, not removable: Pullback's own identity key, its state (run history, change
 * index) and its runtime directories (one-shot host keys and authorized_keys). Anchored to the
 * absolute path: the pull runs with `rsync -R`, so rule paths start at the client's "/".
 */
export function builtInExcludes(
  mode: 'user' | 'system' = 'user',
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const key = identityKeyFile(env);
  const others = homes(mode, env).flatMap((h) => [
    `${h}/.config/pullback/id_ed25519`,
    `${h}/.local/state/pullback/`,
  ]);
  return [
    ...new Set([
      key,
      `${clientStateDir(env)}/`,
      `${defaultRuntimeBase(env)}/`,
      ...others,
      // system mode's one-shot directories, whatever account runs the backup
      '/run/pullback/',
    ]),
  ];
}

/** Every rsync exclude of one run: the built-in ones, the presets turned on, the user's own. */
export function effectiveExcludes(
  config: {
    mode?: 'user' | 'system';
    excludes: readonly string[];
    excludePresets?: readonly ExcludePresetName[];
  },
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const mode = config.mode ?? 'user';
  const presets = (config.excludePresets ?? []).flatMap((n) => presetPatterns(n, mode, env));
  return [...new Set([...builtInExcludes(mode, env), ...presets, ...config.excludes])];
}
