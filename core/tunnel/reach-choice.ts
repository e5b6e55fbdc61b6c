import { REACH_VALUES } from '../config/client-schema.js';
import { PullbackError, asPullbackError } from '../errors.js';
import type { LearntReach } from './reach-memory.js';

/** The reach decision itself, without running anything (core/tunnel/reach.ts runs it). */
export { REACH_VALUES };
export type Reach = (typeof REACH_VALUES)[number];

/** `--reach`'s or `config set-reach`'s word, checked: a Reach, or BAD_ARGS naming what is allowed. */
export function parseReach(value: string, where: string): Reach {
  if ((REACH_VALUES as readonly string[]).includes(value)) return value as Reach;
  throw new PullbackError(
    'BAD_ARGS',
    `${where} must be one of ${REACH_VALUES.join(', ')}, got "${value}"`,
  );
}

/** A run's reach: the one-run override (`--reach`), else the host's `reach`, else auto. */
export function effectiveReach(override: Reach | undefined, configured: Reach | undefined): Reach {
  return override ?? configured ?? 'auto';
}

/**
 * How a run starts. `probing`: direct is tried first, and a backup host that cannot connect
 * back sends the run through the tunnel; what worked is then remembered for the network. Only
 * auto probes, unless this network taught it the tunnel (then it goes straight there, until the
 * memory expires: core/tunnel/reach-memory.ts).
 */
export interface ReachPlan {
  first: LearntReach;
  probing: boolean;
}

export function planReach(reach: Reach, learnt: LearntReach | undefined): ReachPlan {
  if (reach !== 'auto') return { first: reach, probing: false };
  if (learnt === 'tunnel') return { first: 'tunnel', probing: false };
  return { first: 'direct', probing: true };
}

/**
 * The backup host accepted the run but its ssh could not reach our one-shot: the pull never
 * started. (A cut later in the run has shown progress first; a backup host we cannot reach at
 * all never accepted.)
 */
export function couldNotConnectBack(err: unknown, accepted: boolean, progressed: boolean): boolean {
  return accepted && !progressed && asPullbackError(err).code === 'UNREACHABLE';
}

/** A direct run's connect-back failure, in one line that says what to do. */
export function connectBackFailure(err: unknown): PullbackError {
  const why = asPullbackError(err).message;
  return new PullbackError(
    'UNREACHABLE',
    `the backup host could not connect back to this machine (${why}); behind NAT or a firewall? --reach tunnel brings the pull through this machine's own connection`,
    { cause: err },
  );
}

/**
 * auto's tunnel could not even start (system mode without root's tunnel approval, say): the
 * direct failure is the cause the user must see, with why the fallback did not help.
 */
export function tunnelFallbackFailure(direct: PullbackError, err: unknown): PullbackError {
  const tunnel = asPullbackError(err);
  if (!['HELPER_FAILED', 'BAD_CONFIG'].includes(tunnel.code)) return tunnel;
  return new PullbackError(
    direct.code,
    `${direct.message}; the tunnel could not be used either: ${tunnel.message}`,
    { cause: err },
  );
}
