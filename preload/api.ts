import type { AgentEvent, AgentState, HistoryEntry } from '../core/agent/types.js';
import type {
  FileVersion,
  RemoteEntry,
  RestoreProgress,
  RestoreResult,
} from '../core/restore/types.js';

/**
 * The one IPC contract between the Electron main process, the sandboxed preload and the
 * renderer pages. Plain data only (it crosses contextBridge and IPC). The renderer imports
 * types from here and nothing else; main and the preload use `CHANNELS` and the types.
 */

export type { AgentEvent, AgentState, HistoryEntry, HostStatus } from '../core/agent/types.js';
export type {
  EntryType,
  FileVersion,
  RemoteEntry,
  RestoreProgress,
  RestoreResult,
} from '../core/restore/types.js';

/** A paired backup host as the preferences page shows it (the pinned key only as fingerprint). */
export interface HostPreference {
  name: string;
  user: string;
  address: string;
  port: number;
  fingerprint: string;
}

/** What the preferences page edits: a view of the client config file (one schema, core/config). */
export interface Preferences {
  name: string;
  mode: 'user' | 'system';
  sources: string[];
  excludes: string[];
  hosts: HostPreference[];
  intervalHours: number;
  overdueDays: number;
  runOnBattery: boolean;
  runOnMetered: boolean;
  /** NetworkManager connection names automatic backups may run on; empty = any */
  networks: string[];
  /** KiB/s for every backup host; 0 = no limit */
  bandwidthLimitKiB: number;
  notifications: { finished: boolean; failed: boolean; overdue: boolean };
  startOnLogin: boolean;
}

/** A change from the preferences page; `removeHosts` unpairs hosts by name. */
export type PreferencesChange = Partial<Omit<Preferences, 'hosts'>> & { removeHosts?: string[] };

export interface PairingOffer {
  /** `SHA256:…` exactly as `ssh-keygen -lf` prints it */
  fingerprint: string;
  /** the backup host's public host key, `ssh-ed25519 AAAA…` */
  hostKey: string;
  /** the one line to run on the backup host to let this machine in */
  serverLine: string;
  /** the name this backup host gets here */
  name: string;
}

export type PairingCheck =
  | { status: 'waiting' }
  | { status: 'ok'; client: string; snapshots: number }
  | { status: 'error'; code: string; message: string };

export type WindowName = 'status' | 'preferences' | 'pairing' | 'restore';

/** Where the Restore window opens: a backup host, and a snapshot on it (default: the newest). */
export interface RestoreTarget {
  host: string;
  snapshot?: string;
}

/**
 * One snapshot on the Restore window's timeline: the fields of core/handoff's SnapshotSummary
 * it shows (that module's schema pulls in Node, which the renderer's types cannot load).
 */
export interface SnapshotSummary {
  id: string;
  startedAt: string;
  finishedAt: string;
  files?: number;
  totalBytes?: number;
  warnings: string[];
}

/** What the Restore window learns first: the hosts to pick from, and whether main has a folder picker. */
export interface RestoreContext {
  hosts: string[];
  /** true in the app (Electron's dialog); without it the page asks for the folder as text */
  folderPicker: boolean;
}

/** One restore from the Restore window (core/restore's restorePaths, never in place). */
export interface RestoreRequest {
  host: string;
  /** a snapshot id */
  snapshot: string;
  /** the client's absolute paths, as listEntries gave them */
  paths: string[];
  /** an absolute folder here to restore into; absent: next to the originals */
  to?: string;
}

/** main → renderer while a restore runs (on the one event channel, beside the agent's events). */
export type RestoreEvent = { type: 'restore-progress'; progress: RestoreProgress };

export type PullbackEvent = AgentEvent | RestoreEvent;

/** What `window.pullback` offers the renderer. Every call may reject with "CODE: message". */
export interface PullbackApi {
  getState(): Promise<AgentState>;
  getHistory(host?: string, limit?: number): Promise<HistoryEntry[]>;
  backupNow(host?: string): Promise<void>;
  cancel(host?: string): Promise<void>;
  /** pause automatic backups until this ISO time; null resumes */
  pause(until: string | null): Promise<void>;
  getConfig(): Promise<Preferences>;
  /** the saved preferences, with `notes` on what saving changed (overlapping sources left out) */
  saveConfig(change: PreferencesChange): Promise<Preferences & { notes: string[] }>;
  /** first contact: read the host key of `user@host[:port]` without logging in */
  pairStart(userAtHost: string): Promise<PairingOffer>;
  /** the user compared the fingerprint: pin the key and add the host to the config */
  pairConfirm(): Promise<void>;
  /** does the backup host let us in yet? */
  pairCheck(): Promise<PairingCheck>;
  /** the Restore window's hosts and capabilities */
  restoreContext(): Promise<RestoreContext>;
  /** our own snapshots on a backup host, oldest first (read-only) */
  listSnapshots(host: string): Promise<SnapshotSummary[]>;
  /** one folder of a snapshot, with the mode, owner, size and mtime the source had */
  listEntries(
    host: string,
    snapshot: string,
    path: string,
  ): Promise<{ snapshot: string; entries: RemoteEntry[] }>;
  /** the distinct versions of one path across the snapshots, oldest first */
  fileVersions(host: string, path: string): Promise<FileVersion[]>;
  /** resolves when the restore ends; progress arrives as "restore-progress" events */
  restore(request: RestoreRequest): Promise<RestoreResult>;
  /** stops the running restore (it then rejects with CANCELLED) */
  cancelRestore(): Promise<void>;
  /** main's folder picker; null when the user closed it (only when folderPicker is true) */
  chooseFolder(): Promise<string | null>;
  /** opens (or focuses) a window; `at` opens the Restore window at a host and snapshot */
  openWindow(name: WindowName, at?: RestoreTarget): Promise<void>;
  onEvent(listener: (event: PullbackEvent) => void): () => void;
}

/** The request/response methods (everything but the event subscription). */
export type InvokeMethod = Exclude<keyof PullbackApi, 'onEvent'>;
export type InvokeArgs<M extends InvokeMethod> = Parameters<PullbackApi[M]>;
export type InvokeResult<M extends InvokeMethod> = Awaited<ReturnType<PullbackApi[M]>>;

/** The main-process side of the contract: the same methods, without the subscription. */
export type PullbackBackend = { [M in InvokeMethod]: PullbackApi[M] };

/** Channel of a method: derived, so the sandboxed preload (no imports there) can build it too. */
export type ChannelOf<M extends string> = `pullback:${M}`;

export const CHANNELS = {
  getState: 'pullback:getState',
  getHistory: 'pullback:getHistory',
  backupNow: 'pullback:backupNow',
  cancel: 'pullback:cancel',
  pause: 'pullback:pause',
  getConfig: 'pullback:getConfig',
  saveConfig: 'pullback:saveConfig',
  pairStart: 'pullback:pairStart',
  pairConfirm: 'pullback:pairConfirm',
  pairCheck: 'pullback:pairCheck',
  restoreContext: 'pullback:restoreContext',
  listSnapshots: 'pullback:listSnapshots',
  listEntries: 'pullback:listEntries',
  fileVersions: 'pullback:fileVersions',
  restore: 'pullback:restore',
  cancelRestore: 'pullback:cancelRestore',
  chooseFolder: 'pullback:chooseFolder',
  openWindow: 'pullback:openWindow',
} as const satisfies { [M in InvokeMethod]: ChannelOf<M> };

/** main → renderer: every agent event, and a running restore's progress */
export const EVENT_CHANNEL = 'pullback:event';

/** What travels over IPC for every call: errors as values, so the message survives intact. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; code: string; message: string };
