import { lstat, mkdir, readdir, readFile, readlink, rename, rm, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PullbackError } from '../errors.js';
import { zodToPullbackError } from '../config/zod-error.js';
import { validateClientName } from './client-name.js';
import { compareSnapshotIds, isSnapshotId, nextSnapshotId, snapshotIdTime } from './snapshot-id.js';
import {
  snapshotMetaSchema,
  type SnapshotInfo,
  type SnapshotMeta,
  type SnapshotMetaInput,
} from './metadata.js';
import { acquireLock, isDeadLockAside, isLockAside, processStartTime, type Lock } from './lock.js';
import { fsyncPath, replaceSymlinkAtomic, writeFileAtomic } from './durable-fs.js';
import { pauseForTest } from './test-pause.js';
import { selectBackend, type BackendName, type SnapshotBackend } from './backend.js';
import { restoreNotCopied } from './not-copied.js';
import { requireStorageRoot } from './storage-root.js';

/**
 * One client's snapshots on the backup host (DESIGN §5):
 *
 *   <root>/<client>/snapshots/<id>/        a complete snapshot
 *   <root>/<client>/snapshots/<id>.json    its metadata; a snapshot is complete iff both exist
 *   <root>/<client>/latest -> snapshots/<id>
 *   <root>/<client>/.incomplete/           the run in progress; the next run resumes into it
 *   <root>/<client>/.partial/              rsync's cut-off files (hardlink backend), never promoted
 *   <root>/<client>/.lock                  one run per client at a time
 *
 * Resuming: an interrupted run's .incomplete is kept, but the backend first makes it safe
 * (backend.resume): no inode shared with a complete snapshot stays in it, no rsync temp file,
 * no directory the storage account cannot write (hardlink); or it starts from a fresh snapshot
 * of the previous one (btrfs). What rsync reports it could not copy is put back as it was in
 * the previous snapshot before promotion, and listed in the metadata (notCopied).
 *
 * Crash safety of promote(), step by step (a crash may hit between any two):
 *   1. write <id>.json (temp file, fsync, rename, fsync dir)
 *        crash after: an orphan json with no dir → never listed, removed by the next run.
 *        .incomplete is untouched, so the next run resumes it.
 *   2. rename .incomplete → snapshots/<id>, fsync both dirs
 *        the one atomic step that makes the snapshot exist: before it there is no dir of that
 *        name, after it the dir is whole and its json already there → listed as complete.
 *   3. point `latest` at it (new symlink under a temp name, renamed over the old one)
 *        crash before: `latest` still names the previous snapshot; the next run repairs it.
 *        `latest` is a convenience for people browsing; the code decides by the list.
 * So a crash leaves either the old state (plus garbage the next run removes) or the complete
 * new snapshot. A directory under snapshots/ without its json is never created by us (delete
 * renames the dir aside before it removes the json), so we do not know what it is: it is
 * not listed and not touched.
 */
export interface PreparedRun {
  /** absolute path of .incomplete, ending with "/" (rsync's destination) */
  dest: string;
  linkDest?: string;
  inplace: boolean;
  /** rsync --partial-dir (absent with --inplace, which keeps partial data in place) */
  partialDir?: string;
  /** .incomplete was left by an interrupted run and is being resumed */
  resumed: boolean;
  /** an incremental: .incomplete is a clone of `basis` (the newest snapshot) */
  cloned?: { basis: SnapshotInfo; sharesInodes: boolean };
  /** hardlink incremental: the basis of each listed file whose clone was unlinked */
  copyDest?: string;
}

/** A snapshot directory that cannot be listed: reported, skipped, never deleted by us. */
export interface DamagedSnapshot {
  id: string;
  reason: string;
}

/** What is in a client's directory besides its complete snapshots. */
export interface RepositoryReport {
  /** complete snapshots, oldest first */
  snapshots: SnapshotInfo[];
  damaged: DamagedSnapshot[];
  /** names (relative to the client's directory) that a crash left and nobody removed yet */
  leftovers: string[];
}

