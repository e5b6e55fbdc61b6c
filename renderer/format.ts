import type { HostStatus } from '../preload/api.js';

/** Human formats for the pages (the renderer imports nothing from core, by design). */

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "26 Nov 2026, 18:01" */
export function formatDateTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateTime.format(new Date(t));
}

/** "26 Nov 2026, 18:01 (2 h ago)" or "(in 3 h)". */
export function formatWhen(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const minutes = Math.round((t - now) / 60_000);
  const abs = Math.abs(minutes);
  const span =
    abs < 1
      ? 'now'
      : abs < 60
        ? `${abs} min`
        : abs < 48 * 60
          ? `${Math.round(abs / 60)} h`
          : `${Math.round(abs / 1440)} days`;
  const relative = span === 'now' ? 'just now' : minutes < 0 ? `${span} ago` : `in ${span}`;
  return `${dateTime.format(new Date(t))} (${relative})`;
}

export type Tone = 'ok' | 'busy' | 'warn' | 'bad';

export function phaseBadge(h: HostStatus): { text: string; tone: Tone } {
  switch (h.phase) {
    case 'running':
      return { text: 'Backing up', tone: 'busy' };
    case 'succeeded':
      return { text: 'Up to date', tone: 'ok' };
    case 'idle':
      return { text: 'Not backed up yet', tone: 'warn' };
    case 'waiting':
      return { text: 'Waiting', tone: 'warn' };
    case 'overdue':
      return { text: 'Overdue', tone: 'warn' };
    case 'failed':
      return {
        text: h.reachable === 'host-key-changed' ? 'Host key changed' : 'Failed',
        tone: 'bad',
      };
  }
}

/** The rejection text from the preload ("CODE: message") without the code for people. */
export function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^[A-Z_]+: /, '');
}
