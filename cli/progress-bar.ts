import { formatBytes, formatDuration } from '../core/format.js';
import type { ProgressMessage } from '../core/handoff/messages.js';

/** Weight of the newest rate sample: about the last ten updates (10 s) make the ETA. */
const RATE_SMOOTHING = 0.1;

/**
 * The terminal progress line of one run. rsync's own numbers jump: its rate is the current
 * file's, its ETA follows that rate, and its file count appears only on the lines that end a
 * file (so a big file would show "0 files"). This keeps the highest file count seen and shows
 * an ETA from the bytes left at a smoothed rate.
 */
export class ProgressBar {
  private files = 0;
  private rate: number | undefined;
  private remaining: number | undefined;
  private lastBytes = 0;

  update(p: ProgressMessage): { files: number; etaSeconds: number | null } {
    this.files = Math.max(this.files, p.files);
    if (p.bytesPerSecond > 0)
      this.rate =
        this.rate === undefined
          ? p.bytesPerSecond
          : this.rate + RATE_SMOOTHING * (p.bytesPerSecond - this.rate);
    // rsync's ETA is (bytes left) / (its current rate): recover the bytes left from it
    if (p.etaSeconds !== null && p.bytesPerSecond > 0)
      this.remaining = p.etaSeconds * p.bytesPerSecond;
    else if (this.remaining !== undefined)
      this.remaining = Math.max(0, this.remaining - (p.bytes - this.lastBytes));
    this.lastBytes = p.bytes;
    const etaSeconds =
      this.remaining !== undefined && this.rate ? Math.round(this.remaining / this.rate) : null;
    return { files: this.files, etaSeconds };
  }

  /** One redrawn line: bar, percent, bytes, smoothed rate and ETA, files transferred so far. */
  render(p: ProgressMessage, width = 24): string {
    const { files, etaSeconds } = this.update(p);
    const filled = Math.round((p.percent / 100) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const eta = etaSeconds === null ? '' : `  ETA ${formatDuration(etaSeconds)}`;
    return `[${bar}] ${p.percent.toFixed(0).padStart(3)}%  ${formatBytes(p.bytes)}  ${formatBytes(this.rate ?? p.bytesPerSecond)}/s${eta}  ${files} files transferred`;
  }
}