export interface ClientRepository {
  readonly client: string;
  /** <root>/<client> */
  readonly dir: string;
  readonly backend: BackendName;
  /** One run per client: a second caller gets BUSY at once. */
  acquireLock(): Promise<Lock>;
  /**
   * Needs the lock. Removes garbage from crashed runs, creates or keeps .incomplete. With
   * `clone` (an incremental) a new .incomplete starts as a clone of the newest snapshot; an
   * interrupted run's .incomplete is resumed as always (the caller then makes a full pass).
   */
  prepareRun(options?: { clone?: boolean }): Promise<PreparedRun>;
  /** Needs the lock. Turns .incomplete into the newest snapshot. */
  promote(meta: SnapshotMetaInput, now?: Date): Promise<SnapshotInfo>;
  /** Complete snapshots, oldest first (damaged ones are skipped: see inspect()). */
  listSnapshots(): Promise<SnapshotInfo[]>;
  /** The complete snapshots, the damaged ones and the leftovers of crashes; changes nothing. */
  inspect(): Promise<RepositoryReport>;
  /** Needs the lock. Removes what crashed runs, prunes and lock takers left; returns the names. */
  removeLeftovers(): Promise<string[]>;
  latest(): Promise<SnapshotInfo | undefined>;
  /** Takes the lock if this repository does not hold it. Never deletes the newest snapshot. */
  deleteSnapshot(id: string): Promise<void>;
}

export interface RepositoryOptions {
  backend: 'auto' | BackendName;
}

const DELETING_PREFIX = '.deleting-';
const TEMP_NAME = /^\..+\.tmp-(\d+)$/;
/** At most this many not-copied names go into a snapshot's metadata (the count is exact). */
const MAX_NOT_COPIED_LISTED = 1000;

export function openRepository(
  root: string,
  client: string,
  options: RepositoryOptions,
): ClientRepository {
  validateClientName(client);
  return new Repository(resolve(root), client, selectBackend(options.backend, root));
}

class Repository implements ClientRepository {
  readonly dir: string;
  private readonly snapshotsDir: string;
  private readonly incomplete: string;
  private readonly partialDir: string;
  private readonly lockFile: string;
  private readonly latestLink: string;
  private held: Lock | undefined;

  constructor(
    private readonly root: string,
    readonly client: string,
    private readonly impl: SnapshotBackend,
  ) {
    this.dir = join(root, client);
    this.snapshotsDir = join(this.dir, 'snapshots');
    this.incomplete = join(this.dir, '.incomplete');
    this.partialDir = join(this.dir, '.partial');
    this.lockFile = join(this.dir, '.lock');
    this.latestLink = join(this.dir, 'latest');
  }

  get backend(): BackendName {
    return this.impl.name;
  }

  async acquireLock(): Promise<Lock> {
    requireStorageRoot(this.root);
    await mkdir(this.snapshotsDir, { recursive: true, mode: 0o700 });
    const lock = await acquireLock(this.lockFile, `a backup of ${this.client}`);
    this.held = lock;
    return {
      path: lock.path,
      owner: lock.owner,
      release: async () => {
        if (this.held === lock) this.held = undefined;
        await lock.release();
      },
    };
  }

  private requireLock(what: string): void {
    if (!this.held)
      throw new PullbackError(
        'INTERNAL',
        `${what} needs ${this.client}'s lock (call acquireLock first)`,
      );
  }

  async prepareRun(options: { clone?: boolean } = {}): Promise<PreparedRun> {
    this.requireLock('prepareRun');
    await this.removeLeftovers();
    const previous = await this.latest();
    const existing = await lstat(this.incomplete).catch(() => undefined);
    if (existing && !existing.isDirectory()) {
      throw new PullbackError(
        'INTERNAL',
        `${this.incomplete} exists but is not a directory; remove it`,
      );
    }
    let resumed = false;
    const clone = options.clone === true && !existing && previous !== undefined;
    if (existing) resumed = await this.impl.resume(this.incomplete, previous);
    else if (clone) await this.impl.cloneIncomplete(this.incomplete, previous);
    else await this.impl.createIncomplete(this.incomplete, previous);
    // Partial files belong to the .incomplete they were cut from (none without a resume).
    if (!resumed) await rm(this.partialDir, { recursive: true, force: true });
    const { linkDest, ...target } = this.impl.rsyncTarget(previous, this.partialDir);
    if (target.partialDir !== undefined)
      await mkdir(target.partialDir, { mode: 0o700 }).catch(ignoreExists);
    if (!clone)
      return {
        dest: this.incomplete + '/',
        ...target,
        ...(linkDest !== undefined ? { linkDest } : {}),
        resumed,
      };
    // the clone already holds every unchanged entry: no --link-dest, and the basis of a
    // listed file unlinked from a hardlink clone is its copy in the newest snapshot
    const sharesInodes = this.impl.sharesInodes;
    return {
      dest: this.incomplete + '/',
      ...target,
      resumed,
      cloned: { basis: previous, sharesInodes },
      ...(sharesInodes ? { copyDest: previous.path } : {}),
    };
  }

