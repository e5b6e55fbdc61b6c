import { PullbackError, asPullbackError } from '../errors.js';
import {
  runBackup,
  type BackupRunOptions,
  type BackupRunResult,
} from '../handoff/backup-client.js';
import { currentNetworkKey } from '../network/network-key.js';
import { recallReach, rememberReach, type LearntReach } from './reach-memory.js';
import {
  connectBackFailure,
  couldNotConnectBack,
  planReach,
  tunnelFallbackFailure,
  type Reach,
} from './reach-choice.js';

/**
 * How a backup host reaches this machine's one-shot sshd: `direct` (it connects back to the
 * address the handoff came from), `tunnel` (the pull comes back inside our own handoff
 * connection, for NAT and offsite hosts), or `auto`: direct when the backup host can connect
 * back, else the tunnel, remembered per network so the next run there does not wait. The
 * choice itself is core/tunnel/reach-choice.ts.
 */

export interface ReachOptions {
  /** the host's `reach` or `--reach`; absent is auto */
  reach?: Reach;
  /** where `auto` remembers what it learnt (reach-memory.ts) */
  stateDir: string;
  /** names the current network; default currentNetworkKey */
  networkKey?: () => Promise<string | undefined>;
  log?: (line: string) => void;
}

export type ReachedBackupResult = BackupRunResult & { reach: LearntReach };

/** One run with one way of reaching us; a direct one that cannot connect back says what to do. */
async function runWith(
  options: BackupRunOptions,
  reach: LearntReach,
): Promise<{ result?: ReachedBackupResult; connectBackFailed?: PullbackError }> {
  let accepted = false;
  let progressed = false;
  try {
    const result = await runBackup({
      ...options,
      reach,
      onStage: (stage) => {
        if (stage === 'transferring') accepted = true;
        options.onStage?.(stage);
      },
      onProgress: (p) => {
        progressed = true;
        options.onProgress?.(p);
      },
    });
    return { result: { ...result, reach } };
  } catch (err) {
    if (reach === 'direct' && couldNotConnectBack(err, accepted, progressed))
      return { connectBackFailed: connectBackFailure(err) };
    throw err;
  }
}

export async function runBackupWithReach(
  options: BackupRunOptions,
  o: ReachOptions,
): Promise<ReachedBackupResult> {
  const reach = o.reach ?? 'auto';
  const host = options.host.name;
  const networkKey = o.networkKey ?? currentNetworkKey;
  const network = reach === 'auto' ? await networkKey() : undefined;
  const learnt = network === undefined ? undefined : recallReach(o.stateDir, host, network);
  const plan = planReach(reach, learnt);
  // The network is named again after the direct try: on a network just joined the gateway's
  // MAC may only be known once traffic went through it, and the next run will see it.
  const remember = async (what: LearntReach) => {
    if (!plan.probing) return;
    try {
      const after = await networkKey();
      if (after !== undefined) rememberReach(o.stateDir, host, after, what);
    } catch (err) {
      o.log?.(`host=${host} cannot remember how it reaches us: ${asPullbackError(err).toLine()}`);
    }
  };
  const first = await runWith(options, plan.first);
  if (first.result) {
    await remember(first.result.reach);
    return first.result;
  }
  if (!plan.probing) throw first.connectBackFailed!;
  o.log?.(`host=${host} cannot connect back on this network: using the tunnel`);
  await remember('tunnel');
  try {
    const { result } = await runWith(options, 'tunnel');
    return result!;
  } catch (err) {
    throw tunnelFallbackFailure(first.connectBackFailed!, err);
  }
}
