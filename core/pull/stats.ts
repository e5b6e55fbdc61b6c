/**
 * The totals rsync's `--stats` prints at the end of a run (after the progress2 lines):
 *
 *   Number of files: 222 (reg: 220, dir: 2)
 *   Total file size: 60,000,692 bytes
 *   Total bytes received: 4,211
 *
 * On the pulling side "received" is what came over the wire (after delta and link-dest savings).
 * A field stays undefined when rsync did not print it (e.g. it was killed before the end).
 */
export interface PullStats {
  /** entries in the snapshot: files, directories, links… */
  files?: number;
  /** bytes that came over the wire */
  bytesTransferred?: number;
  /** apparent size of everything in the snapshot */
  totalBytes?: number;
}

const FIELDS: [keyof PullStats, RegExp][] = [
  ['files', /^Number of files:\s+([\d,.]+)/],
  ['totalBytes', /^Total file size:\s+([\d,.]+) bytes/],
  ['bytesTransferred', /^Total bytes received:\s+([\d,.]+)/],
];

/** Feeds one output line; returns true when it was a stats line. */
export function parseStatsLine(line: string, into: PullStats): boolean {
  const trimmed = line.trim();
  for (const [key, re] of FIELDS) {
    const m = re.exec(trimmed);
    if (m) {
      into[key] = Number(m[1]!.replace(/[,.]/g, ''));
      return true;
    }
  }
  return false;
}
