import { formatBytes, formatDuration } from '../core/format.js';
import type { AgentEvent } from '../core/agent/types.js';
import { relativeTime } from './host-summary.js';

/** What a desktop notification says for an agent event, or nothing (pure; main/notify.ts shows it). */
export interface NotificationText {
  title: string;
  body: string;
  urgency: 'low' | 'normal' | 'critical';
}

export interface NotificationPrefs {
  finished: boolean;
  failed: boolean;
  overdue: boolean;
}

export function notificationFor(
  event: AgentEvent,
  prefs: NotificationPrefs,
  now: Date,
): NotificationText | undefined {
  switch (event.type) {
    case 'backup-finished': {
      if (!prefs.finished) return undefined;
      const e = event.entry;
      const files = e.files === undefined ? '' : `${e.files.toLocaleString('en')} files, `;
      const size = formatBytes(e.totalBytes ?? 0);
      const sent = formatBytes(e.bytesTransferred ?? 0);
      return {
        title: `Backup to ${event.host} finished`,
        body: `${files}${size} (${sent} copied) in ${formatDuration(e.durationMs / 1000)}.`,
        urgency: 'low',
      };
    }
    case 'backup-failed': {
      // Cancelled by the user: they know. Host key changes get their own notification.
      if (!prefs.failed || event.entry.result === 'cancelled') return undefined;
      if (event.entry.error?.code === 'HOST_KEY_MISMATCH') return undefined;
      return {
        title: `Backup to ${event.host} failed`,
        body: `${event.reason}\n${event.hint}`,
        urgency: 'normal',
      };
    }
    case 'host-key-changed':
      if (!prefs.failed) return undefined;
      return {
        title: `${event.host}: the backup host's identity changed`,
        body: 'No backups go there until this is resolved. If it was reinstalled, pair with it again; otherwise find out why first.',
        urgency: 'critical',
      };
    case 'overdue': {
      if (!prefs.overdue) return undefined;
      const last = event.lastSuccess
        ? `The last backup was ${relativeTime(event.lastSuccess, now)}.`
        : 'This machine was never backed up there.';
      return {
        title: `No backup to ${event.host} for ${event.days} days`,
        body: `${last} Connect to the backup host's network, or open Pullback to see what is in the way.`,
        urgency: 'normal',
      };
    }
    default:
      return undefined;
  }
}