  async promote(input: SnapshotMetaInput, now = new Date()): Promise<SnapshotInfo> {
    this.requireLock('promote');
    if (!(await lstat(this.incomplete).catch(() => undefined))?.isDirectory()) {
      throw new PullbackError(
        'NOT_FOUND',
        `there is no run to promote: ${this.incomplete} does not exist`,
      );
    }
    const { notCopied: reported, ...rest } = input;
    const notCopied = reported?.length
      ? await restoreNotCopied(this.incomplete, (await this.latest())?.path, reported, (from, to) =>
          this.impl.copyFromSnapshot(from, to),
        )
      : [];
    const names = await readdir(this.snapshotsDir);
    const id = nextSnapshotId(
      now,
      names.map((n) => n.replace(/\.json$/, '')),
    );
    const parsed = snapshotMetaSchema.safeParse({
      ...rest,
      ...(notCopied.length
        ? {
            notCopied: notCopied.slice(0, MAX_NOT_COPIED_LISTED),
            notCopiedCount: notCopied.length,
          }
        : {}),
      ...(snapshotIdTime(id).getTime() > now.getTime() ? { madeAt: now.toISOString() } : {}),
      version: 1,
      id,
      client: this.client,
      backend: this.impl.name,
    });
    if (!parsed.success) throw zodToPullbackError('INTERNAL', 'snapshot metadata', parsed.error);
    const meta = parsed.data;
    const path = join(this.snapshotsDir, id);
    await writeFileAtomic(
      join(this.snapshotsDir, `${id}.json`),
      JSON.stringify(meta, null, 2) + '\n',
      0o644,
    );
    await pauseForTest('promote:after-json');
    await this.impl.seal(this.incomplete, path);
    await fsyncPath(this.snapshotsDir);
    await fsyncPath(this.dir);
    await replaceSymlinkAtomic(`snapshots/${id}`, this.latestLink);
    await rm(this.partialDir, { recursive: true, force: true });
    return { id, path, meta };
  }

  async listSnapshots(): Promise<SnapshotInfo[]> {
    return (await this.inspect()).snapshots;
  }

  async inspect(): Promise<RepositoryReport> {
    const report: RepositoryReport = { snapshots: [], damaged: [], leftovers: [] };
    let entries;
    try {
      entries = await readdir(this.snapshotsDir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return report;
      throw err;
    }
    const dirs = new Set(
      entries.filter((e) => e.isDirectory() && isSnapshotId(e.name)).map((e) => e.name),
    );
    const jsons = new Set(
      entries.filter((e) => e.name.endsWith('.json')).map((e) => e.name.slice(0, -5)),
    );
    for (const id of dirs) {
      if (!jsons.has(id)) {
        report.damaged.push({ id, reason: `it has no ${id}.json (not made by Pullback?)` });
        continue;
      }
      const meta = await this.readMeta(id);
      if (typeof meta === 'string') report.damaged.push({ id, reason: meta });
      else report.snapshots.push({ id, path: join(this.snapshotsDir, id), meta });
    }
    report.snapshots.sort((a, b) => compareSnapshotIds(a.id, b.id));
    report.damaged.sort((a, b) => compareSnapshotIds(a.id, b.id));
    for (const e of entries) {
      const id = e.name.endsWith('.json') ? e.name.slice(0, -5) : undefined;
      if (e.name.startsWith(DELETING_PREFIX) || (id && isSnapshotId(id) && !dirs.has(id)))
        report.leftovers.push(`snapshots/${e.name}`);
    }
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (isLockAside(name, '.lock') || TEMP_NAME.test(name)) report.leftovers.push(name);
    }
    return report;
  }

