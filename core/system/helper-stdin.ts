import type { Readable } from 'node:stream';
import { PullbackError } from '../errors.js';
import { MAX_LIST_BYTES, validateFileList } from '../change-index/list-file.js';

/*
 * What the client writes to the privileged helper's stdin (argv shows in ps, stdin does not):
 *
 *   1. H, the one-time host key: one OpenSSH private key, ending in a newline;
 *   2. one JSON line `{"lists":[{"tree":T,"bytes":N},…]}` naming the change lists that follow;
 *   3. the lists' bytes, back to back, in that order;
 *   4. tunnel mode only: the tunnel's inbound bytes.
 *
 * After that stdin stays open as the client's "still here": its end means "stop".
 */

export interface ChangeList {
  tree: string;
  data: Buffer;
}

export interface HelperInput {
  /** H as it arrived (parseHostPrivateKey checks it) */
  hostKey: string;
  lists: ChangeList[];
  /** bytes that followed the lists (tunnel mode: the tunnel's first inbound bytes) */
  rest: Buffer;
}

const KEY_END = Buffer.from('-----END OPENSSH PRIVATE KEY-----\n');
const MAX_HOST_KEY_BYTES = 8192;
/** 64 sources of up to 4096 bytes each, with their JSON around them */
const MAX_HEADER_BYTES = 512 * 1024;

function refuse(message: string): never {
  throw new PullbackError('BAD_ARGS', `helper: ${message}`);
}

/** The client's side: H, the header line and the lists, as one buffer. */
export function encodeHelperInput(hostKey: string, lists: readonly ChangeList[]): Buffer {
  const key = hostKey.endsWith('\n') ? hostKey : `${hostKey}\n`;
  const header = { lists: lists.map((l) => ({ tree: l.tree, bytes: l.data.length })) };
  return Buffer.concat([
    Buffer.from(key),
    Buffer.from(`${JSON.stringify(header)}\n`),
    ...lists.map((l) => l.data),
  ]);
}

/** Checks the header line against the request's sources: which trees, how many bytes each. */
export function parseListsHeader(
  line: string,
  sources: readonly string[],
): { tree: string; bytes: number }[] {
  let header: unknown;
  try {
    header = JSON.parse(line);
  } catch {
    refuse('the change-list header on stdin is not JSON');
  }
  const lists = (header as { lists?: unknown } | null)?.lists;
  if (
    typeof header !== 'object' ||
    header === null ||
    Object.keys(header).length !== 1 ||
    !Array.isArray(lists)
  )
    refuse('the change-list header on stdin must be {"lists":[…]}');
  if (lists.length > sources.length)
    refuse(`${lists.length} change lists for ${sources.length} --source paths`);
  const seen = new Set<string>();
  return lists.map((entry: unknown) => {
    const { tree, bytes } = (entry ?? {}) as { tree?: unknown; bytes?: unknown };
    if (
      typeof entry !== 'object' ||
      Object.keys(entry as object).length !== 2 ||
      typeof tree !== 'string' ||
      typeof bytes !== 'number'
    )
      refuse('each change list must be {"tree":…,"bytes":…}');
    if (!sources.includes(tree))
      refuse(`a change list for ${JSON.stringify(tree.slice(0, 200))}, which is not a --source`);
    if (seen.has(tree)) refuse(`two change lists for ${JSON.stringify(tree)}`);
    seen.add(tree);
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_LIST_BYTES)
      refuse(`the change list of ${tree} must be 1 to ${MAX_LIST_BYTES} bytes, got ${bytes}`);
    return { tree, bytes };
  });
}

function checkedList(tree: string, data: Buffer): ChangeList {
  try {
    validateFileList(data);
  } catch (err) {
    refuse(`the change list of ${tree}: ${(err as Error).message}`);
  }
  return { tree, data };
}

/**
 * The helper's side: reads H, the header and the lists from `stream`, refusing anything out of
 * shape or bounds (BAD_ARGS), and leaves the stream paused right after the lists.
 */
export function readHelperInput(
  stream: Readable,
  sources: readonly string[],
  timeoutMs: number,
): Promise<HelperInput> {
  return new Promise((resolve, reject) => {
    // chunks are joined only when a step can use them: a 64 MiB list is copied once, not per chunk
    let chunks: Buffer[] = [];
    let length = 0;
    let buffer: Buffer = Buffer.alloc(0);
    let total = 0;
    let hostKey: string | undefined;
    let wanted: { tree: string; bytes: number }[] | undefined;
    const timer = setTimeout(
      () =>
        finish(
          new PullbackError('BAD_ARGS', 'helper: no host key and change lists on stdin in time'),
        ),
      timeoutMs,
    );
    const finish = (result: HelperInput | Error) => {
      clearTimeout(timer);
      stream.off('data', onData).off('end', onEnd).pause();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const step = (): HelperInput | undefined => {
      if (wanted !== undefined && length < total) return undefined;
      buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      chunks = [buffer];
      const consume = (n: number) => {
        buffer = buffer.subarray(n);
        chunks = [buffer];
        length = buffer.length;
      };
      if (hostKey === undefined) {
        const end = buffer.indexOf(KEY_END);
        if (end < 0) {
          if (buffer.length > MAX_HOST_KEY_BYTES) refuse('the host key on stdin is too long');
          return undefined;
        }
        hostKey = buffer.subarray(0, end + KEY_END.length).toString('utf8');
        consume(end + KEY_END.length);
      }
      if (wanted === undefined) {
        const newline = buffer.indexOf(0x0a);
        if (newline < 0) {
          if (buffer.length > MAX_HEADER_BYTES)
            refuse('the change-list header on stdin is too long');
          return undefined;
        }
        if (newline > MAX_HEADER_BYTES) refuse('the change-list header on stdin is too long');
        wanted = parseListsHeader(buffer.subarray(0, newline).toString('utf8'), sources);
        total = wanted.reduce((sum, l) => sum + l.bytes, 0);
        consume(newline + 1);
      }
      if (buffer.length < total) return undefined;
      let at = 0;
      const lists = wanted.map(({ tree, bytes }) => {
        const list = checkedList(tree, Buffer.from(buffer.subarray(at, at + bytes)));
        at += bytes;
        return list;
      });
      return { hostKey, lists, rest: buffer.subarray(total) };
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      try {
        const input = step();
        if (input) finish(input);
      } catch (err) {
        finish(err as Error);
      }
    };
    const onEnd = () =>
      finish(
        new PullbackError(
          'BAD_ARGS',
          hostKey === undefined
            ? 'helper: stdin closed before a whole host key arrived'
            : 'helper: stdin closed before the change lists arrived',
        ),
      );
    stream.on('data', onData).on('end', onEnd);
  });
}
