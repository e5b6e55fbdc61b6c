import type { HostConfig } from '../config/client-schema.js';
import { asPullbackError } from '../errors.js';
import { peekHostKey } from '../handoff/connect.js';
import { sameHostKey } from '../ssh/hostkey-pin.js';
import type { Reachability } from './types.js';

/**
 * "Are we on the home network?": the backup host counts as reachable only when its SSH port
 * answers and it presents the pinned host key. The handshake stops right after the host key is
 * shown, before any login, so a check leaves no failed-auth lines on the backup host.
 */
export interface ReachabilityResult {
  reachable: Exclude<Reachability, 'unknown'>;
  /** one line for logs and the status window */
  detail: string;
  /** host-key-changed: the key the backup host presented instead of the pinned one */
  presentedKey?: string;
}

export const DEFAULT_REACHABILITY_TIMEOUT_MS = 5000;

export async function checkReachability(
  host: Pick<HostConfig, 'address' | 'port' | 'user' | 'hostKey' | 'localAddress'>,
  timeoutMs = DEFAULT_REACHABILITY_TIMEOUT_MS,
): Promise<ReachabilityResult> {
  let shown: string | undefined;
  let failure: string | undefined;
  try {
    shown = await peekHostKey(host, timeoutMs);
  } catch (err) {
    failure = asPullbackError(err).message;
  }
  const where = `${host.address}:${host.port}`;
  if (shown === undefined) {
    return { reachable: 'unreachable', detail: failure ?? `${where} did not answer` };
  }
  if (sameHostKey(shown, host.hostKey)) {
    return { reachable: 'reachable', detail: `${where} answered with the pinned host key` };
  }
  return {
    reachable: 'host-key-changed',
    presentedKey: shown,
    detail: `${where} presented a different host key than the one pinned at pairing (possible interception, or the backup host was reinstalled)`,
  };
}
