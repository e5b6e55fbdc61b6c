import type { ClientRepository } from '../storage/repository.js';
import { PROTOCOL_VERSION, type SnapshotSummary } from './messages.js';
import type { ServeContext } from './serve-context.js';

/** `list`: this client's own complete snapshots, oldest first (read-only). */
export async function serveList(ctx: ServeContext): Promise<void> {
  ctx.send({ v: PROTOCOL_VERSION, type: 'snapshots', snapshots: await summarise(ctx.repo) });
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
    ...(meta.pass ? { pass: meta.pass } : {}),
  }));
}
