import type { AgentState } from '../core/agent/types.js';
import { hostStatusLine, pausedText } from './host-summary.js';

/**
 * The tray menu as a pure function of the agent's state: no Electron here, so Node tests can
 * check every state. main/tray.ts turns it into an Electron Menu and sets it again on every
 * state change (Linux trays do not pick up changes to a menu already set).
 */

export type TrayAction =
  | { kind: 'backup-now'; host?: string }
  | { kind: 'cancel' }
  /** pause automatic backups for this long; null = until resumed */
  | { kind: 'pause'; forMs: number | null }
  | { kind: 'resume' }
  | { kind: 'open-status' }
  | { kind: 'open-preferences' }
  | { kind: 'open-pairing' }
  | { kind: 'open-restore' }
  | { kind: 'quit' };

export interface MenuTemplateItem {
  /** stable id: test hooks click items by it */
  id: string;
  label: string;
  type?: 'normal' | 'separator';
  enabled?: boolean;
  action?: TrayAction;
  submenu?: MenuTemplateItem[];
}

const HOUR = 3_600_000;

function separator(id: string): MenuTemplateItem {
  return { id, label: '', type: 'separator' };
}

function backupNowItem(state: AgentState): MenuTemplateItem {
  const idle = state.hosts.filter((h) => h.phase !== 'running');
  if (state.hosts.length <= 1) {
    return {
      id: 'backup-now',
      label: 'Back up now',
      enabled: idle.length > 0,
      action: { kind: 'backup-now' },
    };
  }
  return {
    id: 'backup-now',
    label: 'Back up now',
    enabled: idle.length > 0,
    submenu: [
      { id: 'backup-now:all', label: 'To all backup hosts', action: { kind: 'backup-now' } },
      ...state.hosts.map((h) => ({
        id: `backup-now:${h.host}`,
        label: `To ${h.host}`,
        enabled: h.phase !== 'running',
        action: { kind: 'backup-now', host: h.host } as TrayAction,
      })),
    ],
  };
}

function pauseItem(state: AgentState): MenuTemplateItem {
  if (state.pausedUntil) {
    return { id: 'resume', label: 'Resume automatic backups', action: { kind: 'resume' } };
  }
  return {
    id: 'pause',
    label: 'Pause automatic backups',
    submenu: [
      { id: 'pause:1h', label: 'For 1 hour', action: { kind: 'pause', forMs: HOUR } },
      { id: 'pause:1d', label: 'For 1 day', action: { kind: 'pause', forMs: 24 * HOUR } },
      { id: 'pause:indefinitely', label: 'Until resumed', action: { kind: 'pause', forMs: null } },
    ],
  };
}

export function buildTrayMenu(state: AgentState, now: Date): MenuTemplateItem[] {
  const items: MenuTemplateItem[] = [];
  if (state.needsPairing) {
    items.push(
      { id: 'status', label: 'Not paired with a backup host yet', enabled: false },
      separator('sep-status'),
      { id: 'pair', label: 'Pair with a backup host…', action: { kind: 'open-pairing' } },
    );
  } else {
    for (const h of state.hosts) {
      items.push({ id: `status:${h.host}`, label: hostStatusLine(h, now), enabled: false });
    }
    if (state.pausedUntil) {
      items.push({ id: 'status:paused', label: pausedText(state.pausedUntil), enabled: false });
    }
    items.push(separator('sep-status'));
    if (state.hosts.some((h) => h.reachable === 'host-key-changed')) {
      items.push({ id: 'pair', label: 'Pair again…', action: { kind: 'open-pairing' } });
    }
    items.push(backupNowItem(state));
    if (state.hosts.some((h) => h.phase === 'running')) {
      items.push({ id: 'cancel', label: 'Cancel backup', action: { kind: 'cancel' } });
    }
    items.push(pauseItem(state));
  }
  items.push(separator('sep-windows'), {
    id: 'open',
    label: 'Open Pullback…',
    action: { kind: 'open-status' },
  });
  // Nothing to restore from before a backup host is paired.
  if (!state.needsPairing) {
    items.push({ id: 'restore', label: 'Restore…', action: { kind: 'open-restore' } });
  }
  items.push(
    { id: 'preferences', label: 'Preferences…', action: { kind: 'open-preferences' } },
    separator('sep-quit'),
    { id: 'quit', label: 'Quit', action: { kind: 'quit' } },
  );
  return items;
}

/** Depth-first lookup by id (test hooks, click dispatch). */
export function findMenuItem(items: MenuTemplateItem[], id: string): MenuTemplateItem | undefined {
  for (const item of items) {
    if (item.id === id) return item;
    const inner = item.submenu && findMenuItem(item.submenu, id);
    if (inner) return inner;
  }
  return undefined;
}