  /** The metadata of a snapshot, or why it cannot be used (it is then not listed, and not
   * deleted either: the data may still be worth something). */
  private async readMeta(id: string): Promise<SnapshotMeta | string> {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(join(this.snapshotsDir, `${id}.json`), 'utf8'));
    } catch (err) {
      return `its ${id}.json is unreadable: ${err instanceof SyntaxError ? 'not JSON' : ((err as NodeJS.ErrnoException).code ?? String(err))}`;
    }
    const parsed = snapshotMetaSchema.safeParse(value);
    if (!parsed.success) return `its ${id}.json is not valid snapshot metadata`;
    if (parsed.data.id !== id || parsed.data.client !== this.client)
      return `its ${id}.json describes another snapshot (${parsed.data.client}/${parsed.data.id})`;
    return parsed.data;
  }

  async latest(): Promise<SnapshotInfo | undefined> {
    return (await this.listSnapshots()).pop();
  }

  async deleteSnapshot(id: string): Promise<void> {
    if (!isSnapshotId(id))
      throw new PullbackError('BAD_REQUEST', `${JSON.stringify(id)} is not a snapshot id`);
    const lock = this.held ? undefined : await this.acquireLock();
    try {
      const list = await this.listSnapshots();
      if (!list.some((s) => s.id === id))
        throw new PullbackError('NOT_FOUND', `${this.client} has no snapshot ${id}`);
      if (list[list.length - 1]!.id === id) {
        throw new PullbackError(
          'BAD_REQUEST',
          `${id} is ${this.client}'s newest complete snapshot and is never deleted`,
        );
      }
      // Out of the list first (rename is atomic), then the json, then the data: a crash leaves
      // only a .deleting-* dir and maybe an orphan json, both removed by the next run.
      const aside = join(this.snapshotsDir, DELETING_PREFIX + id);
      await rename(join(this.snapshotsDir, id), aside);
      await fsyncPath(this.snapshotsDir);
      await unlink(join(this.snapshotsDir, `${id}.json`));
      await fsyncPath(this.snapshotsDir);
      await this.impl.remove(aside);
    } finally {
      await lock?.release();
    }
  }

  /**
   * What a crash in promote(), deleteSnapshot() or discardIncomplete() can leave behind (see the
   * top comment), and the files of lock takers that died (a full disk, a kill). Only what is
   * provably ours and dead: a temp or lock file only when its process is gone.
   */
  async removeLeftovers(): Promise<string[]> {
    this.requireLock('removeLeftovers');
    const removed: string[] = [];
    const entries = await readdir(this.snapshotsDir, { withFileTypes: true });
    const dirs = new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
    for (const e of entries) {
      const path = join(this.snapshotsDir, e.name);
      if (e.isDirectory() && e.name.startsWith(DELETING_PREFIX)) await this.impl.remove(path);
      else if (
        e.isFile() &&
        e.name.endsWith('.json') &&
        isSnapshotId(e.name.slice(0, -5)) &&
        !dirs.has(e.name.slice(0, -5))
      ) {
        await unlink(path);
      } else if (isDeadTempFile(e.name) && !e.isDirectory()) await unlink(path);
      else continue;
      removed.push(`snapshots/${e.name}`);
    }
    for (const name of await readdir(this.dir)) {
      if (isDeadTempFile(name) || isDeadLockAside(name, '.lock')) {
        await unlink(join(this.dir, name)).catch(() => {});
        removed.push(name);
      }
    }
    await this.repairLatestLink();
    return removed;
  }

  private async repairLatestLink(): Promise<void> {
    const newest = await this.latest();
    const current = await readlink(this.latestLink).catch(() => undefined);
    if (newest && current !== `snapshots/${newest.id}`)
      await replaceSymlinkAtomic(`snapshots/${newest.id}`, this.latestLink);
    if (!newest && current !== undefined) await unlink(this.latestLink);
  }
}

function ignoreExists(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
}

/** `.<name>.tmp-<pid>` left by writeFileAtomic/replaceSymlinkAtomic of a process now gone. */
function isDeadTempFile(name: string): boolean {
  const m = TEMP_NAME.exec(name);
  return m !== null && processStartTime(Number(m[1])) === undefined;
}
