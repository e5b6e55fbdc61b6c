import type { Readable, Writable } from 'node:stream';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PullbackError, asPullbackError } from '../errors.js';
import { retentionFor } from '../server/server-config.js';
import { readServerConfig } from '../config/server-store.js';
import type { ServerConfig } from '../config/server-schema.js';
import { zodToPullbackError } from '../config/zod-error.js';
import { PULLBACK_VERSION } from '../version.js';
import { parseSshConnection, type SshConnectionInfo } from './ssh-connection.js';
import { readOneLine } from './lines.js';
import {
  PROTOCOL_VERSION,
  REQUEST_READ_TIMEOUT_MS,
  requestSchema,
  type BackupRequest,
  type HandoffResponse,
  type SnapshotSummary,
} from './messages.js';
import { openRepository, type ClientRepository } from '../storage/repository.js';
import { validateClientName } from '../storage/client-name.js';
import { buildPullArgv } from '../pull/rsync-argv.js';
import { runPull } from '../pull/run-pull.js';
import type { Lock } from '../storage/lock.js';
import { pruneRepository } from '../storage/prune.js';
import { acquireRunSlot } from '../server/parallel-slots.js';
import { writeLastRun } from '../server/last-run.js';
import { killOrphanedReceivers } from '../server/orphaned-receivers.js';
import { discardIncomplete } from '../server/discard-incomplete.js';
import { knownHostsLine } from '../ssh/hostkey-pin.js';
import {
  cleanStaleOneShotDirs,
  createOneShotDir,
  defaultRuntimeBase,
  makeOneShotDir,
  writeSecretFile,
} from '../ssh/oneshot.js';

/**
 * `pullback serve --client NAME`: the forced command of one client's key on the backup host.
 * The client's identity is NAME (from the key it logged in with), never anything it says (S7).
 * It reads one request, and for a backup connects back only to the address this very SSH
 * connection came from (S8), pinning the one-time host key H (S5).
 */
export interface ServeOptions {
  client: string;
  configFile: string;
  input: Readable;
  output: Writable;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

const PROGRESS_INTERVAL_MS = 250;

export async function serve(options: ServeOptions): Promise<number> {
  const send = (message: HandoffResponse) => options.output.write(JSON.stringify(message) + '\n');
  try {
    validateClientName(options.client);
    const connection = parseSshConnection((options.env ?? process.env).SSH_CONNECTION);
    const line = await readOneLine(options.input, REQUEST_READ_TIMEOUT_MS);
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new PullbackError('BAD_REQUEST', 'the request is not valid JSON');
    }
    if (json && typeof json === 'object' && 'v' in json && json.v !== PROTOCOL_VERSION) {
      throw new PullbackError(
        'BAD_REQUEST',
        `protocol version ${String(json.v)} is not supported (this backup host speaks ${PROTOCOL_VERSION})`,
      );
    }
    const parsed = requestSchema.safeParse(json);
    if (!parsed.success) throw zodToPullbackError('BAD_REQUEST', 'request', parsed.error);
    const request = parsed.data;
    const config = readServerConfig(options.configFile);
    const repo = openRepository(config.storage, options.client, { backend: config.backend });
    if (request.type === 'hello') {
      const snapshots = await repo.listSnapshots();
      send({
        v: PROTOCOL_VERSION,
        type: 'welcome',
        client: options.client,
        serverVersion: PULLBACK_VERSION,
        snapshots: snapshots.length,
        ...(snapshots.length ? { lastSnapshot: snapshots[snapshots.length - 1]!.id } : {}),
      });
      return 0;
    }
    if (request.type === 'list') {
      send({ v: PROTOCOL_VERSION, type: 'snapshots', snapshots: await summarise(repo) });
      return 0;
    }
    await serveBackup(request, {
      repo,
      config,
      connection,
      client: options.client,
      input: options.input,
      send,
      log: options.log ?? (() => {}),
    });
    return 0;
  } catch (err) {
    const error = asPullbackError(err);
    send({ v: PROTOCOL_VERSION, type: 'error', code: error.code, message: error.message });
    options.log?.(error.toLine());
    return error.code === 'BAD_REQUEST' || error.code === 'BAD_ARGS' ? 2 : 1;
  }
}

async function summarise(repo: ClientRepository): Promise<SnapshotSummary[]> {
  return (await repo.listSnapshots()).map(({ id, meta }) => ({
    id,
    startedAt: meta.startedAt,
    finishedAt: meta.finishedAt,
    durationMs: meta.durationMs,
    files: meta.stats.files,
    totalBytes: meta.stats.totalBytes,
    bytesTransferred: meta.stats.bytesTransferred,
    warnings: meta.warnings,
  }));
}

