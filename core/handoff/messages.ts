import { z } from 'zod';
import { isIP } from 'node:net';
import { ERROR_CODES } from '../errors.js';
import { isSnapshotId } from '../storage/snapshot-id.js';
import { passKindSchema, type PassKind } from '../storage/metadata.js';
import { isValidClientName } from '../storage/client-name.js';
import {
  bwlimitKiBSchema,
  ed25519PublicKeySchema,
  excludePatternSchema,
  sourcePathSchema,
  unixUserNameSchema,
} from '../config/fields.js';

/**
 * The handoff wire protocol: JSON lines over one SSH exec channel.
 * The client sends exactly one request line; the server answers with one or more lines and
 * closes the channel. Every object is strict: unknown fields are an error, never ignored.
 */
export const PROTOCOL_VERSION = 1;
export const MAX_LINE_BYTES = 64 * 1024;
/** A backup request may carry an incremental's change list; bigger ones make the client go full. */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
export const REQUEST_READ_TIMEOUT_MS = 15_000;

const v = z.literal(PROTOCOL_VERSION);

const openSshPrivateKey = z
  .string()
  .max(8192)
  .regex(
    /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END OPENSSH PRIVATE KEY-----\n?$/,
    'must be an OpenSSH private key',
  );

export { passKindSchema, type PassKind };

/** A path below a tree, as the change index names it: relative, no "", "." or ".." component. */
const relativePath = z
  .string()
  .min(1)
  .max(4096)
  .refine(
    (p) =>
      p === '.' ||
      (!p.includes('\0') &&
        p.split('/').every((part) => part !== '' && part !== '.' && part !== '..')),
    'must be a relative path below the tree',
  );

/** An incremental's changes: the client's index describes `basis`, the host's newest snapshot. */
export const incrementalSchema = z
  .object({
    basis: z.string().refine(isSnapshotId, 'must be a snapshot id'),
    trees: z
      .array(
        z
          .object({
            tree: sourcePathSchema,
            changed: z.array(relativePath),
            deleted: z.array(relativePath.refine((p) => p !== '.', 'the tree itself')),
          })
          .strict(),
      )
      .max(256),
  })
  .strict();
export type IncrementalRequest = z.infer<typeof incrementalSchema>;

export const helloRequest = z
  .object({ v, type: z.literal('hello'), clientVersion: z.string().max(64) })
  .strict();

export const backupRequest = z
  .object({
    v,
    type: z.literal('backup'),
    /** the one-shot sshd's port on the client (direct mode; absent in tunnel mode) */
    port: z.number().int().min(1).max(65535).optional(),
    /** tunnel mode: the pull's SSH comes back through a second channel of this connection */
    tunnel: z.literal(true).optional(),
    /** the one-time client key K (private half): works for one connection only */
    privateKey: openSshPrivateKey,
    /** the one-shot sshd's host key H (public half), pinned by the backup host */
    hostKey: ed25519PublicKeySchema,
    /** the account the one-shot sshd lets in */
    user: unixUserNameSchema,
    sources: z.array(sourcePathSchema).min(1).max(256),
    /** configured sources the client found missing (unplugged disk) and skipped: metadata only */
    missingSources: z.array(sourcePathSchema).max(256).optional(),
    excludes: z.array(excludePatternSchema).max(1024),
    options: z
      .object({
        bwlimitKiB: bwlimitKiBSchema.optional(),
      })
      .strict(),
    clientVersion: z.string().max(64),
    /** a full pass the client's schedule (or --full) asks for; 'checksum' compares contents */
    pass: z.enum(['full', 'checksum']).optional(),
    /** the changes since the client's index; the host falls back to a full pass when it must */
    incremental: incrementalSchema.optional(),
  })
  .strict();

export const listRequest = z.object({ v, type: z.literal('list') }).strict();

