/**
 * The agent's public contract: what the tray, the headless `pullback agent` and the renderer
 * (through preload) see of the controller. Plain data only, so it crosses IPC unchanged.
 */

import type { TransferProgress } from '../pull/transfer-progress.js';

export type HostPhase = 'idle' | 'waiting' | 'running' | 'succeeded' | 'failed' | 'overdue';

export type Reachability = 'unknown' | 'reachable' | 'unreachable' | 'host-key-changed';

export interface RunProgress extends TransferProgress {
  stage: 'connecting' | 'starting-oneshot' | 'requesting' | 'transferring';
}

export interface LastError {
  code: string;
  /** what happened, one sentence */
  message: string;
  /** what the user can do about it, one sentence */
  hint: string;
}

/** A backup host presenting another key than the pinned one: both fingerprints (SHA256:…). */
export interface HostKeyChange {
  pinned: string;
  presented?: string;
}

export interface HostStatus {
  host: string;
  address: string;
  phase: HostPhase;
  reachable: Reachability;
  /** why an automatic backup is not starting right now (phase "waiting") */
  waitingFor?: string;
  progress?: RunProgress;
  lastSuccess?: string;
  lastAttempt?: string;
  /** how the last attempt ended (whoever started it: agent, tray or `pullback backup`) */
  lastResult?: 'success' | 'failed' | 'cancelled';
  lastSnapshot?: string;
  lastError?: LastError;
  /** set while the backup host presents a different host key than the pinned one */
  hostKeyChange?: HostKeyChange;
  /** when the next automatic backup is due (ISO) */
  nextDue?: string;
  /** back-off after a failure: no automatic attempt before this time (ISO) */
  retryAt?: string;
  overdue: boolean;
}

export interface AgentState {
  hosts: HostStatus[];
  mode: 'user' | 'system';
  /** automatic backups paused until (ISO), if paused */
  pausedUntil?: string;
  /** nothing configured yet: the UI offers the pairing wizard */
  needsPairing: boolean;
}

export interface HistoryEntry {
  host: string;
  startedAt: string;
  finishedAt: string;
  result: 'success' | 'failed' | 'cancelled';
  /** manual: Back up now in the tray; automatic: the schedule; cli: `pullback backup` */
  trigger: 'manual' | 'automatic' | 'cli';
  snapshot?: string;
  files?: number;
  totalBytes?: number;
  bytesTransferred?: number;
  durationMs: number;
  warnings?: string[];
  /** what went wrong, in words; `detail` is the raw text it replaced (for logs) */
  error?: { code: string; message: string; detail?: string };
}

export type AgentEvent =
  | { type: 'state'; state: AgentState }
  | { type: 'backup-started'; host: string; trigger: 'manual' | 'automatic' }
  | { type: 'backup-finished'; host: string; entry: HistoryEntry }
  | {
      type: 'backup-failed';
      host: string;
      entry: HistoryEntry;
      /** what happened, one sentence in words (entry.error keeps the raw text for logs) */
      reason: string;
      /** what to do about it, one sentence */
      hint: string;
    }
  | { type: 'overdue'; host: string; days: number; lastSuccess?: string }
  | { type: 'host-key-changed'; host: string }
  | { type: 'log'; message: string };

export interface AgentController {
  start(): Promise<void>;
  stop(): Promise<void>;
  getState(): AgentState;
  getHistory(host?: string, limit?: number): Promise<HistoryEntry[]>;
  subscribe(listener: (event: AgentEvent) => void): () => void;
  /** start a backup now, ignoring schedule and conditions (not reachability) */
  backupNow(host?: string): Promise<void>;
  cancel(host?: string): Promise<void>;
  /** pause automatic backups until the given time; null resumes */
  pause(until: Date | null): Promise<void>;
  /** re-read the config file (after preferences change) */
  reload(): Promise<void>;
}
