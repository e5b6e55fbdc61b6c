import { existsSync, statSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PullbackError } from '../errors.js';
import { zodToPullbackError } from '../config/zod-error.js';
import { validateClientName } from './client-name.js';
import { isSnapshotId, nextSnapshotId } from './snapshot-id.js';
import {
  snapshotMetaSchema,
  type SnapshotInfo,
  type SnapshotMeta,
  type SnapshotMetaInput,
} from './metadata.js';
import { acquireLock, processStartTime, type Lock } from './lock.js';
import { fsyncPath, replaceSymlinkAtomic, writeFileAtomic } from './durable-fs.js';
import { pauseForTest } from './test-pause.js';
import { selectBackend, type BackendName, type SnapshotBackend } from './backend.js';

/**
 * One client's snapshots on the backup host (DESIGN §5):
 *
 *   <root>/<client>/snapshots/<id>/        a complete snapshot
 *   <root>/<client>/snapshots/<id>.json    its metadata; a snapshot is complete iff both exist
 *   <root>/<client>/latest -> snapshots/<id>
 *   <root>/<client>/.incomplete/           the run in progress; the next run resumes into it
 *   <root>/<client>/.lock                  one run per client at a time
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
  /** .incomplete was left by an interrupted run and is being resumed */
  resumed: boolean;
}

export interface ClientRepository {
  readonly client: string;
  /** <root>/<client> */
  readonly dir: string;
  readonly backend: BackendName;
  /** One run per client: a second caller gets BUSY at once. */
  acquireLock(): Promise<Lock>;
  /** Needs the lock. Removes garbage from crashed runs, creates or keeps .incomplete. */
  prepareRun(): Promise<PreparedRun>;
  /** Needs the lock. Turns .incomplete into the newest snapshot. */
  promote(meta: SnapshotMetaInput, now?: Date): Promise<SnapshotInfo>;
  /** Complete snapshots, oldest first. */
  listSnapshots(): Promise<SnapshotInfo[]>;
  latest(): Promise<SnapshotInfo | undefined>;
  /** Takes the lock if this repository does not hold it. Never deletes the newest snapshot. */
  deleteSnapshot(id: string): Promise<void>;
}

export interface RepositoryOptions {
  backend: 'auto' | BackendName;
}

const DELETING_PREFIX = '.deleting-';
const TEMP_NAME = /^\..+\.tmp-(\d+)$/;

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
    this.lockFile = join(this.dir, '.lock');
    this.latestLink = join(this.dir, 'latest');
  }

  get backend(): BackendName {
    return this.impl.name;
  }

  async acquireLock(): Promise<Lock> {
    // Never create the storage root: if it is missing, the backup disk is probably not mounted
    // and we would be filling the system disk instead.
    if (!existsSync(this.root) || !statSync(this.root).isDirectory()) {
      throw new PullbackError(
        'NOT_FOUND',
        `the storage directory ${this.root} does not exist (is the backup disk mounted?)`,
      );
    }
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

  async prepareRun(): Promise<PreparedRun> {
    this.requireLock('prepareRun');
    await this.removeCrashLeftovers();
    const previous = await this.latest();
    const existing = await lstat(this.incomplete).catch(() => undefined);
    if (existing && !existing.isDirectory()) {
      throw new PullbackError(
        'INTERNAL',
        `${this.incomplete} exists but is not a directory; remove it`,
      );
    }
    if (!existing) await this.impl.createIncomplete(this.incomplete, previous);
    return {
      dest: this.incomplete + '/',
      ...this.impl.rsyncTarget(previous),
      resumed: existing !== undefined,
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
    const names = await readdir(this.snapshotsDir);
    const id = nextSnapshotId(
      now,
      names.map((n) => n.replace(/\.json$/, '')),
    );
    const parsed = snapshotMetaSchema.safeParse({
      ...input,
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
    return { id, path, meta };
  }

  async listSnapshots(): Promise<SnapshotInfo[]> {
    let entries;
    try {
      entries = await readdir(this.snapshotsDir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const dirs = new Set(
      entries.filter((e) => e.isDirectory() && isSnapshotId(e.name)).map((e) => e.name),
    );
    const list: SnapshotInfo[] = [];
    for (const e of entries) {
      const id = e.name.endsWith('.json') ? e.name.slice(0, -5) : undefined;
      if (!id || !e.isFile() || !isSnapshotId(id) || !dirs.has(id)) continue;
      const meta = await this.readMeta(id);
      if (meta) list.push({ id, path: join(this.snapshotsDir, id), meta });
    }
    return list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The metadata of a snapshot, or undefined when it is unreadable or not about this one. */
  private async readMeta(id: string): Promise<SnapshotMeta | undefined> {
    try {
      const parsed = snapshotMetaSchema.safeParse(
        JSON.parse(await readFile(join(this.snapshotsDir, `${id}.json`), 'utf8')),
      );
      if (parsed.success && parsed.data.id === id && parsed.data.client === this.client)
        return parsed.data;
    } catch {
      // unreadable: not listed (and not deleted either: the data may still be worth something)
    }
    return undefined;
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

  /** What a crash in promote() or deleteSnapshot() can leave behind; see the top comment. */
  private async removeCrashLeftovers(): Promise<void> {
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
    }
    for (const name of await readdir(this.dir)) {
      if (isDeadTempFile(name)) await unlink(join(this.dir, name)).catch(() => {});
    }
    await this.repairLatestLink();
  }

  private async repairLatestLink(): Promise<void> {
    const newest = await this.latest();
    const current = await readlink(this.latestLink).catch(() => undefined);
    if (newest && current !== `snapshots/${newest.id}`)
      await replaceSymlinkAtomic(`snapshots/${newest.id}`, this.latestLink);
    if (!newest && current !== undefined) await unlink(this.latestLink);
  }
}

/** `.<name>.tmp-<pid>` left by writeFileAtomic/replaceSymlinkAtomic of a process now gone. */
function isDeadTempFile(name: string): boolean {
  const m = TEMP_NAME.exec(name);
  return m !== null && processStartTime(Number(m[1])) === undefined;
}
