import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { PullbackError } from '../errors.js';
import { probeTool, runTool } from './exec.js';
import { GETCAP, READ_CAPABILITY, RSYNC_COPY, SETCAP, SYSTEM_RSYNC_SOURCE } from './paths.js';

/** The file capability the rsync copy must carry: permitted only through the inheritable set. */
export const RSYNC_COPY_CAPS = `${READ_CAPABILITY}=ei`;

/**
 * Installs the private rsync copy: root:<reader group> 0750 (only the reader account may run it),
 * then `setcap cap_dac_read_search=ei` (chown would clear capabilities, so it comes last).
 */
export function installRsyncCopy(readerGid: number): void {
  if (!existsSync(SETCAP))
    throw new PullbackError('MISSING_TOOL', `${SETCAP} is missing: apt install libcap2-bin`);
  const staging = `${RSYNC_COPY}.new`;
  rmSync(staging, { force: true });
  copyFileSync(realpathSync(SYSTEM_RSYNC_SOURCE), staging);
  chownSync(staging, 0, readerGid);
  chmodSync(staging, 0o750);
  runTool(SETCAP, [RSYNC_COPY_CAPS, staging], 'HELPER_FAILED');
  renameSync(staging, RSYNC_COPY);
}

/** The capabilities getcap reports for the copy ('' for none). */
export function rsyncCopyCapabilities(): string {
  const out = probeTool(GETCAP, [RSYNC_COPY]);
  return out.stdout.trim().slice(RSYNC_COPY.length).trim();
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Why the rsync copy is not right, or undefined. Catches a lost capability, wrong owner/mode, staleness. */
export function rsyncCopyProblem(readerGid: number | undefined): string | undefined {
  if (!existsSync(RSYNC_COPY)) return `${RSYNC_COPY} is missing`;
  const caps = rsyncCopyCapabilities();
  if (caps !== RSYNC_COPY_CAPS)
    return `${RSYNC_COPY} carries capabilities "${caps || 'none'}", expected "${RSYNC_COPY_CAPS}" (lost when the file was replaced)`;
  const st = statSync(RSYNC_COPY);
  if (
    st.uid !== 0 ||
    (readerGid !== undefined && st.gid !== readerGid) ||
    (st.mode & 0o7777) !== 0o750
  ) {
    return `${RSYNC_COPY} has owner ${st.uid}:${st.gid} mode ${(st.mode & 0o7777).toString(8)}, expected root:pullback-reader 0750`;
  }
  if (
    existsSync(SYSTEM_RSYNC_SOURCE) &&
    sha256(RSYNC_COPY) !== sha256(realpathSync(SYSTEM_RSYNC_SOURCE))
  ) {
    return `${RSYNC_COPY} differs from ${SYSTEM_RSYNC_SOURCE} (rsync was upgraded since the install; the copy misses its fixes)`;
  }
  return undefined;
}
