import { existsSync } from 'node:fs';
import type { AgentController } from '../core/agent/types.js';
import { PullbackError, asPullbackError } from '../core/errors.js';
import type {
  IpcResult,
  PullbackBackend,
  RestoreEvent,
  RestoreTarget,
  WindowName,
} from '../preload/api.js';
import { createPairingSession } from './pairing-session.js';
import { applyPreferences, toPreferences } from './preferences.js';
import { createRestoreBackend } from './restore-backend.js';
import type { SettingsStore } from './settings-store.js';

/**
 * Everything behind `window.pullback`, in plain Node: the Electron IPC handlers (main/ipc.ts)
 * and the UI tests' Chromium bridge both call this, so the tests drive the real code path.
 */
export interface BackendDeps {
  agent: AgentController;
  settings: SettingsStore;
  env: NodeJS.ProcessEnv;
  openWindow(name: WindowName, at?: RestoreTarget): void;
  /** a running restore's progress, to the windows */
  emit(event: RestoreEvent): void;
  /** Electron's folder dialog (the Restore window types the folder without one) */
  chooseFolder?(): Promise<string | null>;
  /** after a save: apply what lives outside the config file (the autostart entry) */
  afterSave?(startOnLogin: boolean): void;
  pairingLocalAddress?: string;
}

const WINDOWS: readonly WindowName[] = ['status', 'preferences', 'pairing', 'restore'];

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new PullbackError('BAD_REQUEST', `${what} must be a string`);
  return value;
}

function restoreTarget(value: unknown): RestoreTarget | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') throw new PullbackError('BAD_REQUEST', 'at must be an object');
  const { host, snapshot } = value as Record<string, unknown>;
  if (typeof host !== 'string' || host === '') {
    throw new PullbackError('BAD_REQUEST', 'at.host must be a host name');
  }
  const id = optionalString(snapshot, 'at.snapshot');
  return id === undefined ? { host } : { host, snapshot: id };
}

export function createBackend(deps: BackendDeps): PullbackBackend {
  const { agent, settings } = deps;
  const pairing = createPairingSession({
    env: deps.env,
    settings,
    ...(deps.pairingLocalAddress && { localAddress: deps.pairingLocalAddress }),
  });
  const restore = createRestoreBackend({
    settings,
    env: deps.env,
    emit: deps.emit,
    ...(deps.chooseFolder && { chooseFolder: deps.chooseFolder }),
  });
  return {
    ...restore,
    getState: async () => agent.getState(),
    getHistory: (host, limit) =>
      agent.getHistory(
        optionalString(host, 'host'),
        typeof limit === 'number' ? Math.min(Math.max(1, limit), 500) : 20,
      ),
    backupNow: (host) => agent.backupNow(optionalString(host, 'host')),
    cancel: (host) => agent.cancel(optionalString(host, 'host')),
    async pause(until) {
      const iso = optionalString(until, 'until');
      const date = iso === undefined ? null : new Date(iso);
      if (date && Number.isNaN(date.getTime())) {
        throw new PullbackError('BAD_REQUEST', `pause: not a date: "${iso}"`);
      }
      await agent.pause(date);
    },
    getConfig: async () => toPreferences(settings.read()),
    async saveConfig(change) {
      const { config: next, notes } = applyPreferences(settings.read(), change, existsSync);
      settings.write(next);
      deps.afterSave?.(next.startOnLogin);
      await agent.reload();
      return { ...toPreferences(next), notes };
    },
    pairStart: (userAtHost) => pairing.start(String(userAtHost)),
    async pairConfirm() {
      await pairing.confirm();
      await agent.reload();
    },
    pairCheck: () => pairing.check(),
    async openWindow(name, at) {
      if (!WINDOWS.includes(name)) throw new PullbackError('BAD_REQUEST', `no window "${name}"`);
      const target = restoreTarget(at);
      if (target && name !== 'restore') {
        throw new PullbackError('BAD_REQUEST', `the ${name} window opens at no snapshot`);
      }
      deps.openWindow(name, target);
    },
  };
}

/** Runs one backend call and turns its outcome into the IPC envelope (errors keep their code). */
export async function invokeBackend(
  backend: PullbackBackend,
  method: string,
  args: unknown[],
): Promise<IpcResult<unknown>> {
  try {
    if (!Object.hasOwn(backend, method)) {
      throw new PullbackError('BAD_REQUEST', `no such call: ${method}`);
    }
    const fn = backend[method as keyof PullbackBackend] as (...a: unknown[]) => Promise<unknown>;
    const value = await fn(...args);
    return { ok: true, value: value === undefined ? null : value };
  } catch (err) {
    const error = asPullbackError(err);
    return { ok: false, code: error.code, message: error.message };
  }
}
