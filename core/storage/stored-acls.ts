import { spawnSync } from 'node:child_process';
import { PullbackError } from '../errors.js';
import { safeText } from '../safe-text.js';

/*
 * rsync 3.5 with --fake-super and --inplace (the btrfs backend, which rewrites files inside a
 * snapshot of the previous one) gets a stored ACL wrong in two cases, measured with stock
 * rsync: a file whose content is rewritten in place loses its unchanged ACL (the xattr step
 * removes user.rsync.%aacl as a name the sender did not list, and the ACL step, comparing with
 * what it read before, sees nothing to write), and an ACL removed on the client stays. With
 * the stored ACLs of the entries about to be sent forgotten first, rsync compares against "no
 * ACL" and writes each one afresh: an attribute write in the new snapshot only, no data.
 */

/** Where --fake-super keeps a file's access ACL and a directory's default ACL. */
export const STORED_ACL_ATTRS = ['user.rsync.%aacl', 'user.rsync.%dacl'] as const;

const GETFATTR = '/usr/bin/getfattr';
const SETFATTR = '/usr/bin/setfattr';
const MAX_OUTPUT = 1024 * 1024 * 1024;

/** getfattr prints a name's backslash and unprintable bytes as \ooo: back to the raw bytes. */
export function decodeGetfattrName(escaped: Buffer): Buffer {
  const text = escaped.toString('latin1');
  return Buffer.from(
    text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    'latin1',
  );
}

/** Every entry below `root` (itself included) holding a stored ACL, symlinks never followed. */
export function storedAclHolders(root: string): Buffer[] {
  const r = spawnSync(
    GETFATTR,
    ['-R', '-P', '-h', '--absolute-names', '-m', '^user\\.rsync\\.%[ad]acl$', '--', root],
    { maxBuffer: MAX_OUTPUT },
  );
  if (r.error || r.stdout === null)
    throw new PullbackError('INTERNAL', `cannot read stored ACLs below ${root}: ${r.error}`);
  const holders: Buffer[] = [];
  let start = 0;
  const out = r.stdout;
  while (start < out.length) {
    let end = out.indexOf(0x0a, start);
    if (end < 0) end = out.length;
    const line = out.subarray(start, end);
    if (line.subarray(0, 8).toString('latin1') === '# file: ')
      holders.push(decodeGetfattrName(line.subarray(8)));
    start = end + 1;
  }
  return holders;
}

/**
 * Removes both stored ACL names from `paths` (absolute, symlinks not followed: user xattrs are
 * never on one). A path without them is no error; setfattr gets raw bytes through xargs -0.
 */
export function forgetStoredAcls(paths: readonly (string | Buffer)[]): void {
  if (paths.length === 0) return;
  const input = Buffer.concat(
    paths.flatMap((p) => [typeof p === 'string' ? Buffer.from(p) : p, Buffer.from([0])]),
  );
  for (const name of STORED_ACL_ATTRS) {
    const r = spawnSync('/usr/bin/xargs', ['-0', '-r', SETFATTR, '-h', '-x', name, '--'], {
      input,
      maxBuffer: MAX_OUTPUT,
    });
    if (r.error) throw new PullbackError('INTERNAL', `cannot run setfattr: ${r.error.message}`);
    // "No such attribute" is the common case; anything else would leave an ACL to rsync's bug
    const other = r.stderr
      .toString('utf8')
      .split('\n')
      .filter((l) => l && !/No such attribute|No data available/.test(l));
    if (other.length > 0)
      throw new PullbackError(
        'INTERNAL',
        `cannot forget stored ACLs: ${safeText(other[0]!.slice(0, 200))}`,
      );
  }
}
