import { PullbackError, type ErrorCode } from '../errors.js';
import { isSnapshotId } from '../storage/snapshot-id.js';

/*
 * How a client names a path in its own snapshots: the absolute path it had on the client.
 * Checked on both sides (the client for a clear message, serve because the client may lie).
 */

const MAX_PATH = 4096;

/**
 * `path` checked and normalised: absolute, no NUL, no ".." segment; "//", "." and a trailing
 * "/" are dropped. Returns "/" or "/a/b".
 */
export function checkRestorePath(path: string, code: ErrorCode = 'BAD_ARGS'): string {
  const shown = JSON.stringify(path);
  if (path.length === 0 || path.length > MAX_PATH)
    throw new PullbackError(code, `path ${shown.slice(0, 200)} is empty or too long`);
  if (path.includes('\0')) throw new PullbackError(code, `path ${shown} contains a NUL byte`);
  if (!path.startsWith('/')) throw new PullbackError(code, `path ${shown} is not absolute`);
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..'))
    throw new PullbackError(code, `path ${shown} contains "..": name the path itself`);
  return '/' + segments.join('/');
}

/** The segments of a checked path ("/" has none). */
export function pathSegments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/**
 * The source argument the client's rsync sends for one restore: `/<snapshot>/<base64url of
 * the path>`. Only [A-Za-z0-9_/-] and the id's characters: whatever bytes the path holds
 * (spaces, newlines, a leading dash), the command line serve checks stays plain, and rsync's
 * own escaping never comes into it. A trailing "/" (a directory's contents, as the receiver
 * must have asked for them) changes nothing: serve serves a directory's contents always.
 */
export function encodeRestoreSource(snapshot: string, path: string): string {
  return `/${snapshot}/${Buffer.from(checkRestorePath(path), 'utf8').toString('base64url')}`;
}

const SOURCE = /^\/([0-9A-Za-z-]+)\/([A-Za-z0-9_-]{1,6000})\/?$/;

/** The inverse of encodeRestoreSource, for serve: throws REFUSED for anything else. */
export function decodeRestoreSource(arg: string): { snapshot: string; path: string } {
  const m = SOURCE.exec(arg);
  if (!m || !isSnapshotId(m[1]!))
    throw new PullbackError(
      'REFUSED',
      `source ${JSON.stringify(arg.slice(0, 200))} is not /<snapshot id>/<path as base64url>`,
    );
  const path = Buffer.from(m[2]!, 'base64url').toString('utf8');
  return { snapshot: m[1]!, path: checkRestorePath(path, 'REFUSED') };
}
