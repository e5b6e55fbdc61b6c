import { createCipheriv, createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { mulberry32 as prng } from '../test/support/prng.js';

/**
 * The benchmark's source tree, a pure function of its spec: the same seed gives the same paths,
 * sizes, bytes and mtimes on every machine. Contents are AES-CTR keystream (incompressible, so
 * no tool wins by compressing made-up data); sizes are log-uniform 64 B … 16 KiB, 50 files a
 * directory, three levels deep.
 */
export interface TreeSpec {
  root: string;
  files: number;
  bigFiles: number;
  bigFileBytes: number;
  /** the 1 %-change phase appends this much to the first big file */
  appendBytes: number;
  seed: number;
}

export interface TreeChange {
  files: number;
  /** bytes rewritten or appended */
  changedBytes: number;
  /** the same, rounded up to 4 KiB filesystem blocks per file (what a CoW snapshot must copy) */
  changedBlockBytes: number;
}

const FILES_PER_DIR = 50;
const BLOCK = 4096;
/** Fixed mtimes: the original tree, and what the 1 %-change phase stamps on what it changed. */
const ORIGINAL_MTIME = new Date('2025-01-01T00:00:00Z');
const CHANGED_MTIME = new Date('2025-01-02T00:00:00Z');

function content(seed: number, kind: number, index: number, version: number, length: number) {
  const key = createHash('sha256').update(`pullback-bench-${seed}`).digest();
  const iv = Buffer.alloc(16);
  iv.writeUInt8(kind, 0);
  iv.writeUInt8(version, 1);
  iv.writeUInt32BE(index, 2);
  return createCipheriv('aes-256-ctr', key, iv).update(Buffer.alloc(length));
}

export function smallFilePath(root: string, index: number): string {
  const leaf = Math.floor(index / FILES_PER_DIR);
  const mid = Math.floor(leaf / 20);
  const top = Math.floor(mid / 10);
  return join(root, `top-${top}`, `mid-${mid}`, `leaf-${leaf}`, `file-${index}.bin`);
}

export function bigFilePath(root: string, index: number): string {
  return join(root, 'big', `big-${index}.bin`);
}

function smallFileSizes(spec: TreeSpec): number[] {
  const random = prng(spec.seed);
  return Array.from({ length: spec.files }, () => Math.floor(64 * Math.pow(256, random())));
}

/** Which small files the 1 %-change phase rewrites: always the same ones for a given spec. */
function changedIndexes(spec: TreeSpec): number[] {
  const random = prng(spec.seed + 1);
  const all = Array.from({ length: spec.files }, (_, i) => i);
  const count = Math.max(1, Math.round(spec.files / 100));
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (all.length - i));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count);
}

const roundToBlock = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/** Writes the tree; returns its total size in bytes and how many directories it has. */
export function generateTree(spec: TreeSpec): { bytes: number; dirs: number } {
  const sizes = smallFileSizes(spec);
  const dirs = new Set<string>();
  let bytes = 0;
  sizes.forEach((size, i) => {
    const path = smallFilePath(spec.root, i);
    const dir = dirname(path);
    if (!dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      for (let d = dir; d !== spec.root; d = dirname(d)) dirs.add(d);
    }
    writeFileSync(path, content(spec.seed, 0, i, 0, size));
    utimesSync(path, ORIGINAL_MTIME, ORIGINAL_MTIME);
    bytes += size;
  });
  mkdirSync(join(spec.root, 'big'), { recursive: true });
  dirs.add(join(spec.root, 'big'));
  for (let i = 0; i < spec.bigFiles; i++) {
    const path = bigFilePath(spec.root, i);
    writeFileSync(path, content(spec.seed, 1, i, 0, spec.bigFileBytes));
    utimesSync(path, ORIGINAL_MTIME, ORIGINAL_MTIME);
    bytes += spec.bigFileBytes;
  }
  return { bytes, dirs: dirs.size };
}

/** The 1 %-change phase: new content (same size) in 1 % of the small files, an append to one big file. */
export function changeOnePercent(spec: TreeSpec): TreeChange {
  const sizes = smallFileSizes(spec);
  let changedBytes = 0;
  let changedBlockBytes = 0;
  const indexes = changedIndexes(spec);
  for (const i of indexes) {
    const path = smallFilePath(spec.root, i);
    writeFileSync(path, content(spec.seed, 0, i, 1, sizes[i]!));
    utimesSync(path, CHANGED_MTIME, CHANGED_MTIME);
    changedBytes += sizes[i]!;
    changedBlockBytes += roundToBlock(sizes[i]!);
  }
  if (spec.bigFiles > 0) {
    const path = bigFilePath(spec.root, 0);
    appendFileSync(path, content(spec.seed, 2, 0, 1, spec.appendBytes));
    utimesSync(path, CHANGED_MTIME, CHANGED_MTIME);
    changedBytes += spec.appendBytes;
    // the last, partial block of the original is rewritten too
    changedBlockBytes +=
      roundToBlock(spec.bigFileBytes + spec.appendBytes) -
      Math.floor(spec.bigFileBytes / BLOCK) * BLOCK;
  }
  return { files: indexes.length + (spec.bigFiles > 0 ? 1 : 0), changedBytes, changedBlockBytes };
}

/** The small file the same-size rewrite changes: never one of the 1 %-change phase's. */
function rewrittenIndex(spec: TreeSpec): number {
  const changed = new Set(changedIndexes(spec));
  let i = 0;
  while (changed.has(i)) i++;
  return i;
}

export interface SameSizeRewrite {
  /** the rewritten file, relative to the tree's root */
  relativePath: string;
  /** what a backup taken now must hold */
  content: Buffer;
}

/**
 * What `cp -a`, `rsync -a` and tar do to a file every day: new content of the same size, and
 * the old mtime put back (`touch -r`). Only the ctime (and the bytes) tell it changed.
 */
export function rewriteSameSize(spec: TreeSpec): SameSizeRewrite {
  const i = rewrittenIndex(spec);
  const path = smallFilePath(spec.root, i);
  const content = contentOf(spec, i, 2);
  writeFileSync(path, content);
  utimesSync(path, ORIGINAL_MTIME, ORIGINAL_MTIME);
  return { relativePath: relative(spec.root, path), content };
}

function contentOf(spec: TreeSpec, index: number, version: number): Buffer {
  return content(spec.seed, 0, index, version, smallFileSizes(spec)[index]!);
}

/** Undoes changeOnePercent and rewriteSameSize, so every tool and every run starts from the very same tree. */
export function restoreTree(spec: TreeSpec): void {
  const sizes = smallFileSizes(spec);
  for (const i of [...changedIndexes(spec), rewrittenIndex(spec)]) {
    const path = smallFilePath(spec.root, i);
    writeFileSync(path, content(spec.seed, 0, i, 0, sizes[i]!));
    utimesSync(path, ORIGINAL_MTIME, ORIGINAL_MTIME);
  }
  if (spec.bigFiles > 0) {
    const path = bigFilePath(spec.root, 0);
    truncateSync(path, spec.bigFileBytes);
    utimesSync(path, ORIGINAL_MTIME, ORIGINAL_MTIME);
  }
}
