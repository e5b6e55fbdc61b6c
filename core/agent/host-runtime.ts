import type { HostConfig } from '../config/client-schema.js';
import { PullbackError } from '../errors.js';
import { explainError } from './error-hints.js';
import type { Reachability, RunProgress } from './types.js';

/** What the controller holds per backup host while it runs (memory only; the rest is on disk). */
export interface RunningBackup {
  trigger: 'manual' | 'automatic';
  startedAt: number;
  startedReal: number;
  abort: AbortController;
  progress: RunProgress;
  done: Promise<void>;
}

export interface HostRuntime {
  config: HostConfig;
  reachable: Reachability;
  reachabilityDetail?: string;
  /** host-key-changed: the key presented instead of the pinned one */
  presentedKey?: string;
  /** real time of the last reachability check */
  lastCheckAt?: number;
  waitingFor?: string;
  run?: RunningBackup;
  evaluating?: Promise<void>;
  queued?: { force: boolean; promise: Promise<void> };
}

/** Same address, port, account, pinned key and source address: reachability still holds. */
export function sameEndpoint(a: HostConfig, b: HostConfig): boolean {
  return (
    a.address === b.address &&
    a.port === b.port &&
    a.hostKey === b.hostKey &&
    a.localAddress === b.localAddress &&
    a.user === b.user
  );
}

/** Forget what was known about reaching the host (its endpoint changed, or a run lost it). */
export function forgetReachability(h: HostRuntime): void {
  h.reachable = 'unknown';
  h.reachabilityDetail = undefined;
  h.presentedKey = undefined;
  h.lastCheckAt = undefined;
}

/** Why a due backup waits, as one of the reasons in `waitingFor`. */
export function reachabilityReason(reachable: Reachability): string {
  switch (reachable) {
    case 'unreachable':
      return 'the backup host is not reachable (not on its network?)';
    case 'host-key-changed':
      return "the backup host's host key changed";
    default:
      return 'checking whether the backup host is reachable';
  }
}

/** The refusal of Back up now for a host that cannot be reached as pinned: in words, with what to do. */
export function reachabilityError(h: HostRuntime): PullbackError {
  const code = h.reachable === 'host-key-changed' ? 'HOST_KEY_MISMATCH' : 'UNREACHABLE';
  const { message, hint } = explainError(code, h.reachabilityDetail ?? 'not checked yet');
  return new PullbackError(code, `${h.config.name}: ${message} ${hint}`);
}
