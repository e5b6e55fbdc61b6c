import type { SnapshotInfo } from '../storage/metadata.js';
import type { BackupRequest, IncrementalRequest } from './messages.js';

/*
 * The backup host's part of choosing the pass. The client offers an incremental (its change
 * list against the snapshot its index describes); the host takes it only when that snapshot is
 * its newest and was made from the same sources and excludes. Anything else is a full pass:
 * the client's schedule or --full, an index of an older snapshot (retention removed the newer
 * one's basis, another run came between), changed sources. An interrupted run is resumed, and
 * a resume is always a full pass (repository.prepareRun decides that).
 */

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The incremental to make, or undefined for a full pass. */
export function acceptedIncremental(
  request: BackupRequest,
  newest: SnapshotInfo | undefined,
): IncrementalRequest | undefined {
  const inc = request.incremental;
  if (!inc || request.pass || !newest || newest.id !== inc.basis) return undefined;
  if (!sameList(newest.meta.sources, request.sources)) return undefined;
  if (!sameList(newest.meta.excludes, request.excludes)) return undefined;
  if (!sameList(newest.meta.missingSources ?? [], request.missingSources ?? [])) return undefined;
  return inc;
}

export function nothingChanged(inc: IncrementalRequest): boolean {
  return inc.trees.every((t) => t.changed.length === 0 && t.deleted.length === 0);
}
