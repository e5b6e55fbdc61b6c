import { REACH_VALUES } from '../config/client-schema.js';
import { PullbackError, asPullbackError } from '../errors.js';
import {
  runBackup,
  type BackupRunOptions,
  type BackupRunResult,
} from '../handoff/backup-client.js';
import { currentNetworkKey } from '../network/network-key.js';
import { recallReach, rememberReach, type LearntReach } from './reach-memory.js';

/**
 * How a backup host reaches this machine's one-shot sshd: `direct` (it connects back to the
 * address the handoff came from), `tunnel` (the pull comes back inside our own handoff
 * connection, for NAT and offsite hosts), or `auto`: direct when the backup host can connect
 * back, else the tunnel, remembered per network so the next run there does not wait.
 */
export { REACH_VALUES };
export type Reach = (typeof REACH_VALUES)[number];

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

/**
 * The backup host accepted the run but its ssh could not reach our one-shot: the pull never
 * started. (A cut later in the run has shown progress first.)
 */
function couldNotConnectBack(err: unknown, accepted: boolean, progressed: boolean): boolean {
  return accepted && !progressed && asPullbackError(err).code === 'UNREACHABLE';
}

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
    if (reach === 'direct' && couldNotConnectBack(err, accepted, progressed)) {
      const why = asPullbackError(err).message;
      return {
        connectBackFailed: new PullbackError(
          'UNREACHABLE',
          `the backup host could not connect back to this machine (${why}); behind NAT or a firewall? --reach tunnel brings the pull through this machine's own connection`,
          { cause: err },
        ),
      };
    }
    throw err;
  }
}

export async function runBackupWithReach(
  options: BackupRunOptions,
  o: ReachOptions,
): Promise<ReachedBackupResult> {
  const reach = o.reach ?? 'auto';
  if (reach !== 'auto') {
    const { result, connectBackFailed } = await runWith(options, reach);
    if (connectBackFailed) throw connectBackFailed;
    return result!;
  }
  const host = options.host.name;
  const network = await (o.networkKey ?? currentNetworkKey)();
  const remember = (learnt: LearntReach) => {
    if (network === undefined) return;
    try {
      rememberReach(o.stateDir, host, network, learnt);
    } catch (err) {
      o.log?.(`host=${host} cannot remember how it reaches us: ${asPullbackError(err).toLine()}`);
    }
  };
  if (network !== undefined && recallReach(o.stateDir, host, network) === 'tunnel') {
    const { result } = await runWith(options, 'tunnel');
    return result!;
  }
  const direct = await runWith(options, 'direct');
  if (direct.result) {
    remember('direct');
    return direct.result;
  }
  o.log?.(`host=${host} cannot connect back on this network: using the tunnel`);
  remember('tunnel');
  const { result } = await runWith(options, 'tunnel');
  return result!;
}
