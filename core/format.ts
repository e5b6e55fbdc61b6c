/**
 * Human formats shared by the CLI, the tray, notifications and the renderer pages. Pure (no
 * Node, no DOM): scripts/build-ui.mjs copies this very module into the renderer build.
 */

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
  const rest = s % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${rest} s`;
  return seconds < 10 ? `${Math.max(0, seconds).toFixed(1)} s` : `${rest} s`;
}

/** "just now", "5 min ago", "in 3 h", "11 days ago" (rounded to the nearest unit). */
export function relativeWhen(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'at an unknown time';
  const minutes = Math.round((t - now) / 60_000);
  const abs = Math.abs(minutes);
  if (abs < 1) return 'just now';
  const span =
    abs < 60
      ? `${abs} min`
      : abs < 48 * 60
        ? `${Math.round(abs / 60)} h`
        : `${Math.round(abs / 1440)} days`;
  return minutes < 0 ? `${span} ago` : `in ${span}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "26 Nov 2026, 18:01" in the user's locale and time zone. */
export function formatDateTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateTime.format(new Date(t));
}

/** "26 Nov 2026, 18:01 (2 h ago)" or "(in 3 h)"; "never" without a time. */
export function formatWhen(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${formatDateTime(iso)} (${relativeWhen(iso, now)})`;
}

/** "cannot connect to x" → "Cannot connect to x.": an error and its hint read as two sentences. */
export function asSentence(text: string): string {
  const t = text.trim().replace(/\s*\n\s*/g, ' ');
  if (!t) return t;
  const capital = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

const TYPE_LETTER: Record<string, string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  fifo: 'p',
  socket: 's',
  char: 'c',
  block: 'b',
};

/** `drwxr-sr-x`, as `ls -l` shows a type (core/restore's EntryType) and permission bits. */
export function formatMode(type: string, mode: number): string {
  const bit = (mask: number, letter: string) => (mode & mask ? letter : '-');
  // setuid, setgid and sticky share the x column: lower case with x, upper case without.
  const special = (mask: number, exec: number, letter: string) =>
    mode & mask ? (mode & exec ? letter : letter.toUpperCase()) : bit(exec, 'x');
  return [
    TYPE_LETTER[type] ?? '?',
    bit(0o400, 'r'),
    bit(0o200, 'w'),
    special(0o4000, 0o100, 's'),
    bit(0o040, 'r'),
    bit(0o020, 'w'),
    special(0o2000, 0o010, 's'),
    bit(0o004, 'r'),
    bit(0o002, 'w'),
    special(0o1000, 0o001, 't'),
  ].join('');
}

/** "42 % · 3.1 MiB copied · 1.2 MiB/s · about 5 s left": a running transfer in one line. */
export function transferText(p: {
  percent: number;
  bytes: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
}): string {
  const parts = [`${Math.floor(p.percent)} %`, `${formatBytes(p.bytes)} copied`];
  if (p.bytesPerSecond > 0) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  if (p.etaSeconds !== null) parts.push(`about ${formatDuration(p.etaSeconds)} left`);
  return parts.join(' · ');
}