/** A path of the client's, as it asks for it in its own snapshots (checked again by serve). */
const restorePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/') && !p.includes('\0'), 'must be an absolute path without NUL');
const snapshotRef = z
  .string()
  .refine((s) => s === 'latest' || isSnapshotId(s), 'must be a snapshot id or "latest"');

/** `ls`: one directory (or the one entry of a file) of one of our snapshots, as the source had it. */
export const lsRequest = z
  .object({ v, type: z.literal('ls'), snapshot: snapshotRef, path: restorePath })
  .strict();
/** `versions`: the distinct versions of one path across our snapshots. */
export const versionsRequest = z
  .object({ v, type: z.literal('versions'), path: restorePath })
  .strict();
/** `restore-plan`: which entries under a path the given reader could not have read (skipped). */
export const restorePlanRequest = z
  .object({
    v,
    type: z.literal('restore-plan'),
    snapshot: snapshotRef,
    path: restorePath,
    reader: z
      .object({
        uid: z.number().int().min(0).max(0xffffffff),
        gids: z.array(z.number().int().min(0).max(0xffffffff)).max(1024),
      })
      .strict(),
  })
  .strict();

/** The one-time tunnel a backup's `accepted` answer named: which run, and its secret. */
export const tunnelTicketSchema = z
  .object({
    id: z.string().regex(/^oneshot-[0-9a-f]{16}$/, 'must be a tunnel id'),
    token: z.string().regex(/^[0-9a-f]{64}$/, 'must be a tunnel token'),
  })
  .strict();

/** A second channel of the same connection asking to carry that run's pull (core/tunnel/). */
export const tunnelRequest = z
  .object({ v, type: z.literal('tunnel'), ticket: tunnelTicketSchema })
  .strict();

export const requestSchema = z.discriminatedUnion('type', [
  helloRequest,
  backupRequest,
  listRequest,
  lsRequest,
  versionsRequest,
  restorePlanRequest,
  tunnelRequest,
]);

export type HelloRequest = z.infer<typeof helloRequest>;
export type BackupRequest = z.infer<typeof backupRequest>;
export type ListRequest = z.infer<typeof listRequest>;
export type LsRequest = z.infer<typeof lsRequest>;
export type VersionsRequest = z.infer<typeof versionsRequest>;
export type RestorePlanRequest = z.infer<typeof restorePlanRequest>;
export type TunnelRequest = z.infer<typeof tunnelRequest>;
export type TunnelTicket = z.infer<typeof tunnelTicketSchema>;
export type HandoffRequest = z.infer<typeof requestSchema>;

const errorCode = z.string().refine((c) => Object.hasOwn(ERROR_CODES, c), 'unknown error code');
/** What the backup host sends is checked as strictly as what it receives. */
const snapshotId = z.string().refine(isSnapshotId, 'must be a snapshot id');
const clientName = z.string().refine(isValidClientName, 'must be a client name');
const version = z.string().regex(/^[0-9A-Za-z.+~-]{1,64}$/, 'must be a version');
const timestamp = z.string().datetime();
const warning = z.string().max(4096);
const warnings = z.array(warning).max(1000);

export const snapshotSummarySchema = z
  .object({
    id: snapshotId,
    startedAt: timestamp,
    finishedAt: timestamp,
    durationMs: z.number().min(0),
    files: z.number().min(0).optional(),
    totalBytes: z.number().min(0).optional(),
    bytesTransferred: z.number().min(0).optional(),
    warnings,
    pass: passKindSchema.optional(),
  })
  .strict();

export const statsSchema = z
  .object({
    files: z.number().int().min(0).optional(),
    totalBytes: z.number().min(0).optional(),
    bytesTransferred: z.number().min(0).optional(),
    durationMs: z.number().min(0),
  })
  .strict();

const entryType = z.enum(['file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block']);
/** Names travel as base64 of their bytes: any byte but "/" and NUL, untouched by safe-text. */
const base64 = z
  .string()
  .max(8192)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

