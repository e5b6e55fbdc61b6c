import { PullbackError } from '../errors.js';
import type { ClientConfig, HostConfig } from '../config/client-schema.js';
import { PULLBACK_VERSION } from '../version.js';
import { effectiveExcludes } from '../config/backup-excludes.js';
import { sourceIsMissing } from '../config/sources.js';
import { generateKeyPair } from '../ssh/keys.js';
import { connectToBackupHost, type HandoffConnection } from './connect.js';
import { exchange } from './exchange.js';
import { carryPullThroughTunnel } from '../tunnel/client-tunnel.js';
import type { OneShotLauncher } from './oneshot-launcher.js';
import { planBackup, type BackupPlan } from '../change-index/plan.js';
import { removeChangeIndex, writeChangeIndex } from '../change-index/index-file.js';
import {
  MAX_REQUEST_BYTES,
  PROTOCOL_VERSION,
  type BackupRequest,
  type PassKind,
  type DoneMessage,
  type HandoffResponse,
  type ProgressMessage,
  type SnapshotSummary,
} from './messages.js';

/** The whole run may take this long before the one-shot tree is killed (large first backups). */
export const DEFAULT_RUN_DEADLINE_MS = 24 * 60 * 60 * 1000;

export interface BackupRunOptions {
  config: Pick<ClientConfig, 'sources' | 'excludes'> &
    Partial<Pick<ClientConfig, 'excludePresets' | 'mode' | 'fullPass'>>;
  /**
   * This backup host's change index (core/change-index/): with it a run sends only what changed
   * since the snapshot it describes; without it every run is a full pass and no index is kept.
   */
  indexFile?: string;
  /** `pullback backup --full`: a full pass whatever the index says */
  full?: boolean;
  host: HostConfig;
  identityKey: string;
  launcher: OneShotLauncher;
  onProgress?: (progress: ProgressMessage) => void;
  onStage?: (stage: 'connecting' | 'starting-oneshot' | 'requesting' | 'transferring') => void;
  signal?: AbortSignal;
  deadlineMs?: number;
  /** how the backup host reaches our one-shot: connecting back (default) or through a tunnel */
  reach?: 'direct' | 'tunnel';
}

export interface BackupRunResult {
  host: string;
  snapshot: string;
  stats: DoneMessage['stats'];
  warnings: string[];
  /** configured sources that were not there (unplugged disk): skipped, and said so */
  missingSources: string[];
  /** the kind of pass the backup host made */
  pass: PassKind;
  /** nothing had changed: `snapshot` is the unchanged newest one */
  unchanged: boolean;
  /** why this run was a full pass on the client's side (no index, schedule, --full, …) */
  fullBecause?: string;
  startedAt: string;
  finishedAt: string;
}

/** One connection to the backup host for `use`, closed after; `signal` stops the connecting. */
export async function withConnection<T>(
  host: HostConfig,
  identityKey: string,
  use: (conn: HandoffConnection) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  return useConnection(connectToBackupHost(host, identityKey, { signal }), use);
}

/** `use` the connection once it is up (it may be coming up meanwhile), and close it after. */
async function useConnection<T>(
  connecting: Promise<HandoffConnection>,
  use: (conn: HandoffConnection) => Promise<T>,
): Promise<T> {
  const conn = await connecting;
  try {
    return await use(conn);
  } finally {
    conn.close();
  }
}

/**
 * The backup host only ever reads `REFUSED` from our gate; why it refused stays here, in the
 * error this client logs and shows (core/gate/refusal-log.ts).
 */
function withGateReasons(err: unknown, reasons: string[]): unknown {
  if (reasons.length === 0) return err;
  const why = `this machine's gate refused the backup host's request: ${reasons.join('; ')}`;
  const message = err instanceof PullbackError ? `${err.message} (${why})` : why;
  return new PullbackError(err instanceof PullbackError ? err.code : 'REFUSED', message, {
    cause: err,
  });
}

