import { formatDuration } from '../core/format.js';
import type { AgentState, HostStatus } from '../core/agent/types.js';

/** Short human sentences about a host's state, shared by the tray menu, tooltip and notifications. */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago". */
export function relativeTime(iso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(iso);
  if (Number.isNaN(ms)) return 'at an unknown time';
  if (ms < MINUTE) return 'just now';
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min ago`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h ago`;
  if (ms < 2 * DAY) return 'yesterday';
  return `${Math.floor(ms / DAY)} days ago`;
}

/** "about 3 min left", or nothing while rsync has no estimate yet. */
export function etaText(etaSeconds: number | null): string | undefined {
  if (etaSeconds === null || !Number.isFinite(etaSeconds)) return undefined;
  return `about ${formatDuration(etaSeconds)} left`;
}

/** Year 9999: how "pause until resumed" is stored (the schema wants a date). */
export const PAUSED_INDEFINITELY = '9999-12-31T23:59:59.000Z';

export function pausedText(pausedUntil: string): string {
  if (pausedUntil >= PAUSED_INDEFINITELY.slice(0, 4)) return 'Automatic backups paused';
  const until = new Date(pausedUntil);
  const hh = String(until.getHours()).padStart(2, '0');
  const mm = String(until.getMinutes()).padStart(2, '0');
  return `Automatic backups paused until ${hh}:${mm}`;
}

function lastBackup(h: HostStatus, now: Date): string {
  return h.lastSuccess ? `last backup ${relativeTime(h.lastSuccess, now)}` : 'never backed up';
}

export function progressText(h: HostStatus): string {
  const p = h.progress;
  if (!p) return '';
  if (p.stage !== 'transferring') return 'starting…';
  const eta = etaText(p.etaSeconds);
  return `${Math.floor(p.percent)} %${eta ? `, ${eta}` : ''}`;
}

/** One line per host: what it is doing and when it last succeeded. */
export function hostStatusLine(h: HostStatus, now: Date): string {
  switch (h.phase) {
    case 'running':
      return `${h.host}: backing up… ${progressText(h)}`;
    case 'failed':
      if (h.reachable === 'host-key-changed') {
        return `${h.host}: host key changed, not backing up (${lastBackup(h, now)})`;
      }
      return `${h.host}: backup failed (${lastBackup(h, now)})`;
    case 'overdue':
      return `${h.host}: overdue, ${lastBackup(h, now)}`;
    case 'waiting': {
      const reason = (h.waitingFor ?? 'waiting').split('; ')[0];
      return `${h.host}: waiting, ${reason} (${lastBackup(h, now)})`;
    }
    case 'succeeded':
    case 'idle':
      // Like the status window: a host that does not answer is not shown as simply fine.
      if (h.reachable === 'unreachable') return `${h.host}: not reachable, ${lastBackup(h, now)}`;
      return `${h.host}: ${lastBackup(h, now)}`;
  }
}

export type TrayIconState = 'ok' | 'running' | 'overdue' | 'error';

/** The one icon for all hosts: running beats error beats overdue beats ok. */
export function trayIconState(state: AgentState): TrayIconState {
  const phases = state.hosts.map((h) => h.phase);
  if (phases.includes('running')) return 'running';
  if (phases.includes('failed')) return 'error';
  if (state.needsPairing || phases.includes('overdue') || state.hosts.some((h) => h.overdue)) {
    return 'overdue';
  }
  return 'ok';
}

/** Tooltip: percent and ETA while running, otherwise the status lines. */
export function trayTooltip(state: AgentState, now: Date): string {
  if (state.needsPairing) return 'Pullback: not paired with a backup host yet';
  const lines = state.hosts.map((h) => hostStatusLine(h, now));
  if (state.pausedUntil) lines.push(pausedText(state.pausedUntil));
  return ['Pullback', ...lines].join('\n');
}
