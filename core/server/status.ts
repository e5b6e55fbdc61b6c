import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConfig } from '../config/server-schema.js';
import { openRepository, type DamagedSnapshot } from '../storage/repository.js';
import { requireStorageRoot } from '../storage/storage-root.js';
import { futureSnapshotWarning } from '../storage/snapshot-id.js';
import { isValidClientName } from '../storage/client-name.js';
import { lockOwnerState, type LockOwner } from '../storage/lock.js';
import { listAuthorizedClients } from './authorized-clients.js';
import { readLastRun, type LastRun } from './last-run.js';
import { clientDirSize } from './client-size.js';

/** What `pullback server status` reports per client. */
export interface ClientStatus {
  client: string;
  /** a run holds the client's lock right now */
  running: boolean;
  /** finish time of the newest complete snapshot */
  lastSuccessAt?: string;
  lastSuccessAgeSeconds?: number;
  lastResult?: LastRun['result'];
  lastRunAt?: string;
  lastDurationMs?: number;
  lastError?: { code: string; message: string };
  snapshots: number;
  newestSnapshot?: string;
  /** bytes on disk for all of the client's snapshots, each stored file once (see client-size.ts) */
  sizeBytes?: number;
  /** an interrupted run waits in .incomplete to be resumed */
  incomplete: boolean;
  /** snapshot directories that are not listed (damaged or missing metadata); never deleted */
  damaged: DamagedSnapshot[];
  /** what crashes left that the next run or `server prune` will remove (names in the client dir) */
  leftovers: string[];
  /** the newest snapshot is dated in the future: this clock is behind, or was once ahead */
  clockWarning?: string;
}

export interface ServerStatus {
  generatedAt: string;
  storage: string;
  backend: ServerConfig['backend'];
  clients: ClientStatus[];
}

export interface StatusOptions {
  now?: Date;
  /** also list clients that only have a key in this authorized_keys file */
  authorizedKeys?: string;
  /** measuring sizes walks every snapshot; monitoring every minute may not want that */
  sizes?: boolean;
}

/** Every client we know of: a directory in the storage, an entry in the config, or a key. */
export function knownClients(config: ServerConfig, authorizedKeys?: string): string[] {
  const names = new Set<string>(Object.keys(config.clients));
  if (existsSync(config.storage)) {
    for (const e of readdirSync(config.storage, { withFileTypes: true }))
      if (e.isDirectory() && isValidClientName(e.name)) names.add(e.name);
  }
  if (authorizedKeys) for (const c of listAuthorizedClients(authorizedKeys)) names.add(c.name);
  return [...names].sort();
}

function isRunning(clientDir: string): boolean {
  try {
    const owner = JSON.parse(readFileSync(join(clientDir, '.lock'), 'utf8')) as LockOwner;
    return lockOwnerState(owner) !== 'dead';
  } catch {
    return false;
  }
}

export async function collectServerStatus(
  config: ServerConfig,
  options: StatusOptions = {},
): Promise<ServerStatus> {
  const now = options.now ?? new Date();
  // A missing storage is an unmounted disk, not a host whose clients never backed up.
  requireStorageRoot(config.storage);
  const clients: ClientStatus[] = [];
  for (const client of knownClients(config, options.authorizedKeys)) {
    const repo = openRepository(config.storage, client, { backend: config.backend });
    const { snapshots, damaged, leftovers } = await repo.inspect();
    const newest = snapshots[snapshots.length - 1];
    const last = await readLastRun(repo.dir);
    const status: ClientStatus = {
      client,
      running: isRunning(repo.dir),
      snapshots: snapshots.length,
      incomplete: existsSync(join(repo.dir, '.incomplete')),
      damaged,
      leftovers,
    };
    const clockWarning = newest && futureSnapshotWarning(newest.id, now);
    if (clockWarning) status.clockWarning = clockWarning;
    if (newest) {
      status.newestSnapshot = newest.id;
      status.lastSuccessAt = newest.meta.finishedAt;
      status.lastSuccessAgeSeconds = Math.max(
        0,
        Math.round((now.getTime() - Date.parse(newest.meta.finishedAt)) / 1000),
      );
    }
    if (last) {
      status.lastResult = last.result;
      status.lastRunAt = last.finishedAt;
      status.lastDurationMs = last.durationMs;
      if (last.result !== 'success')
        status.lastError = { code: last.code ?? 'INTERNAL', message: last.message ?? '' };
    } else if (newest) {
      // A repository from before .last-run.json existed: its newest snapshot is its last run.
      status.lastResult = 'success';
      status.lastRunAt = newest.meta.finishedAt;
      status.lastDurationMs = newest.meta.durationMs;
    }
    if (options.sizes !== false && existsSync(repo.dir) && statSync(repo.dir).isDirectory()) {
      const size = clientDirSize(repo.dir, repo.backend);
      if (size !== undefined) status.sizeBytes = size;
    }
    clients.push(status);
  }
  return {
    generatedAt: now.toISOString(),
    storage: config.storage,
    backend: config.backend,
    clients,
  };
}
