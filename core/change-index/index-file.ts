import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { clientStateDir } from '../config/paths.js';
import { sourceTrees } from '../gate/trees.js';
import { isSnapshotId } from '../storage/snapshot-id.js';
import type { TreeScan } from './scan.js';

/*
 * The change index of one backup host: what the sources were when the snapshot it names was
 * made. One file per host in the state directory, 0600 in a 0700 directory:
 *
 *   {"format":"pullback-change-index",…header…}\n
 *   /\0<tree>\0<rel>\0<fields>\0<rel>\0<fields>\0…/\0<tree>\0…
 *
 * NUL separates (no path holds one), "/" (never a relative path) starts a tree; the header carries the body's length and sha256, so a
 * damaged or cut file is found and ignored (the run falls back to a full pass). Version 2: the
 * fields as find(1) prints them (scan.ts); an index of version 1 reads as damaged (a full pass).
 */

const FORMAT = 'pullback-change-index';
const TREE_MARK = '/';

const headerSchema = z
  .object({
    format: z.literal(FORMAT),
    version: z.literal(2),
    host: z.string(),
    snapshot: z.string().refine(isSnapshotId),
    /** sha256 of the trees and excludes the scan was made with */
    sourcesKey: z.string().regex(/^[0-9a-f]{64}$/),
    /** when the last full (or checksum) pass ended: the schedule counts from here */
    fullPassAt: z.string().datetime(),
    entries: z.number().int().min(0),
    bytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

export type ChangeIndexHeader = z.infer<typeof headerSchema>;

/** One tree of the index, in the order the scan found its entries (paths and fields side by side). */
export interface IndexTree {
  tree: string;
  rels: string[];
  fields: string[];
}

export interface ChangeIndex {
  header: ChangeIndexHeader;
  trees: IndexTree[];
}

/** Where the index of `host` lives (host names are [A-Za-z0-9._-], see client-schema.ts). */
export function changeIndexFile(host: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(clientStateDir(env), 'change-index', `${host}.idx`);
}

/** What a scan depends on besides the files: the trees and the exclude rules. */
export function sourcesKey(sources: readonly string[], excludes: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify({ trees: sourceTrees(sources), excludes: [...excludes] }))
    .digest('hex');
}

function encodeBody(trees: readonly TreeScan[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (const { tree, entries } of trees) {
    let part = `${TREE_MARK}\0${tree}\0`;
    for (const [rel, fields] of entries) {
      part += `${rel}\0${fields}\0`;
      if (part.length > 1 << 20) {
        chunks.push(Buffer.from(part, 'utf8'));
        part = '';
      }
    }
    chunks.push(Buffer.from(part, 'utf8'));
  }
  return chunks;
}

/**
 * Writes the index whole or not at all (temp file, fsync, rename, fsync of the directory).
 * Called only after the backup host answered `done` for `header.snapshot`.
 */
export function writeChangeIndex(
  file: string,
  header: Omit<ChangeIndexHeader, 'format' | 'version' | 'entries' | 'bytes' | 'sha256'>,
  trees: readonly TreeScan[],
): void {
  const dir = join(file, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const body = encodeBody(trees);
  const hash = createHash('sha256');
  let bytes = 0;
  for (const chunk of body) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  const full: ChangeIndexHeader = {
    format: FORMAT,
    version: 2,
    ...header,
    entries: trees.reduce((n, t) => n + t.entries.size, 0),
    bytes,
    sha256: hash.digest('hex'),
  };
  const temp = `${file}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(full)}\n`);
    for (const chunk of body) writeSync(fd, chunk);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(temp, file);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** The index, or why it cannot be used (missing, damaged, another format): never throws. */
export function readChangeIndex(file: string): ChangeIndex | string {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no change index yet' : 'unreadable';
  }
  const newline = data.indexOf(0x0a);
  if (newline < 0) return 'damaged (no header)';
  let header: ChangeIndexHeader;
  try {
    const parsed = headerSchema.safeParse(JSON.parse(data.subarray(0, newline).toString('utf8')));
    if (!parsed.success) return 'damaged (bad header)';
    header = parsed.data;
  } catch {
    return 'damaged (bad header)';
  }
  const body = data.subarray(newline + 1);
  if (body.length !== header.bytes) return 'damaged (cut short)';
  if (createHash('sha256').update(body).digest('hex') !== header.sha256)
    return 'damaged (checksum)';
  const parts = body.toString('utf8').split('\0');
  parts.pop(); // after the last NUL
  if (parts.length % 2 !== 0) return 'damaged (odd field count)';
  const trees: IndexTree[] = [];
  let current: IndexTree | undefined;
  for (let i = 0; i < parts.length; i += 2) {
    const key = parts[i]!;
    const value = parts[i + 1]!;
    if (key === TREE_MARK) {
      current = { tree: value, rels: [], fields: [] };
      trees.push(current);
    } else if (!current) return 'damaged (entry before its tree)';
    else {
      current.rels.push(key);
      current.fields.push(value);
    }
  }
  const count = trees.reduce((n, t) => n + t.rels.length, 0);
  if (count !== header.entries) return 'damaged (entry count)';
  return { header, trees };
}

/** Forgets the index (a run whose outcome cannot be trusted for it). */
export function removeChangeIndex(file: string): void {
  rmSync(file, { force: true });
}
