import { closeSync } from 'node:fs';
import { PullbackError } from '../errors.js';
import { checkRestorePath } from '../restore/remote-path.js';
import { locate, locatedEntry, openSnapshot } from '../restore/stored-tree.js';
import { PROTOCOL_VERSION, type FileVersionMessage, type VersionsRequest } from './messages.js';
import type { ServeContext } from './serve-context.js';

/**
 * `versions`: the distinct versions of one path across this client's snapshots, oldest first.
 * Two snapshots hold the same version when type, size, mtime, mode and owner are equal, and
 * (hardlink backend) when they share the inode: a rewrite that kept size and mtime is a
 * new inode there.
 */
export async function serveVersions(request: VersionsRequest, ctx: ServeContext): Promise<void> {
  const path = checkRestorePath(request.path, 'BAD_REQUEST');
  const versions: (FileVersionMessage & { key: string })[] = [];
  for (const snapshot of await ctx.repo.listSnapshots()) {
    ctx.signal.throwIfAborted();
    let root: number;
    try {
      root = openSnapshot(snapshot.path);
    } catch {
      continue; // pruned meanwhile
    }
    try {
      let at;
      try {
        at = locate(root, path);
      } catch (err) {
        if (err instanceof PullbackError && err.code === 'NOT_FOUND') continue;
        throw err;
      }
      try {
        const e = await locatedEntry(at);
        const sameInode = ctx.repo.backend === 'hardlink' ? `${at.stat.dev}:${at.stat.ino}` : '';
        const key = [e.type, e.size, e.mtime, e.mode, e.uid, e.gid, e.target ?? '', sameInode].join(
          ' ',
        );
        const last = versions[versions.length - 1];
        if (last && last.key === key) last.snapshots.push(snapshot.id);
        else
          versions.push({
            key,
            type: e.type,
            size: e.size,
            mtime: e.mtime,
            snapshots: [snapshot.id],
          });
      } finally {
        at.close();
      }
    } finally {
      closeSync(root);
    }
  }
  if (versions.length === 0)
    throw new PullbackError('NOT_FOUND', `${JSON.stringify(path)} is in none of the snapshots`);
  ctx.send({
    v: PROTOCOL_VERSION,
    type: 'versions',
    versions: versions.map(({ key: _key, ...v }) => v),
  });
}
