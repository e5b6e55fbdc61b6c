import type { HostStatus } from '../preload/api.js';

/**
 * Formats for the pages. Bytes, durations, times and modes are core/format.ts itself, and text
 * from the backup host goes through core/safe-text.ts: the pure modules the renderer may import
 * (scripts/build-ui.mjs copies them into the renderer build).
 */
export {
  asSentence,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatMode,
  formatWhen,
  relativeWhen,
  transferText,
} from '../core/format.js';
export { safeText } from '../core/safe-text.js';

export type Tone = 'ok' | 'busy' | 'warn' | 'bad';

/** The badge never contradicts the rest of the card: a host that does not answer is not "Up to date". */
export function phaseBadge(h: HostStatus): { text: string; tone: Tone } {
  switch (h.phase) {
    case 'running':
      return { text: 'Backing up', tone: 'busy' };
    case 'failed':
      return {
        text: h.reachable === 'host-key-changed' ? 'Host key changed' : 'Failed',
        tone: 'bad',
      };
    case 'overdue':
      return { text: 'Overdue', tone: 'warn' };
  }
  if (h.reachable === 'unreachable') return { text: 'Not reachable', tone: 'warn' };
  switch (h.phase) {
    case 'succeeded':
      return { text: 'Up to date', tone: 'ok' };
    case 'idle':
      return { text: 'Not backed up yet', tone: 'warn' };
    case 'waiting':
      return { text: 'Waiting', tone: 'warn' };
  }
}

/** The rejection text from the preload ("CODE: message") without the code for people. */
export function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^[A-Z_]+: /, '');
}
