import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PullbackError, asPullbackError } from '../errors.js';
import { retentionFor } from '../server/server-config.js';
import { PROTOCOL_VERSION, type BackupRequest, type PassKind } from './messages.js';
import { acceptedIncremental, nothingChanged } from './backup-pass.js';
import { applyIncrementalChanges, keepTreeRootTimes } from '../storage/incremental-changes.js';
import { forgetStoredAcls, storedAclHolders } from '../storage/stored-acls.js';
import { normaliseTree } from '../gate/trees.js';
import type { PullOutcome } from '../pull/run-pull.js';
import type { SshConnectionInfo } from './ssh-connection.js';
import type { ServeContext } from './serve-context.js';
import { pullControlPath, pullTrees } from '../pull/pull-trees.js';
import { openSshMaster, type SshMaster } from '../pull/ssh-master.js';
import { NO_PROGRESS, transferProgress, type TransferProgress } from '../pull/progress.js';
import type { Lock } from '../storage/lock.js';
import { pruneRepository } from '../storage/prune.js';
import { acquireRunSlot } from '../server/parallel-slots.js';
import { writeLastRun, type LastRun } from '../server/last-run.js';
import { quotaProblem } from '../server/quota.js';
import { killOrphanedReceivers } from '../server/orphaned-receivers.js';
import { discardIncomplete } from '../server/discard-incomplete.js';
import { knownHostsLine } from '../ssh/hostkey-pin.js';
import type { TunnelRelay } from '../tunnel/relay.js';
import { pullbackCommand } from '../self-command.js';
import {
  cleanStaleOneShotDirs,
  createOneShotDir,
  defaultRuntimeBase,
  makeOneShotDir,
  writeSecretFile,
} from '../ssh/oneshot.js';

const PROGRESS_INTERVAL_MS = 250;
/** tunnel mode connects to no port: ssh only needs one to name H's known_hosts line */
const TUNNEL_PORT = 22;

/** Writes K and H's known_hosts line into a fresh 0700 directory; removed after the run (S9). */
function writeOneTimeSecrets(request: BackupRequest, connection: SshConnectionInfo) {
  const base = defaultRuntimeBase();
  cleanStaleOneShotDirs(base);
  const dir = makeOneShotDir(base);
  createOneShotDir(dir);
  const identityFile = join(dir, 'key');
  const key = request.privateKey.endsWith('\n') ? request.privateKey : request.privateKey + '\n';
  writeSecretFile(identityFile, key);
  const knownHostsFile = join(dir, 'known_hosts');
  writeSecretFile(
    knownHostsFile,
    knownHostsLine(connection.clientAddress, request.port ?? TUNNEL_PORT, request.hostKey) + '\n',
  );
  return { dir, identityFile, knownHostsFile };
}

/** Tunnel mode (core/tunnel/): the relay the client's second channel and the pull's ssh meet in. */
async function openRelayFor(ctx: ServeContext, dir: string): Promise<TunnelRelay> {
  const { openTunnelRelay } = await import('../tunnel/relay.js');
  return openTunnelRelay({
    dir,
    client: ctx.client,
    connection: ctx.connection.id,
    signal: ctx.signal,
  });
}

function tunnelProxyCommand(pullSocket: string): string[] {
  return pullbackCommand('tunnel-proxy', pullSocket);
}

/**
 * One backup: the client's lock (a second run of the same client is BUSY at once), then one of
 * the host's maxParallel run slots (BUSY with a retry hint beyond it), the pull into
 * .incomplete, promotion, and retention. Every run that got its turn (lock and slot) is
 * recorded in .last-run.json, failed and cancelled ones too, for `pullback server status`.
 * A client over its quota is refused before anything is pulled.
 */
