import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { PullbackError } from '../errors.js';
import type { HostConfig } from '../config/client-schema.js';
import { exchange } from '../handoff/exchange.js';
import { listRemoteSnapshots, withConnection } from '../handoff/backup-client.js';
import {
  PROTOCOL_VERSION,
  type FileVersionMessage,
  type HandoffRequest,
  type HandoffResponse,
  type StoredEntry,
} from '../handoff/messages.js';
import { currentReader } from './readable.js';
import { checkRestorePath } from './remote-path.js';
import { placeRestore } from './placement.js';
import { runTransfer } from './transfer.js';
import type {
  FileVersion,
  RemoteEntry,
  RestoreProgress,
  RestoreResult,
  SnapshotSelector,
} from './types.js';

/*
 * The client side of restore (CLI and tray call exactly these): ls, versions and the restore
 * plan are handoff requests over the identity key's connection to `pullback serve`; the
 * transfer itself is this machine's own rsync (transfer.ts).
 */

function ask(
  host: HostConfig,
  identityKey: string,
  request: HandoffRequest,
  onResponse?: (r: HandoffResponse) => void,
  signal?: AbortSignal,
): Promise<HandoffResponse> {
  return withConnection(
    host,
    identityKey,
    (conn) => exchange(conn, request, onResponse, signal),
    signal,
  );
}

function expect<T extends HandoffResponse['type']>(
  r: HandoffResponse,
  type: T,
): Extract<HandoffResponse, { type: T }> {
  if (r.type !== type) throw new PullbackError('PROTOCOL', `expected "${type}", got "${r.type}"`);
  return r as Extract<HandoffResponse, { type: T }>;
}

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

function toRemoteEntry(e: StoredEntry, parent: string, self = false): RemoteEntry {
  const name = decode(e.name);
  const entry: RemoteEntry = {
    name: self ? (parent === '/' ? '/' : parent.slice(parent.lastIndexOf('/') + 1)) : name,
    path: self ? parent : join(parent, name),
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    mtime: e.mtime,
  };
  if (e.target !== undefined) entry.target = decode(e.target);
  return entry;
}

/** The entries of one directory (or the one entry of a file) in one snapshot. */
export async function listEntries(
  host: HostConfig,
  identityKey: string,
  o: { snapshot: string /* id or 'latest' */; path: string },
): Promise<{ snapshot: string; entries: RemoteEntry[] }> {
  const path = checkRestorePath(o.path);
  const stored: StoredEntry[] = [];
  const final = expect(
    await ask(
      host,
      identityKey,
      { v: PROTOCOL_VERSION, type: 'ls', snapshot: o.snapshot, path },
      (r) => {
        if (r.type === 'entries') stored.push(...r.entries);
      },
    ),
    'listed',
  );
  const entries =
    final.self.type === 'dir'
      ? stored.map((e) => toRemoteEntry(e, path))
      : [toRemoteEntry(final.self, path, true)];
  return { snapshot: final.snapshot, entries };
}

/** The distinct versions of one path across our snapshots, oldest first. */
export async function fileVersions(
  host: HostConfig,
  identityKey: string,
  path: string,
): Promise<FileVersion[]> {
  const checked = checkRestorePath(path);
  const final = expect(
    await ask(host, identityKey, { v: PROTOCOL_VERSION, type: 'versions', path: checked }),
    'versions',
  );
  return final.versions.map((v: FileVersionMessage) => ({ ...v }));
}

/** The snapshot a selector means, among ours on this host. */
export async function selectSnapshot(
  host: HostConfig,
  identityKey: string,
  select: SnapshotSelector,
  signal?: AbortSignal,
): Promise<string> {
  const snapshots = await listRemoteSnapshots(host, identityKey, signal);
  if ('before' in select) {
    const before = Date.parse(select.before);
    if (Number.isNaN(before))
      throw new PullbackError(
        'BAD_ARGS',
        `--before ${JSON.stringify(select.before)} is not a time`,
      );
    const found = snapshots.filter((s) => Date.parse(s.startedAt) < before).pop();
    if (!found)
      throw new PullbackError(
        'NOT_FOUND',
        `no snapshot was made before ${new Date(before).toISOString()}`,
      );
    return found.id;
  }
  const found =
    select.snapshot === 'latest'
      ? snapshots[snapshots.length - 1]
      : snapshots.find((s) => s.id === select.snapshot);
  if (!found)
    throw new PullbackError(
      'NOT_FOUND',
      select.snapshot === 'latest'
        ? 'there is no snapshot yet'
        : `there is no snapshot ${JSON.stringify(select.snapshot)}`,
    );
  return found.id;
}

