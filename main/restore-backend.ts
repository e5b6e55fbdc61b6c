import { isAbsolute } from 'node:path';
import type { HostConfig } from '../core/config/client-schema.js';
import { readIdentityKey } from '../core/config/identity.js';
import { PullbackError } from '../core/errors.js';
import { listRemoteSnapshots } from '../core/handoff/backup-client.js';
import { fileVersions, listEntries, restorePaths } from '../core/restore/client.js';
import type { PullbackBackend, RestoreEvent, RestoreRequest } from '../preload/api.js';
import type { SettingsStore } from './settings-store.js';

/**
 * The Restore window's half of the backend: a thin adapter over core/restore (the same calls
 * `pullback ls`, `versions` and `restore` make). Arguments come from a page, so each is
 * checked for its type here; what they mean (`..`, a path never backed up) core/restore checks.
 */
export interface RestoreBackendDeps {
  settings: SettingsStore;
  env: NodeJS.ProcessEnv;
  /** progress of the running restore, to the windows */
  emit(event: RestoreEvent): void;
  /** Electron's folder dialog; absent where there is none (the Chromium test harness) */
  chooseFolder?(): Promise<string | null>;
}

export type RestoreBackend = Pick<
  PullbackBackend,
  | 'restoreContext'
  | 'listSnapshots'
  | 'listEntries'
  | 'fileVersions'
  | 'restore'
  | 'cancelRestore'
  | 'chooseFolder'
>;

const MAX_PATHS = 10_000;

const cancelled = () => new PullbackError('CANCELLED', 'the restore was cancelled');

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new PullbackError('BAD_REQUEST', `${what} must be a non-empty string`);
  }
  return value;
}

function absolutePath(value: unknown, what: string): string {
  const path = text(value, what);
  if (!isAbsolute(path) || path.includes('\0')) {
    throw new PullbackError('BAD_REQUEST', `${what} must be an absolute path`);
  }
  return path;
}

function restoreRequest(value: unknown): RestoreRequest {
  if (!value || typeof value !== 'object') {
    throw new PullbackError('BAD_REQUEST', 'restore: the request must be an object');
  }
  const r = value as Record<string, unknown>;
  if (!Array.isArray(r.paths) || r.paths.length === 0 || r.paths.length > MAX_PATHS) {
    throw new PullbackError('BAD_REQUEST', `restore: paths must be a list of 1..${MAX_PATHS}`);
  }
  return {
    host: text(r.host, 'host'),
    snapshot: text(r.snapshot, 'snapshot'),
    paths: r.paths.map((p) => absolutePath(p, 'every path')),
    ...(r.to !== undefined && r.to !== null && { to: absolutePath(r.to, 'the folder') }),
  };
}

export function createRestoreBackend(deps: RestoreBackendDeps): RestoreBackend {
  let running: AbortController | undefined;

  function hostNamed(name: unknown): { host: HostConfig; key: string } {
    const wanted = text(name, 'host');
    const host = deps.settings.read().hosts.find((h) => h.name === wanted);
    if (!host) throw new PullbackError('NOT_FOUND', `no paired backup host "${wanted}"`);
    return { host, key: readIdentityKey(deps.env).privateKey };
  }

  return {
    restoreContext: async () => ({
      hosts: deps.settings.read().hosts.map((h) => h.name),
      folderPicker: deps.chooseFolder !== undefined,
    }),
    async listSnapshots(name) {
      const { host, key } = hostNamed(name);
      return listRemoteSnapshots(host, key);
    },
    async listEntries(name, snapshot, path) {
      const o = { snapshot: text(snapshot, 'snapshot'), path: absolutePath(path, 'path') };
      const { host, key } = hostNamed(name);
      return listEntries(host, key, o);
    },
    async fileVersions(name, path) {
      const file = absolutePath(path, 'path');
      const { host, key } = hostNamed(name);
      return fileVersions(host, key, file);
    },
    async restore(value) {
      const request = restoreRequest(value);
      const { host, key } = hostNamed(request.host);
      if (running) throw new PullbackError('BUSY', 'a restore is already running');
      const controller = new AbortController();
      running = controller;
      // a cancel at any point ends in CANCELLED there (core/restore/client.ts)
      try {
        return await restorePaths(host, key, {
          select: { snapshot: request.snapshot },
          paths: request.paths,
          ...(request.to !== undefined && { to: request.to }),
          signal: controller.signal,
          onProgress: (progress) => deps.emit({ type: 'restore-progress', progress }),
        });
      } finally {
        running = undefined;
      }
    },
    async cancelRestore() {
      running?.abort(cancelled());
    },
    async chooseFolder() {
      if (!deps.chooseFolder) {
        throw new PullbackError('BAD_REQUEST', 'no folder picker here: type the folder instead');
      }
      return deps.chooseFolder();
    },
  };
}
