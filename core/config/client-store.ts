import Conf from 'conf';
import { existsSync } from 'node:fs';
import { clientConfigSchema, type ClientConfig } from './client-schema.js';
import { clientConfigDir, clientConfigFile, CLIENT_CONFIG_NAME } from './paths.js';
import { zodToPullbackError } from './zod-error.js';
import { readJsonConfigFile } from './json-file.js';

/** Validates raw JSON against the one client schema; throws BAD_CONFIG naming the field. */
export function parseClientConfig(raw: unknown, where = 'client config'): ClientConfig {
  const parsed = clientConfigSchema.safeParse(raw);
  if (!parsed.success) throw zodToPullbackError('BAD_CONFIG', where, parsed.error);
  return parsed.data;
}

export function clientConfigExists(env: NodeJS.ProcessEnv = process.env): boolean {
  return existsSync(clientConfigFile(env));
}

/** Reads the client config; a missing file gives the defaults, a broken one a BAD_CONFIG error. */
export function readClientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const file = clientConfigFile(env);
  if (!existsSync(file)) return parseClientConfig({});
  const raw = readJsonConfigFile(file);
  return parseClientConfig(raw, file);
}

/** Writes through `conf` (atomic write), the same library electron-store uses in the tray. */
export function writeClientConfig(
  config: ClientConfig,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const valid = parseClientConfig(config);
  const store = new Conf<Record<string, unknown>>({
    projectName: 'pullback',
    projectSuffix: '',
    cwd: clientConfigDir(env),
    configName: CLIENT_CONFIG_NAME,
    clearInvalidConfig: false,
  });
  store.store = valid as unknown as Record<string, unknown>;
}

export function updateClientConfig(
  change: (config: ClientConfig) => ClientConfig,
  env: NodeJS.ProcessEnv = process.env,
): ClientConfig {
  const next = change(readClientConfig(env));
  writeClientConfig(next, env);
  return parseClientConfig(next);
}
