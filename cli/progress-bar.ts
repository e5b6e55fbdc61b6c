import { formatBytes, formatDuration } from '../core/format.js';
import type { ProgressMessage } from '../core/handoff/messages.js';

/** One redrawn line on a terminal: bar, percent, bytes, rate, ETA, files. */
export function renderProgressLine(p: ProgressMessage, width = 24): string {
  const filled = Math.round((p.percent / 100) * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const eta = p.etaSeconds === null ? '' : `  ETA ${formatDuration(p.etaSeconds)}`;
  return `[${bar}] ${p.percent.toFixed(0).padStart(3)}%  ${formatBytes(p.bytes)}  ${formatBytes(p.bytesPerSecond)}/s${eta}  ${p.files} files`;
}
