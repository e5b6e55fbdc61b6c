import type { Readable, Writable } from 'node:stream';
import { PullbackError, asPullbackError } from '../errors.js';
import { readServerConfig } from '../config/server-store.js';
import { zodToPullbackError } from '../config/zod-error.js';
import { parseSshConnection } from './ssh-connection.js';
import { readOneLine } from './lines.js';
import {
  PROTOCOL_VERSION,
  REQUEST_READ_TIMEOUT_MS,
  MAX_REQUEST_BYTES,
  requestSchema,
  type HandoffRequest,
  type HandoffResponse,
} from './messages.js';
import { validateClientName } from '../storage/client-name.js';
import type { ServeContext } from './serve-context.js';
import { acquireRequestSlot } from '../server/request-slot.js';

/**
 * `pullback serve --client NAME`: the forced command of one client's key on the backup host.
 * The client's identity is NAME (from the key it logged in with), never anything it says (S7).
 * It reads one request and hands it to the one module that serves that type; a backup connects
 * back only to the address this very SSH connection came from (S8), pinning the one-time host
 * key H (S5).
 */
export interface ServeOptions {
  client: string;
  configFile: string;
  input: Readable;
  output: Writable;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** aborted when serve itself is told to stop (SIGTERM, SIGHUP): handled like the client going */
  signal?: AbortSignal;
}

/**
 * One handler per request type: the dispatcher knows nothing of what each one does. They load
 * only once a request is in, so that a connection answered BUSY costs as little as possible.
 */
const HANDLERS: {
  [T in HandoffRequest['type']]: (
    request: Extract<HandoffRequest, { type: T }>,
    ctx: ServeContext,
  ) => Promise<void>;
} = {
  hello: async (_request, ctx) => (await import('./serve-hello.js')).serveHello(ctx),
  list: async (_request, ctx) => (await import('./serve-list.js')).serveList(ctx),
  backup: async (request, ctx) => (await import('./serve-backup.js')).serveBackup(request, ctx),
  ls: async (request, ctx) => (await import('./serve-ls.js')).serveLs(request, ctx),
  versions: async (request, ctx) =>
    (await import('./serve-versions.js')).serveVersions(request, ctx),
  'restore-plan': async (request, ctx) =>
    (await import('./serve-restore-plan.js')).serveRestorePlan(request, ctx),
  tunnel: async (request, ctx) =>
    (await import('../tunnel/serve-tunnel.js')).serveTunnel(request, ctx),
};

function dispatch(request: HandoffRequest, ctx: ServeContext): Promise<void> {
  const handler = HANDLERS[request.type] as (r: HandoffRequest, c: ServeContext) => Promise<void>;
  return handler(request, ctx);
}

/**
 * One signal for "stop": the output broke (EPIPE: sshd closed the session), serve was told to
 * stop, or (once the request is in) the client closed its side. Its reason is a CANCELLED error.
 */
function watchForGone(options: ServeOptions) {
  const controller = new AbortController();
  let outputBroken = false;
  const gone = (why: string) =>
    controller.abort(new PullbackError('CANCELLED', `the run was cancelled: ${why}`));
  const onEnd = () => gone('the client went away');
  const onOutputError = () => {
    outputBroken = true;
    gone('the client went away (its connection closed)');
  };
  const onStop = () => gone('serve was told to stop');
  options.output.on('error', onOutputError);
  if (options.signal?.aborted) onStop();
  options.signal?.addEventListener('abort', onStop, { once: true });
  return {
    signal: controller.signal,
    canAnswer: () => !outputBroken && !options.output.destroyed,
    /** after the request: the client closing its input is its way of saying "stop" */
    watchInput() {
      options.input.once('end', onEnd);
      options.input.once('close', onEnd);
    },
    dispose() {
      options.input.off('end', onEnd);
      options.input.off('close', onEnd);
      options.signal?.removeEventListener('abort', onStop);
      // the output's error listener stays: a late EPIPE must never become an uncaught error
    },
  };
}

/** Rejects when `signal` aborts: a wait (for the request) must not outlive a cancel. */
function orAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function readRequest(options: ServeOptions, signal: AbortSignal): Promise<HandoffRequest> {
  const line = await orAborted(
    readOneLine(options.input, REQUEST_READ_TIMEOUT_MS, MAX_REQUEST_BYTES),
    signal,
  );
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
  return parsed.data;
}

export async function serve(options: ServeOptions): Promise<number> {
  const gone = watchForGone(options);
  const { signal } = gone;
  const send = (message: HandoffResponse) => {
    // Once the connection is gone there is nobody to answer; writing would only raise EPIPE.
    if (!gone.canAnswer()) return;
    options.output.write(JSON.stringify(message) + '\n');
  };
  try {
    validateClientName(options.client);
    const connection = parseSshConnection((options.env ?? process.env).SSH_CONNECTION);
    const config = readServerConfig(options.configFile);
    // A restore is the client's own rsync asking for a sender, not a handoff request.
    const command = (options.env ?? process.env).SSH_ORIGINAL_COMMAND ?? '';
    if (command.startsWith('rsync '))
      return (await import('./serve-restore.js')).serveRestore(command, config, options);
    // Before a byte of the request: a second connection of this client waiting is BUSY at once.
    const slot = await acquireRequestSlot(config.storage, options.client);
    let request: HandoffRequest;
    try {
      request = await readRequest(options, signal);
    } finally {
      await slot.release();
    }
    gone.watchInput();
    const { openRepository } = await import('../storage/repository.js');
    const repo = openRepository(config.storage, options.client, { backend: config.backend });
    await dispatch(request, {
      repo,
      config,
      connection,
      client: options.client,
      input: options.input,
      signal,
      send,
      output: options.output,
      log: options.log ?? (() => {}),
    });
    return 0;
  } catch (err) {
    const error = asPullbackError(err);
    send({ v: PROTOCOL_VERSION, type: 'error', code: error.code, message: error.message });
    options.log?.(error.toLine());
    return error.code === 'BAD_REQUEST' || error.code === 'BAD_ARGS' ? 2 : 1;
  } finally {
    gone.dispose();
  }
}
