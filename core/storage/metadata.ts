import { z } from 'zod';

/** Which kind of pass made a snapshot (older snapshots do not say: they were full passes). */
export const passKindSchema = z.enum(['full', 'incremental', 'checksum']);
export type PassKind = z.infer<typeof passKindSchema>;

/** `<root>/<client>/snapshots/<id>.json`: what is known about one complete snapshot. */
export const snapshotMetaSchema = z
  .object({
    version: z.literal(1),
    id: z.string(),
    client: z.string(),
    startedAt: z.string().datetime(),
    finishedAt: z.string().datetime(),
    durationMs: z.number().int().min(0),
    sources: z.array(z.string()),
    /** sources the client had configured but found missing (unplugged disk), so skipped */
    missingSources: z.array(z.string()).optional(),
    excludes: z.array(z.string()),
    rsyncExit: z.number().int(),
    warnings: z.array(z.string()),
    /**
     * Entries rsync could not copy (exit 23): each is in this snapshot as it was in the previous
     * one, or absent when that had none. At most 1000 names; notCopiedCount is the full count.
     */
    notCopied: z.array(z.string()).optional(),
    notCopiedCount: z.number().int().min(0).optional(),
    stats: z
      .object({
        files: z.number().int().min(0).optional(),
        bytesTransferred: z.number().min(0).optional(),
        totalBytes: z.number().min(0).optional(),
      })
      .strict(),
    clientVersion: z.string().optional(),
    /** the clock when it was made, present only when that was before its id's time (the id was
     * moved past a newer one: a clock that was once ahead); retention goes by it */
    madeAt: z.string().datetime().optional(),
    backend: z.enum(['hardlink', 'btrfs']),
    /** how it was made: a full rsync pass, an incremental of listed changes, or a checksum pass */
    pass: passKindSchema.optional(),
  })
  .strict();

export type SnapshotMeta = z.infer<typeof snapshotMetaSchema>;

/** What the caller of promote() knows; the repository adds version, id, client and backend. */
export type SnapshotMetaInput = Omit<
  SnapshotMeta,
  | 'version'
  | 'id'
  | 'client'
  | 'backend'
  | 'clientVersion'
  | 'notCopied'
  | 'notCopiedCount'
  | 'madeAt'
> & {
  clientVersion?: string | undefined;
  /** what rsync said it could not copy (client paths); promote() puts those entries back */
  notCopied?: readonly string[] | undefined;
};

export interface SnapshotInfo {
  id: string;
  /** absolute path of the snapshot directory */
  path: string;
  meta: SnapshotMeta;
}
