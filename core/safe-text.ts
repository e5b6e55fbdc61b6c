/**
 * Text that came from the other side (a backup host's messages, names, snapshot ids, warnings,
 * the stderr or disconnect reason of its sshd), made safe to put on a terminal or in a window:
 * every C0 and C1 control character, DEL, and the Unicode line separators and bidirectional
 * overrides are replaced by a visible escape (`\x1b`, `\u202e`). A hostile peer can then no
 * longer retitle or clear the terminal, move the cursor, forge a line or reorder what is shown.
 * Newlines are escaped too: one message stays one line.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escape(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

export function safeText(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** `safeText` applied to every string inside a parsed JSON value (a handoff response). */
export function safeStrings<T>(value: T): T {
  if (typeof value === 'string') return safeText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => safeStrings(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]: [string, unknown]) => [k, safeStrings(v)]),
    ) as T;
  }
  return value;
}
