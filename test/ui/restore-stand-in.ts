import { cpSync, existsSync, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { PullbackError } from '../../core/errors.js';
import type { EntryType, FileVersion, RemoteEntry } from '../../core/restore/types.js';
import type { PullbackBackend } from '../../preload/api.js';

/**
 * TEMPORARY, until core/restore is written (the restore branch): the Restore window's calls
 * answered from the backup host's storage directory itself, so the page can be built and
 * tested against the API's types. Only with PULLBACK_RESTORE_STAND_IN=1; to be deleted.
 */
function typeOf(st: Stats): EntryType {
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'file';
}

export function restoreStandIns(snapshotsDir: string): Partial<PullbackBackend> {
  const ids = () =>
    readdirSync(snapshotsDir)
      .filter((n) => !n.endsWith('.json'))
      .sort();
  const entry = (id: string, path: string): RemoteEntry => {
    const file = join(snapshotsDir, id, path);
    const st = lstatSync(file);
    return {
      name: basename(path),
      path,
      type: typeOf(st),
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: st.size,
      mtime: st.mtime.toISOString(),
      ...(st.isSymbolicLink() && { target: readlinkSync(file) }),
    };
  };
  return {
    async listEntries(_host, snapshot, path) {
      const dir = join(snapshotsDir, snapshot, path);
      if (!existsSync(dir)) throw new PullbackError('NOT_FOUND', `${path} is not in ${snapshot}`);
      return { snapshot, entries: readdirSync(dir).map((n) => entry(snapshot, join(path, n))) };
    },
    async fileVersions(_host, path) {
      const out: FileVersion[] = [];
      for (const id of ids()) {
        if (!existsSync(join(snapshotsDir, id, path))) continue;
        const e = entry(id, path);
        const last = out.at(-1);
        if (last && last.size === e.size && last.mtime === e.mtime) last.snapshots.push(id);
        else out.push({ type: e.type, size: e.size, mtime: e.mtime, snapshots: [id] });
      }
      return out;
    },
    async restore(r) {
      const items = r.paths.map((p) => {
        const to = join(r.to ?? '/nonexistent', basename(p));
        cpSync(join(snapshotsDir, r.snapshot, p), to, { recursive: true });
        return { path: p, restoredTo: to };
      });
      return { snapshot: r.snapshot, items, movedAside: [], skipped: 0, warnings: [] };
    },
  };
}
