import { formatBytes, formatDuration } from '../format.js';
import type { AgentEvent, AgentState } from './types.js';

/**
 * One human line per agent event, for the headless agent's log (journald adds nothing the
 * line does not already say). State events are summarised by `stateChangeLines`.
 */
export function eventLine(event: AgentEvent): string | undefined {
  switch (event.type) {
    case 'state':
      return undefined;
    case 'backup-started':
      return `host=${event.host} backup started (${event.trigger})`;
    case 'backup-finished': {
      const e = event.entry;
      const parts = [
        `snapshot ${e.snapshot ?? '?'}`,
        `${e.files ?? '?'} files`,
        `${formatBytes(e.totalBytes ?? 0)} in all`,
        `${formatBytes(e.bytesTransferred ?? 0)} transferred`,
        formatDuration(e.durationMs / 1000),
      ];
      const warnings = e.warnings?.length ? `, ${e.warnings.length} warning(s)` : '';
      return `host=${event.host} backup finished (${e.trigger}): ${parts.join(', ')}${warnings}`;
    }
    case 'backup-failed': {
      const e = event.entry;
      if (e.result === 'cancelled') {
        return `host=${event.host} backup cancelled (${e.trigger}): ${e.error?.message ?? 'cancelled'}`;
      }
      const detail = e.error?.detail ? ` [${e.error.detail}]` : '';
      const error = e.error ? `${e.error.code}: ${e.error.message}${detail}` : 'unknown error';
      return `host=${event.host} backup failed (${e.trigger}): ${error} (${event.hint})`;
    }
    case 'overdue':
      return `host=${event.host} overdue: no successful backup for ${event.days} day(s) (${event.lastSuccess ? `last success ${event.lastSuccess}` : 'never backed up'})`;
    case 'host-key-changed':
      return `host=${event.host} host key changed: no backups to it until this is resolved; if it was reinstalled, pair again`;
    case 'log':
      return event.message;
  }
}

/** Lines for what a state change tells that the events do not: why a due backup waits. */
export function stateChangeLines(previous: AgentState | undefined, next: AgentState): string[] {
  const lines: string[] = [];
  for (const host of next.hosts) {
    const before = previous?.hosts.find((h) => h.host === host.host);
    if (host.waitingFor && host.waitingFor !== before?.waitingFor) {
      lines.push(`host=${host.host} waiting: ${host.waitingFor}`);
    }
  }
  if (next.pausedUntil !== previous?.pausedUntil && previous !== undefined) {
    lines.push(next.pausedUntil ? `paused until ${next.pausedUntil}` : 'not paused');
  }
  if (next.needsPairing && !previous?.needsPairing) {
    lines.push('no backup host paired yet: waiting (pullback pair USER@HOST)');
  }
  return lines;
}

/** `2026-11-26T18:01:02Z`: the log's timestamp, to the second. */
export function logTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
