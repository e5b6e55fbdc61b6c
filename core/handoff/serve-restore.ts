import { closeSync } from 'node:fs';
import { PullbackError, asPullbackError } from '../errors.js';
import type { ServerConfig } from '../config/server-schema.js';
import { pinnedPath } from '../gate/pin.js';
import { assertRsyncConfines } from '../gate/rsync-confine.js';
import { execArgv, runInherited } from '../gate/run.js';
import { parseSenderCommand } from '../gate/validate.js';
import { decodeRestoreSource } from '../restore/remote-path.js';
import { locate, openSnapshot } from '../restore/stored-tree.js';
import { openRepository } from '../storage/repository.js';
import type { ServeOptions } from './serve.js';
import { findSnapshot } from './serve-snapshot.js';

/** Value-less options a restoring client's rsync sends besides the gate's: harmless on a sender. */
const RESTORE_FLAGS = ['--specials', '--no-devices', '--no-specials'];
const RSYNC = '/usr/bin/rsync';

/**
 * A restore: the client's own rsync (the receiver, logged in with its long-term key) asks the
 * forced `pullback serve --client NAME` for `rsync --server --sender … . /<id>/<path>`. Served
 * as a read-only sender of that one entry of one of NAME's complete snapshots:
 *  - the command passes the gate's own sender checks (validate.ts: sender only, allow-listed
 *    options, no delete/write/filter-file options), and the one source is the plain
 *    `/<snapshot id>/<base64url path>` (remote-path.ts), so no name needs escaping;
 *  - the path is walked O_NOFOLLOW inside snapshots/<id> (stored-tree.ts) and rsync gets the
 *    pinned entry (or its directory) as fd 3, with --confine-root at the snapshot, so filter
 *    rules sent over the protocol cannot open anything outside it either;
 *  - --fake-super on this side turns the stored user.rsync.* xattrs back into owners, modes,
 *    devices and ACLs, as the source had them.
 * The client can never write, delete or rename anything here (S7): a sender only reads.
 * A refusal is one `CODE: reason` line on stderr (the client's own snapshots: no secret in it).
 */
export async function serveRestore(
  command: string,
  config: ServerConfig,
  options: ServeOptions,
): Promise<number> {
  const held: (() => void)[] = [];
  try {
    assertRsyncConfines(RSYNC);
    const { options: rsyncOptions, paths } = parseSenderCommand(command, RESTORE_FLAGS);
    if (paths.length !== 1)
      throw new PullbackError('REFUSED', 'a restore names exactly one source path');
    const { snapshot, path } = decodeRestoreSource(paths[0]!);
    const repo = openRepository(config.storage, options.client, { backend: config.backend });
    const info = await findSnapshot(repo, snapshot);
    const root = openSnapshot(info.path);
    held.push(() => closeSync(root));
    const at = locate(root, path);
    held.push(() => at.close());
    const isDir = at.stat.isDirectory();
    // A directory is served as its contents ("<fd>/"), anything else by name in its directory:
    // the client's rsync then writes either under the name it chose.
    const fd = isDir ? at.fd : at.parentFd;
    if (fd === undefined) throw new PullbackError('INTERNAL', 'a non-directory without a parent');
    const argv = execArgv(
      [
        '--server',
        '--sender',
        ...rsyncOptions,
        '--fake-super',
        `--confine-root=${pinnedPath(root)}`,
        '.',
        isDir ? '/proc/self/fd/3/' : `/proc/self/fd/3/${at.name!}`,
      ],
      RSYNC,
    );
    return await runInherited(argv, fd);
  } catch (err) {
    const line = asPullbackError(err).toLine();
    (options.log ?? ((l: string) => process.stderr.write(l + '\n')))(line);
    return 1;
  } finally {
    for (const close of held.reverse()) close();
  }
}
