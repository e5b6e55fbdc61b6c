import { closeSync } from 'node:fs';
import { checkRestorePath } from '../restore/remote-path.js';
import {
  forEachChild,
  locate,
  locatedEntry,
  openSnapshot,
  storedEntry,
} from '../restore/stored-tree.js';
import { PROTOCOL_VERSION, type LsRequest, type StoredEntry } from './messages.js';
import type { ServeContext } from './serve-context.js';
import { findSnapshot, inBatches } from './serve-snapshot.js';

/**
 * `ls`: one directory of one of this client's snapshots (or the one entry a file is), with the
 * mode, owner, size and mtime the source had. Read-only; never leaves snapshots/<id>.
 */
export async function serveLs(request: LsRequest, ctx: ServeContext): Promise<void> {
  const path = checkRestorePath(request.path, 'BAD_REQUEST');
  const snapshot = await findSnapshot(ctx.repo, request.snapshot);
  const root = openSnapshot(snapshot.path);
  try {
    const at = locate(root, path);
    try {
      const self = await locatedEntry(at);
      if (at.stat.isDirectory()) {
        const entries: StoredEntry[] = [];
        await forEachChild(at.fd, (children) => {
          for (const c of children) entries.push(storedEntry(at.fd, c.name, c.stat, c.stored));
        });
        inBatches(entries, (batch) =>
          ctx.send({ v: PROTOCOL_VERSION, type: 'entries', entries: batch }),
        );
      }
      ctx.send({ v: PROTOCOL_VERSION, type: 'listed', snapshot: snapshot.id, self });
    } finally {
      at.close();
    }
  } finally {
    closeSync(root);
  }
}
