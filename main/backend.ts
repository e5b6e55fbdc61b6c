import { existsSync } from 'node:fs';
import type { AgentController } from '../core/agent/types.js';
import { PullbackError, asPullbackError } from '../core/errors.js';
import type { IpcResult, PullbackBackend, WindowName } from '../preload/api.js';
import { createPairingSession } from './pairing-session.js';
import { applyPreferences, toPreferences } from './preferences.js';
import type { SettingsStore } from './settings-store.js';

/**
 * Everything behind `window.pullback`, in plain Node: the Electron IPC handlers (main/ipc.ts)
 * and the UI tests' Chromium bridge both call this, so the tests drive the real code path.
 */
export interface BackendDeps {
  agent: AgentController;
  settings: SettingsStore;
  env: NodeJS.ProcessEnv;
  openWindow(name: WindowName): void;
  /** after a save: apply what lives outside the config file (the autostart entry) */
  afterSave?(startOnLogin: boolean): void;
  pairingLocalAddress?: string;
}

const WINDOWS: readonly WindowName[] = ['status', 'preferences', 'pairing'];

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new PullbackError('BAD_REQUEST', `${what} must be a string`);
  return value;
}

export function createBackend(deps: BackendDeps): PullbackBackend {
  const { agent, settings } = deps;
  const pairing = createPairingSession({
    env: deps.env,
    settings,
    ...(deps.pairingLocalAddress && { localAddress: deps.pairingLocalAddress }),
  });
  return {
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
    async openWindow(name) {
      if (!WINDOWS.includes(name)) throw new PullbackError('BAD_REQUEST', `no window "${name}"`);
      deps.openWindow(name);
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
