import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the client keeps its config and long-term identity key (XDG, overridable for tests). */
export function clientConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PULLBACK_CONFIG_DIR) return env.PULLBACK_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'pullback');
}

/** Where run history and status live. */
export function clientStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PULLBACK_STATE_DIR) return env.PULLBACK_STATE_DIR;
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'pullback');
}

export const CLIENT_CONFIG_NAME = 'config';
export const IDENTITY_KEY_NAME = 'id_ed25519';

export function clientConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(clientConfigDir(env), `${CLIENT_CONFIG_NAME}.json`);
}

export function identityKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(clientConfigDir(env), IDENTITY_KEY_NAME);
}

export const DEFAULT_SERVER_CONFIG = '/etc/pullback/server.json';