interface BackupContext {
  repo: ClientRepository;
  config: ServerConfig;
  connection: SshConnectionInfo;
  client: string;
  input: Readable;
  send: (message: HandoffResponse) => void;
  log: (line: string) => void;
}

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
    knownHostsLine(connection.clientAddress, request.port, request.hostKey) + '\n',
  );
  return { dir, identityFile, knownHostsFile };
}

/**
 * One backup: the client's lock (a second run of the same client is BUSY at once), then one of
 * the host's maxParallel run slots (BUSY with a retry hint beyond it), the pull into
 * .incomplete, promotion, and retention. Every run that got its turn (lock and slot) is
 * recorded in .last-run.json, failed ones too, for `pullback server status`.
 */
async function serveBackup(request: BackupRequest, ctx: BackupContext): Promise<void> {
  const { repo, config, connection, send } = ctx;
  const lock = await repo.acquireLock();
  const startedAt = new Date();
  let slot: Lock | undefined;
  let secrets: ReturnType<typeof writeOneTimeSecrets> | undefined;
  const abort = new AbortController();
  // The client closing the handoff (cancel, crash, link cut) stops the pull.
  const onGone = () => abort.abort();
  ctx.input.once('end', onGone);
  ctx.input.once('close', onGone);
  ctx.input.resume();
  try {
    slot = await acquireRunSlot(config.storage, config.maxParallel);
    secrets = writeOneTimeSecrets(request, connection);
    // A receiver left running by a serve killed with SIGKILL must not write alongside ours.
    const orphans = await killOrphanedReceivers(join(repo.dir, '.incomplete') + '/');
    if (orphans.length) ctx.log(`killed orphaned rsync receiver(s) ${orphans.join(', ')}`);
    const run = await repo.prepareRun();
    send({
      v: PROTOCOL_VERSION,
      type: 'accepted',
      resumed: run.resumed,
      connectTo: connection.clientAddress,
    });
    const limits = [request.options.bwlimitKiB, config.clients[ctx.client]?.bwlimitKiB].filter(
      (n): n is number => typeof n === 'number' && n > 0,
    );
    const argv = buildPullArgv({
      remote: {
        user: request.user,
        host: connection.clientAddress,
        port: request.port,
        identityFile: secrets.identityFile,
        knownHostsFile: secrets.knownHostsFile,
        bindAddress: connection.serverAddress,
      },
      sources: request.sources,
      excludes: request.excludes,
      dest: run.dest,
      linkDest: run.linkDest,
      inplace: run.inplace,
      bwlimitKiB: limits.length ? Math.min(...limits) : undefined,
    });
    let lastProgressAt = 0;
    const outcome = await runPull(argv, {
      signal: abort.signal,
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastProgressAt < PROGRESS_INTERVAL_MS) return;
        lastProgressAt = now;
        send({
          v: PROTOCOL_VERSION,
          type: 'progress',
          bytes: p.bytes,
          percent: Math.min(100, Math.max(0, p.percent)),
          bytesPerSecond: p.bytesPerSecond,
          etaSeconds: p.etaSeconds,
          files: p.filesTransferred ?? 0,
          ...(p.filesTotal !== undefined ? { filesTotal: p.filesTotal } : {}),
        });
      },
    });
    if (outcome.error) throw outcome.error;
    const finishedAt = new Date();
    const durationMs = finishedAt.getTime() - startedAt.getTime();
    const info = await repo.promote({
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs,
      sources: request.sources,
      excludes: request.excludes,
      rsyncExit: outcome.exitCode,
      warnings: outcome.warnings,
      stats: outcome.stats,
      clientVersion: request.clientVersion,
    });
    await recordRun(ctx, { result: 'success', startedAt, finishedAt, snapshot: info.id });
    send({
      v: PROTOCOL_VERSION,
      type: 'done',
      snapshot: info.id,
      stats: { ...outcome.stats, durationMs },
      warnings: outcome.warnings,
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
    const error = asPullbackError(err);
    if (error.code === 'NO_SPACE') {
      try {
        if (await discardIncomplete(repo)) ctx.log('removed .incomplete to free the space it took');
      } catch (cleanupError) {
        ctx.log(`could not remove .incomplete: ${asPullbackError(cleanupError).toLine()}`);
      }
    }
    // BUSY for want of a slot is no run of this client: only real runs are recorded.
    if (slot) await recordRun(ctx, { result: 'failed', startedAt, finishedAt: new Date(), error });
    throw error;
  } finally {
    ctx.input.off('end', onGone);
    ctx.input.off('close', onGone);
    if (secrets) rmSync(secrets.dir, { recursive: true, force: true });
    await slot?.release();
    await lock.release();
  }
}

async function recordRun(
  ctx: BackupContext,
  run: {
    result: 'success' | 'failed';
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