/** One backup to one backup host: one-time keys, one-shot sshd, handoff, progress, done. */
export async function runBackup(options: BackupRunOptions): Promise<BackupRunResult> {
  const { config, host, identityKey, launcher, signal } = options;
  if (config.sources.length === 0) {
    throw new PullbackError(
      'BAD_CONFIG',
      'nothing to back up: no sources configured (pullback init --source DIR)',
    );
  }
  // An unplugged disk among several sources does not block the others: skip it, say so, and
  // let the backup host record it in the snapshot's metadata.
  const missingSources = config.sources.filter(sourceIsMissing);
  const sources = config.sources.filter((s) => !missingSources.includes(s));
  if (sources.length === 0) {
    throw new PullbackError(
      'BAD_CONFIG',
      `none of the sources is there (${missingSources.join(', ')}): a disk that is not mounted?`,
    );
  }
  const startedAt = new Date().toISOString();
  signal?.throwIfAborted();
  const excludes = effectiveExcludes(config);
  options.onStage?.('connecting');
  // the connection to the backup host comes up while the sources are scanned
  const connecting = connectToBackupHost(host, identityKey, { signal });
  connecting.catch(() => {}); // a failure is seen where it is awaited
  let plan: BackupPlan | undefined;
  try {
    plan = options.indexFile
      ? await planBackup({
          indexFile: options.indexFile,
          sources,
          excludes,
          forceFull: options.full,
          schedule: config.fullPass,
          senderReadsMore: config.mode === 'system',
        })
      : undefined;
  } catch (err) {
    void connecting.then(
      (c) => c.close(),
      () => {},
    );
    throw err;
  }
  return useConnection(connecting, async (conn) => {
    const clientKey = generateKeyPair('pullback-one-time-client');
    const hostKey = generateKeyPair('pullback-one-time-host');
    const tunnel = options.reach === 'tunnel';
    let tunnelFailure: unknown;
    options.onStage?.('starting-oneshot');
    const oneShot = await launcher({
      bindAddress: conn.localAddress,
      allowFrom: conn.remoteAddress,
      clientPublicKey: clientKey.publicKey,
      hostPrivateKey: hostKey.privateKey,
      sources,
      deadlineMs: options.deadlineMs ?? DEFAULT_RUN_DEADLINE_MS,
      ...(plan?.lists ? { lists: plan.lists } : {}),
      tunnel,
    });
    try {
      options.onStage?.('requesting');
      const request: BackupRequest = {
        v: PROTOCOL_VERSION,
        type: 'backup',
        ...(tunnel ? { tunnel: true as const } : { port: oneShot.port }),
        privateKey: clientKey.privateKey,
        hostKey: hostKey.publicKey,
        user: oneShot.user,
        sources,
        excludes,
        ...(missingSources.length ? { missingSources } : {}),
        options: host.bwlimitKiB ? { bwlimitKiB: host.bwlimitKiB } : {},
        clientVersion: PULLBACK_VERSION,
        ...passFields(plan, oneShot.listsWritten === true),
      };
      const final = await exchange(
        conn,
        fitsOneLine(request) ? request : { ...request, incremental: undefined, pass: 'full' },
        (response: HandoffResponse) => {
          if (response.type === 'accepted' && tunnel && response.tunnel)
            carryPullThroughTunnel(conn, response.tunnel, oneShot).catch(
              (err: unknown) => (tunnelFailure = err),
            );
          if (response.type === 'accepted') {
            options.onStage?.('transferring');
          }
          if (response.type === 'progress') options.onProgress?.(response);
        },
        signal,
      );
      if (final.type !== 'done')
        throw new PullbackError('PROTOCOL', `expected "done", got "${final.type}"`);
      if (plan && options.indexFile) keepIndex(options.indexFile, host.name, plan, final);
      return {
        host: host.name,
        snapshot: final.snapshot,
        stats: final.stats,
        warnings: [
          ...missingSources.map(
            (s) => `source ${s} is missing (not mounted?): not backed up this time`,
          ),
          ...final.warnings,
        ],
        missingSources,
        pass: final.pass ?? 'full',
        unchanged: final.unchanged === true,
        ...(plan?.fullBecause ? { fullBecause: plan.fullBecause } : {}),
        startedAt,
        finishedAt: new Date().toISOString(),
      };
    } catch (err) {
      await oneShot.stop();
      throw withGateReasons(tunnelFailure ?? err, await oneShot.gateRefusals());
    } finally {
      await oneShot.stop();
    }
  });
}

/** What the request says about the pass: a full one asked for, or the incremental's changes. */
function passFields(
  plan: BackupPlan | undefined,
  listsWritten: boolean,
): Pick<BackupRequest, 'pass' | 'incremental'> {
  if (!plan) return {};
  if (plan.pass) return { pass: plan.pass };
  // the lists could not reach the gate: a full pass
  if (!plan.incremental || !listsWritten) return { pass: 'full' };
  const { basis, trees } = plan.incremental;
  return { incremental: { basis, trees } };
}

function fitsOneLine(request: BackupRequest): boolean {
  return (
    request.incremental === undefined ||
    Buffer.byteLength(JSON.stringify(request)) < MAX_REQUEST_BYTES - 1024
  );
}

/**
 * After `done`: the scan becomes the index of the snapshot the host named, written atomically;
 * unless rsync could not copy everything (the snapshot then keeps older copies of some entries,
 * which the index would call current): the index is dropped, the next run is a full pass.
 */
function keepIndex(
  file: string,
  host: string,
  plan: BackupPlan,
  done: Extract<HandoffResponse, { type: 'done' }>,
): void {
  if (done.unchanged && plan.index?.header.snapshot === done.snapshot) return; // still true
  if (done.allCopied !== true) {
    removeChangeIndex(file);
    return;
  }
  const fullPass = done.pass !== 'incremental';
  writeChangeIndex(
    file,
    {
      host,
      snapshot: done.snapshot,
      sourcesKey: plan.sourcesKey,
      fullPassAt: fullPass || !plan.index ? new Date().toISOString() : plan.index.header.fullPassAt,
    },
    plan.scan.trees,
  );
}

/** Asks the backup host who we are to it: proves the key is accepted and the host key pinned. */
export async function helloBackupHost(host: HostConfig, identityKey: string) {
  return withConnection(host, identityKey, async (conn) => {
    const final = await exchange(conn, {
      v: PROTOCOL_VERSION,
      type: 'hello',
      clientVersion: PULLBACK_VERSION,
    });
    if (final.type !== 'welcome')
      throw new PullbackError('PROTOCOL', `expected "welcome", got "${final.type}"`);
    return final;
  });
}

/** The read-only list of our own snapshots on one backup host. */
export async function listRemoteSnapshots(
  host: HostConfig,
  identityKey: string,
  signal?: AbortSignal,
): Promise<SnapshotSummary[]> {
  return withConnection(
    host,
    identityKey,
    async (conn) => {
      const final = await exchange(conn, { v: PROTOCOL_VERSION, type: 'list' }, undefined, signal);
      if (final.type !== 'snapshots')
        throw new PullbackError('PROTOCOL', `expected "snapshots", got "${final.type}"`);
      return final.snapshots;
    },
    signal,
  );
}