/** One entry of a snapshot, as the source had it (read from the --fake-super xattrs). */
export const storedEntrySchema = z
  .object({
    name: base64,
    type: entryType,
    mode: z.number().int().min(0).max(0o7777),
    uid: z.number().int().min(0),
    gid: z.number().int().min(0),
    size: z.number().int().min(0),
    mtime: timestamp,
    target: base64.optional(),
  })
  .strict();

export const fileVersionSchema = z
  .object({
    type: entryType,
    size: z.number().int().min(0),
    mtime: timestamp,
    snapshots: z.array(snapshotId).max(100_000),
  })
  .strict();

export const responseSchema = z.discriminatedUnion('type', [
  z
    .object({
      v,
      type: z.literal('welcome'),
      client: clientName,
      serverVersion: version,
      snapshots: z.number().int().min(0),
      lastSnapshot: snapshotId.optional(),
    })
    .strict(),
  z
    .object({
      v,
      type: z.literal('accepted'),
      resumed: z.boolean(),
      connectTo: z.string().refine((a) => isIP(a) !== 0, 'must be an IP address'),
      /** the pass this run makes, and the newest snapshot it starts from */
      pass: passKindSchema.optional(),
      newest: snapshotId.optional(),
      /** tunnel mode: open the tunnel with this (core/tunnel/) */
      tunnel: tunnelTicketSchema.optional(),
    })
    .strict(),
  /** the tunnel channel is open: from here on it carries the pull's SSH bytes, nothing else */
  z.object({ v, type: z.literal('tunnel-open') }).strict(),
  z
    .object({
      v,
      type: z.literal('progress'),
      bytes: z.number().min(0),
      percent: z.number().min(0).max(100),
      bytesPerSecond: z.number().min(0),
      etaSeconds: z.number().min(0).nullable(),
      files: z.number().int().min(0),
      filesTotal: z.number().int().min(0).optional(),
    })
    .strict(),
  z
    .object({
      v,
      type: z.literal('done'),
      snapshot: snapshotId,
      stats: statsSchema,
      warnings,
      pass: passKindSchema.optional(),
      /** nothing had changed: no new snapshot, `snapshot` is the unchanged newest one */
      unchanged: z.boolean().optional(),
      /** rsync copied everything it was asked to (a change index may describe this snapshot) */
      allCopied: z.boolean().optional(),
    })
    .strict(),
  z.object({ v, type: z.literal('snapshots'), snapshots: z.array(snapshotSummarySchema) }).strict(),
  /** `ls`: entries come in batches (a line is at most MAX_LINE_BYTES), then `listed` */
  z.object({ v, type: z.literal('entries'), entries: z.array(storedEntrySchema) }).strict(),
  z
    .object({ v, type: z.literal('listed'), snapshot: snapshotId, self: storedEntrySchema })
    .strict(),
  z.object({ v, type: z.literal('versions'), versions: z.array(fileVersionSchema) }).strict(),
  /** `restore-plan`: the skipped entries' paths below the requested one come in batches, then `plan` */
  z.object({ v, type: z.literal('denied'), paths: z.array(base64) }).strict(),
  z
    .object({
      v,
      type: z.literal('plan'),
      snapshot: snapshotId,
      self: storedEntrySchema,
      /** the requested path itself could not have been read: nothing of it is restored */
      selfDenied: z.boolean(),
      /** entries skipped in all, those inside the denied directories included */
      skipped: z.number().int().min(0),
    })
    .strict(),
  z
    .object({ v, type: z.literal('error'), code: errorCode, message: z.string().max(4096) })
    .strict(),
]);

export type HandoffResponse = z.infer<typeof responseSchema>;
export type ProgressMessage = Extract<HandoffResponse, { type: 'progress' }>;
export type DoneMessage = Extract<HandoffResponse, { type: 'done' }>;
export type SnapshotSummary = z.infer<typeof snapshotSummarySchema>;
export type StoredEntry = z.infer<typeof storedEntrySchema>;
export type FileVersionMessage = z.infer<typeof fileVersionSchema>;

export function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}
