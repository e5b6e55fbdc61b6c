/**
 * The entries an rsync run could not copy, read from its error lines. With exit 23 the run is
 * still promoted, and the repository puts each of these back as it was in the previous snapshot
 * (or leaves it out) rather than promote whatever .incomplete holds under that name.
 *
 * The lines that name an entry rsync did not send whole (rsync 3.5.0), e.g.
 *   rsync: [sender] send_files failed to open "/home/u/x": Permission denied (13)
 *   rsync: [sender] opendir "/home/u/d" failed: Permission denied (13)
 *   rsync: [sender] read errors mapping "/home/u/x": Input/output error (5)
 *   rsync: [sender] failed to read xattr user.a for "/home/u/x": Permission denied (13)
 *   ERROR: home/u/x failed verification -- update discarded.
 * Every `[sender]` error that quotes a name counts: putting back the previous version of an
 * entry is always safe, keeping a half-sent one is not. The names come from the client (the
 * sender) and are only ever used below .incomplete (see restoreNotCopied).
 */
const SENDER_ERROR = /^rsync: \[sender\] .*?"(.+)"(?: failed)?: .+ \(\d+\)$/;
const DISCARDED = /^ERROR: (.+) failed verification -- update discarded\.$/;

/** rsync writes bytes it will not print as `\#ooo` (octal). */
function unescapeRsyncName(name: string): string {
  return name.replace(/\\#([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/** The entry an rsync error line says was not copied, or undefined. */
export function notCopiedEntry(line: string): string | undefined {
  const m = SENDER_ERROR.exec(line.trim()) ?? DISCARDED.exec(line.trim());
  return m ? unescapeRsyncName(m[1]!) : undefined;
}
