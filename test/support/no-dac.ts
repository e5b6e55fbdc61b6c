import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Tests run as root, and root reads a 0000 file and deletes from a 0555 directory. The real
 * sender (a user's rsync, or the reader account's) and receiver (the pullback account) cannot.
 * These run a process as root without the capabilities that bypass file permissions, so that
 * permission faults happen as they would for the real accounts (and the files stay root's).
 */
const DROP = '--bounding-set=-dac_override,-dac_read_search,-fowner';

/** An authorized_keys line whose command runs the requested rsync sender without them. */
export function noDacAuthorizedKeysLine(publicKey: string): string {
  return `command="exec setpriv ${DROP} -- sh -c \\"$SSH_ORIGINAL_COMMAND\\"" ${publicKey}`;
}

/** A wrapper script (in `dir`) to pass as rsyncPath: the receiving rsync without them. */
export function noDacRsync(dir: string): string {
  const path = join(dir, 'rsync-no-dac');
  writeFileSync(path, `#!/bin/sh\nexec setpriv ${DROP} -- /usr/bin/rsync "$@"\n`, { mode: 0o755 });
  return path;
}
