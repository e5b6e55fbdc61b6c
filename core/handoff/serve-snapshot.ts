import { PullbackError } from '../errors.js';
import type { ClientRepository } from '../storage/repository.js';
import type { SnapshotInfo } from '../storage/metadata.js';

/** One of this client's complete snapshots, by id or "latest"; NOT_FOUND otherwise. */
export async function findSnapshot(repo: ClientRepository, ref: string): Promise<SnapshotInfo> {
  const snapshots = await repo.listSnapshots();
  const found =
    ref === 'latest' ? snapshots[snapshots.length - 1] : snapshots.find((s) => s.id === ref);
  if (!found)
    throw new PullbackError(
      'NOT_FOUND',
      ref === 'latest' ? 'there is no snapshot yet' : `there is no snapshot ${ref}`,
    );
  return found;
}

/** Sends items in as few lines as fit the protocol's line limit. */
export function inBatches<T>(
  items: readonly T[],
  send: (batch: T[]) => void,
  maxBytes = 48 * 1024,
): void {
  let batch: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = JSON.stringify(item).length + 1;
    if (batch.length > 0 && size + bytes > maxBytes) {
      send(batch);
      batch = [];
      size = 0;
    }
    batch.push(item);
    size += bytes;
  }
  if (batch.length > 0) send(batch);
}
