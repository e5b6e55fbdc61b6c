import { closeSync, constants, openSync } from 'node:fs';
import { PullbackError } from '../errors.js';
import { canRead, canSearch, type Reader } from '../restore/readable.js';
import { checkRestorePath, pathSegments } from '../restore/remote-path.js';
import { forEachChild, locate, locatedEntry, openSnapshot } from '../restore/stored-tree.js';
import { readStatXattrs } from '../restore/stored-stat.js';
import { typeOfMode } from '../restore/stored-stat.js';
import { PROTOCOL_VERSION, type RestorePlanRequest } from './messages.js';
import type { ServeContext } from './serve-context.js';
import { findSnapshot, inBatches } from './serve-snapshot.js';

const O_PATH = 0o10000000;
/** More skipped tops than this: the client is told to restore as root or a narrower path. */
const MAX_DENIED = 100_000;

/**
 * `restore-plan`: for a restore by a user who is not root, which entries under the path the
 * stored owners and modes would have kept from `reader` on the client (the directories on the
 * way included). The client's own rsync leaves those out (core/restore/transfer.ts): a restore
 * never hands a person files they could not read. Only paths below the requested one are sent
 * (as base64 relative paths "/a/b"), and a denied directory once, not its contents.
 */
export async function serveRestorePlan(
  request: RestorePlanRequest,
  ctx: ServeContext,
): Promise<void> {
  const path = checkRestorePath(request.path, 'BAD_REQUEST');
  const snapshot = await findSnapshot(ctx.repo, request.snapshot);
  const root = openSnapshot(snapshot.path);
  try {
    const at = locate(root, path);
    try {
      const self = await locatedEntry(at);
      const trees = snapshot.meta.sources;
      const reachable = await ancestorsSearchable(root, path, request.reader, trees);
      const denied: string[] = [];
      let skipped = 0;
      let selfDenied = false;
      if (!reachable || (inTrees(path, trees) && !canRead(request.reader, self))) {
        selfDenied = true;
        skipped = at.stat.isDirectory() ? 1 + (await countBelow(at.fd, ctx.signal)) : 1;
      } else if (at.stat.isDirectory() && request.reader.uid !== 0) {
        const walk = async (dirFd: number, rel: Buffer): Promise<void> => {
          await forEachChild(dirFd, async (children) => {
            for (const c of children) {
              ctx.signal.throwIfAborted();
              const entry = {
                type: c.stored?.type ?? typeOfMode(c.stat.mode),
                mode: c.stored?.mode ?? c.stat.mode & 0o7777,
                uid: c.stored?.uid ?? c.stat.uid,
                gid: c.stored?.gid ?? c.stat.gid,
              };
              const childRel = Buffer.concat([rel, Buffer.from('/'), c.name]);
              const isDir = c.stat.isDirectory();
              const abs = (path === '/' ? '' : path) + childRel.toString('utf8');
              if (inTrees(abs, trees) && !canRead(request.reader, entry)) {
                if (denied.length >= MAX_DENIED)
                  throw new PullbackError(
                    'REFUSED',
                    `more than ${MAX_DENIED} entries you could not read: restore narrower paths, or as root`,
                  );
                denied.push(childRel.toString('base64'));
                skipped += isDir ? 1 + (await countBelow(c.fd, ctx.signal)) : 1;
              } else if (isDir) {
                await walk(c.fd, childRel);
              }
            }
          });
        };
        await walk(at.fd, Buffer.alloc(0));
      }
      inBatches(denied, (paths) => ctx.send({ v: PROTOCOL_VERSION, type: 'denied', paths }));
      ctx.send({
        v: PROTOCOL_VERSION,
        type: 'plan',
        snapshot: snapshot.id,
        self,
        selfDenied,
        skipped,
      });
    } finally {
      at.close();
    }
  } finally {
    closeSync(root);
  }
}

/**
 * Whether `path` is a source tree or inside one: the directories above the trees (/, /home)
 * are the backup host's own, made for the snapshot's layout, and say nothing of the source.
 */
function inTrees(path: string, trees: readonly string[]): boolean {
  return trees.some(
    (t) =>
      t === '/' || path === t.replace(/\/$/, '') || path.startsWith(t.replace(/\/$/, '') + '/'),
  );
}

/** Whether every directory of the source trees above `path` let the reader through. */
async function ancestorsSearchable(
  root: number,
  path: string,
  reader: Reader,
  trees: readonly string[],
): Promise<boolean> {
  const segments = pathSegments(path);
  for (let i = 0; i < segments.length; i++) {
    const above = '/' + segments.slice(0, i).join('/');
    if (!inTrees(above, trees)) continue;
    const dir = locate(root, above);
    try {
      const [stored] = await readStatXattrs([dir.fd]);
      const mode = stored ?? { mode: dir.stat.mode & 0o7777, uid: dir.stat.uid, gid: dir.stat.gid };
      if (!canSearch(reader, mode)) return false;
    } finally {
      dir.close();
    }
  }
  return true;
}

/** How many entries a directory holds, all the way down (never following a symlink). */
async function countBelow(dirFd: number, signal: AbortSignal): Promise<number> {
  let n = 0;
  const { readdirSync, fstatSync } = await import('node:fs');
  const names = readdirSync(`/proc/self/fd/${dirFd}`, { encoding: 'buffer' }) as Buffer[];
  for (const name of names) {
    signal.throwIfAborted();
    n++;
    let fd: number;
    try {
      fd = openSync(
        Buffer.concat([Buffer.from(`/proc/self/fd/${dirFd}/`), name]),
        O_PATH | constants.O_NOFOLLOW,
      );
    } catch {
      continue;
    }
    try {
      if (fstatSync(fd).isDirectory()) n += await countBelow(fd, signal);
    } finally {
      closeSync(fd);
    }
  }
  return n;
}
