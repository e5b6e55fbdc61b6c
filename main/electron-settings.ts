import Store from 'electron-store';
import { parseClientConfig } from '../core/config/client-store.js';
import { CLIENT_CONFIG_NAME, clientConfigDir } from '../core/config/paths.js';
import type { SettingsStore } from './settings-store.js';

/** The tray's settings: electron-store on the very file the CLI reads through `conf`. */
export function electronSettingsStore(env: NodeJS.ProcessEnv = process.env): SettingsStore {
  const store = new Store<Record<string, unknown>>({
    cwd: clientConfigDir(env),
    name: CLIENT_CONFIG_NAME,
    clearInvalidConfig: false,
  });
  return {
    read: () => parseClientConfig(store.store, store.path),
    write(config) {
      store.store = parseClientConfig(config) as unknown as Record<string, unknown>;
    },
  };
}
