/** The client-side restore API's data types (agreed with the tray's Restore window). */

import type { TransferProgress } from '../pull/transfer-progress.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';

export interface RemoteEntry {
  /** last component, as stored (may be any bytes but "/" and NUL: rendered with safe-text by callers) */
  name: string;
  /** the client's absolute path of the entry */
  path: string;
  type: EntryType;
  /** permission bits (0o7777) as the source had them (from user.rsync.%stat) */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** ISO 8601 */
  mtime: string;
  /** symlinks */
  target?: string;
}

export interface FileVersion {
  type: EntryType;
  size: number;
  mtime: string;
  /** snapshot ids that hold this version, oldest first */
  snapshots: string[];
}

export type SnapshotSelector =
  { snapshot: string /* id or 'latest' */ } | { before: string /* ISO time */ };

export type RestoreProgress = TransferProgress;

export interface RestoreResult {
  snapshot: string;
  /** one per requested path */
  items: { path: string; restoredTo: string }[];
  /** --in-place: where the replaced originals went */
  movedAside: string[];
  /** entries this (non-root) user could not have read on the client */
  skipped: number;
  warnings: string[];
}