export async function serveBackup(request: BackupRequest, ctx: ServeContext): Promise<void> {
  const { repo, config, connection, send } = ctx;
  if ((request.port === undefined) === (request.tunnel === undefined))
    throw new PullbackError(
      'BAD_REQUEST',
      'request: a backup names either the one-shot\'s port (direct) or "tunnel": true, not both or neither',
    );
  const lock = await repo.acquireLock();
  const startedAt = new Date();
  let slot: Lock | undefined;
  let secrets: ReturnType<typeof writeOneTimeSecrets> | undefined;
  let tunnel: TunnelRelay | undefined;
  let master: Promise<SshMaster> | undefined;
  let overQuota = false;
  // ctx.signal: the client going away (cancel, crash, link cut, EPIPE) or serve told to stop
  ctx.input.resume(); // so that the end of input (the client's "stop") is seen
  try {
    slot = await acquireRunSlot(config.storage, config.maxParallel);
    const quota = quotaProblem(repo.dir, repo.backend, ctx.client, config.clients[ctx.client]);
    if (quota) {
      overQuota = true;
      throw new PullbackError('NO_SPACE', quota);
    }
    ctx.signal.throwIfAborted();
    secrets = writeOneTimeSecrets(request, connection);
    // A receiver left running by a serve killed with SIGKILL must not write alongside ours.
    const orphans = await killOrphanedReceivers(join(repo.dir, '.incomplete') + '/');
    if (orphans.length) ctx.log(`killed orphaned rsync receiver(s) ${orphans.join(', ')}`);
    const newest = await repo.latest();
    const incremental = acceptedIncremental(request, newest);
    if (incremental && newest && nothingChanged(incremental)) {
      // Nothing changed: no new tree and no pull; the run is recorded, pointing at the newest.
      send({
        v: PROTOCOL_VERSION,
        type: 'accepted',
        resumed: false,
        connectTo: connection.clientAddress,
        pass: 'incremental',
        newest: newest.id,
      });
      const finishedAt = new Date();
      const durationMs = finishedAt.getTime() - startedAt.getTime();
      await recordRun(ctx, { result: 'success', startedAt, finishedAt, snapshot: newest.id });
      send({
        v: PROTOCOL_VERSION,
        type: 'done',
        snapshot: newest.id,
        stats: { files: 0, bytesTransferred: 0, durationMs },
        warnings: [],
        pass: 'incremental',
        unchanged: true,
        allCopied: true,
      });
      return;
    }
    const remote = {
      user: request.user,
      host: connection.clientAddress,
      port: request.port ?? TUNNEL_PORT,
      identityFile: secrets.identityFile,
      knownHostsFile: secrets.knownHostsFile,
      bindAddress: connection.serverAddress,
    };
    // Direct mode: the ssh connection to the client's one-shot (already listening) comes up
    // while the run directory is readied (a hardlink clone takes a link per entry). Tunnel
    // mode connects through the relay, which the client joins only after "accepted".
    if (!request.tunnel && !(incremental && incremental.trees.every((t) => !t.changed.length))) {
      master = openSshMaster(remote, pullControlPath(secrets.dir), { signal: ctx.signal });
      master.catch(() => {}); // its failure is the pull's to report (or nobody's, after an error)
    }
    const run = await repo.prepareRun({ clone: incremental !== undefined });
    const pass: PassKind = run.cloned ? 'incremental' : (request.pass ?? 'full');
    let listedTrees: string[] | undefined;
    let restoreRootTimes = async () => {};
    // btrfs full pass: rsync rewrites files inside the previous snapshot's copy (stored-acls.ts)
    if (run.inplace && !run.cloned) forgetStoredAcls(storedAclHolders(run.dest));
    if (run.cloned && incremental) {
      const changes = incremental.trees.map((t) => ({ ...t, tree: normaliseTree(t.tree) }));
      restoreRootTimes = await keepTreeRootTimes(run.dest, changes);
      const applied = await applyIncrementalChanges(run.dest, changes, run.cloned.sharesInodes);
      ctx.log(`incremental: ${applied.deleted} deleted, ${applied.unlinked} unlinked in the clone`);
      listedTrees = incremental.trees
        .filter((t) => t.changed.length > 0)
        .map((t) => normaliseTree(t.tree));
    }
    if (request.tunnel) tunnel = await openRelayFor(ctx, secrets.dir);
    send({
      v: PROTOCOL_VERSION,
      type: 'accepted',
      resumed: run.resumed,
      connectTo: connection.clientAddress,
      pass,
      ...(newest ? { newest: newest.id } : {}),
      ...(tunnel ? { tunnel: tunnel.ticket } : {}),
    });
    if (tunnel) await tunnel.joined;
    const limits = [request.options.bwlimitKiB, config.clients[ctx.client]?.bwlimitKiB].filter(
      (n): n is number => typeof n === 'number' && n > 0,
    );
    const pull = {
      remote: tunnel ? { ...remote, proxyCommand: tunnelProxyCommand(tunnel.pullSocket) } : remote,
      sources: request.sources,
      excludes: request.excludes,
      dest: run.dest,
      linkDest: run.linkDest,
      ...(run.copyDest !== undefined ? { copyDest: run.copyDest } : {}),
      ...(listedTrees ? { listedTrees } : {}),
      ...(pass === 'checksum' ? { checksum: true } : {}),
      inplace: run.inplace,
      partialDir: run.partialDir,
      bwlimitKiB: limits.length ? Math.min(...limits) : undefined,
      controlDir: secrets.dir,
      ...(master ? { master } : {}),
    };
    let lastProgressAt = 0;
    let shown: TransferProgress = NO_PROGRESS;
    const nothingToPull = listedTrees !== undefined && listedTrees.length === 0;
    const outcome: PullOutcome = nothingToPull
      ? { exitCode: 0, meaning: 'ok', warnings: [], notCopied: [], stats: {} }
      : await pullTrees(pull, {
          signal: ctx.signal,
          onProgress: (p) => {
            shown = transferProgress(p, shown);
            const now = Date.now();
            if (now - lastProgressAt < PROGRESS_INTERVAL_MS) return;
            lastProgressAt = now;
            send({ v: PROTOCOL_VERSION, type: 'progress', ...shown });
          },
        });
    if (outcome.error) throw outcome.error;
    await restoreRootTimes();
    const finishedAt = new Date();
    const durationMs = finishedAt.getTime() - startedAt.getTime();
    const info = await repo.promote({
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs,
      sources: request.sources,
      ...(request.missingSources?.length ? { missingSources: request.missingSources } : {}),
      excludes: request.excludes,
      rsyncExit: outcome.exitCode,
      warnings: outcome.warnings,
      notCopied: outcome.notCopied,
      stats: outcome.stats,
      clientVersion: request.clientVersion,
      pass,
    });
    await recordRun(ctx, { result: 'success', startedAt, finishedAt, snapshot: info.id });
    send({
      v: PROTOCOL_VERSION,
      type: 'done',
      snapshot: info.id,
      stats: { ...outcome.stats, durationMs },
      warnings: outcome.warnings,
      pass,
      allCopied:
        outcome.notCopied.length === 0 &&
        (outcome.exitCode === 0 || outcome.meaning === 'vanished'),
    });
    // Retention after each success, still under the lock. Its failure does not undo the
    // backup: it is logged, and the next run or the prune timer tries again.
    try {
      const pruned = await pruneRepository(repo, retentionFor(config, ctx.client), {
        lockHeld: true,
      });
      if (pruned.removed.length) ctx.log(`retention removed ${pruned.removed.join(', ')}`);
    } catch (err) {
      ctx.log(`retention failed: ${asPullbackError(err).toLine()}`);
    }
  } catch (err) {
    // Once the client is gone (or serve is told to stop), what broke is the cancel's doing.
    const cancelled = ctx.signal.aborted || asPullbackError(err).code === 'CANCELLED';
    const error = asPullbackError(cancelled && ctx.signal.aborted ? ctx.signal.reason : err);
    if (error.code === 'NO_SPACE' && !overQuota) {
      try {
        if (await discardIncomplete(repo)) ctx.log('removed .incomplete to free the space it took');
      } catch (cleanupError) {
        ctx.log(`could not remove .incomplete: ${asPullbackError(cleanupError).toLine()}`);
      }
    }
    // BUSY for want of a slot is no run of this client: only real runs are recorded.
    if (slot)
      await recordRun(ctx, {
        result: cancelled ? 'cancelled' : 'failed',
        startedAt,
        finishedAt: new Date(),
        error,
      });
    throw error;
  } finally {
    tunnel?.close();
    await master?.then(
      (m) => m.close(),
      () => {},
    );
    if (secrets) rmSync(secrets.dir, { recursive: true, force: true });
    await slot?.release();
    await lock.release();
  }
}

async function recordRun(
  ctx: ServeContext,
  run: {
    result: LastRun['result'];
    startedAt: Date;
    finishedAt: Date;
    snapshot?: string;
    error?: PullbackError;
  },
): Promise<void> {
  try {
    await writeLastRun(ctx.repo.dir, {
      result: run.result,
      startedAt: run.startedAt.toISOString(),
      finishedAt: run.finishedAt.toISOString(),
      durationMs: Math.max(0, run.finishedAt.getTime() - run.startedAt.getTime()),
      ...(run.snapshot ? { snapshot: run.snapshot } : {}),
      ...(run.error ? { code: run.error.code, message: run.error.message } : {}),
    });
  } catch (err) {
    // A full disk may refuse even this small file; the run's own outcome matters more.
    ctx.log(`could not record the run: ${asPullbackError(err).toLine()}`);
  }
}