/** The checks of a restore that need no backup host; returns the paths, checked. */
export function checkRestoreRequest(o: {
  paths: string[];
  to?: string;
  inPlace?: boolean;
}): string[] {
  if (o.paths.length === 0)
    throw new PullbackError('BAD_ARGS', 'name at least one path to restore');
  if (o.to !== undefined && o.inPlace)
    throw new PullbackError('BAD_ARGS', '--to and --in-place exclude each other');
  if (o.to !== undefined && !o.to.startsWith('/'))
    throw new PullbackError(
      'BAD_ARGS',
      `the folder to restore into must be an absolute path, not ${JSON.stringify(o.to)}`,
    );
  return o.paths.map((p) => checkRestorePath(p));
}

const restoreCancelled = () => new PullbackError('CANCELLED', 'the restore was cancelled');

/** Removes the directories `mkdirSync(dir, { recursive: true })` made (`made` the topmost), if empty. */
function removeMadeDirs(made: string | undefined, dir: string): void {
  if (made === undefined || relative(made, dir).startsWith('..')) return;
  for (let at = dir; ; at = dirname(at)) {
    try {
      rmdirSync(at);
    } catch {
      return;
    }
    if (at === made) return;
  }
}

/**
 * Restores paths from one snapshot onto this machine (placement.ts says where). Not run as
 * root, the entries whose stored owner and mode would have kept this user from reading them
 * are left out and counted (serve's restore plan); as root, everything, owners included.
 * A cancel at any point (connecting, planning, transferring) ends in CANCELLED, and the item
 * under way leaves nothing at its destination; the items before it are whole.
 */
export async function restorePaths(
  host: HostConfig,
  identityKey: string,
  o: RestoreOptions,
): Promise<RestoreResult> {
  const paths = checkRestoreRequest(o);
  try {
    return await restoreChecked(host, identityKey, paths, o);
  } catch (err) {
    // however the cancel surfaced (a closed channel, rsync stopped, an AbortError), it is one
    if (o.signal?.aborted) throw restoreCancelled();
    throw err;
  }
}

interface RestoreOptions {
  select: SnapshotSelector;
  paths: string[];
  to?: string;
  inPlace?: boolean;
  onProgress?: (p: RestoreProgress) => void;
  signal?: AbortSignal;
  now?: Date;
}

async function restoreChecked(
  host: HostConfig,
  identityKey: string,
  paths: string[],
  o: RestoreOptions,
): Promise<RestoreResult> {
  const now = o.now ?? new Date();
  const snapshot = await selectSnapshot(host, identityKey, o.select, o.signal);
  const reader = currentReader();
  const asRoot = reader.uid === 0;
  const result: RestoreResult = { snapshot, items: [], movedAside: [], skipped: 0, warnings: [] };
  for (const path of paths) {
    if (o.signal?.aborted) throw restoreCancelled();
    const denied: Buffer[] = [];
    const plan = expect(
      await ask(
        host,
        identityKey,
        { v: PROTOCOL_VERSION, type: 'restore-plan', snapshot, path, reader },
        (r) => {
          if (r.type === 'denied') denied.push(...r.paths.map((p) => Buffer.from(p, 'base64')));
        },
        o.signal,
      ),
      'plan',
    );
    result.skipped += plan.skipped;
    if (plan.selfDenied) {
      result.warnings.push(`${path}: not restored: you could not have read it on this machine`);
      result.items.push({ path, restoredTo: '' });
      continue;
    }
    if (o.signal?.aborted) throw restoreCancelled();
    const place = placeRestore(path, { to: o.to, inPlace: o.inPlace, now });
    const made = mkdirSync(dirname(place.dest), { recursive: true });
    const name = basename(path);
    const staging = mkdtempSync(join(dirname(place.dest), '.pullback-restore-'));
    let placed = false;
    try {
      const warnings = await runTransfer({
        host,
        identityKey,
        snapshot,
        parent: dirname(path),
        name,
        staging,
        asRoot,
        exclude: denied,
        onProgress: o.onProgress,
        signal: o.signal,
      });
      // a transfer that ended before the cancel reached rsync is still not put in place
      if (o.signal?.aborted) throw restoreCancelled();
      // rsync gave the staging directory the stored parent's mode: it must let us move out of it
      chmodSync(staging, 0o700);
      // --in-place: the original goes aside only once the restored copy is here
      if (place.moveAsideTo) {
        renameSync(place.dest, place.moveAsideTo);
        result.movedAside.push(place.moveAsideTo);
      }
      renameSync(join(staging, name), place.dest);
      placed = true;
      result.warnings.push(...warnings);
    } finally {
      rmSync(staging, { recursive: true, force: true, maxRetries: 5 });
      if (!placed) removeMadeDirs(made, dirname(place.dest));
    }
    result.items.push({ path, restoredTo: place.dest });
  }
  if (result.skipped > 0)
    result.warnings.push(
      `${result.skipped} entr${result.skipped === 1 ? 'y was' : 'ies were'} skipped: their stored owner and mode would not have let you read them on this machine (restore as root to get them)`,
    );
  return result;
}
