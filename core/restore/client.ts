import { PullbackError } from '../errors.js';
import type { HostConfig } from '../config/client-schema.js';
import type {
  FileVersion,
  RemoteEntry,
  RestoreProgress,
  RestoreResult,
  SnapshotSelector,
} from './types.js';

/** The entries of one directory (or the one entry of a file) in one snapshot. */
export function listEntries(
  _host: HostConfig,
  _identityKey: string,
  _o: { snapshot: string /* id or 'latest' */; path: string },
): Promise<{ snapshot: string; entries: RemoteEntry[] }> {
  return Promise.reject(new PullbackError('INTERNAL', 'not yet'));
}

/** The distinct versions of one path across our snapshots, oldest first. */
export function fileVersions(
  _host: HostConfig,
  _identityKey: string,
  _path: string,
): Promise<FileVersion[]> {
  return Promise.reject(new PullbackError('INTERNAL', 'not yet'));
}

/** Restores paths from one snapshot onto this machine. */
export function restorePaths(
  _host: HostConfig,
  _identityKey: string,
  _o: {
    select: SnapshotSelector;
    paths: string[];
    to?: string;
    inPlace?: boolean;
    onProgress?: (p: RestoreProgress) => void;
    signal?: AbortSignal;
    now?: Date;
  },
): Promise<RestoreResult> {
  return Promise.reject(new PullbackError('INTERNAL', 'not yet'));
}
