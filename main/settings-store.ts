import type { ClientConfig } from '../core/config/client-schema.js';
import { readClientConfig, writeClientConfig } from '../core/config/client-store.js';

/**
 * Where the preferences are read and written: the one client config file. The tray uses
 * electron-store (main/electron-settings.ts); tests and the CLI use `conf` through core.
 * Both validate with the one schema (parseClientConfig) on every read and write.
 */
export interface SettingsStore {
  read(): ClientConfig;
  write(config: ClientConfig): void;
}

export function confSettingsStore(env: NodeJS.ProcessEnv = process.env): SettingsStore {
  return {
    read: () => readClientConfig(env),
    write: (config) => writeClientConfig(config, env),
  };
}
