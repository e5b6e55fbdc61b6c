import type { Readable, Writable } from 'node:stream';
import { PullbackError, asPullbackError } from '../errors.js';
import { readServerConfig } from '../config/server-store.js';
import { zodToPullbackError } from '../config/zod-error.js';
import { parseSshConnection } from './ssh-connection.js';
import { readOneLine } from './lines.js';
import {
  PROTOCOL_VERSION,
  REQUEST_READ_TIMEOUT_MS,
  requestSchema,
  type HandoffRequest,
  type HandoffResponse,
} from './messages.js';
import { openRepository } from '../storage/repository.js';
import { validateClientName } from '../storage/client-name.js';
import type { ServeContext } from './serve-context.js';
import { serveHello } from './serve-hello.js';
import { serveList } from './serve-list.js';
import { serveBackup } from './serve-backup.js';

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
}

/** One handler per request type: the dispatcher knows nothing of what each one does. */
const HANDLERS: {
  [T in HandoffRequest['type']]: (
    request: Extract<HandoffRequest, { type: T }>,
    ctx: ServeContext,
  ) => Promise<void>;
} = {
  hello: (_request, ctx) => serveHello(ctx),
  list: (_request, ctx) => serveList(ctx),
  backup: (request, ctx) => serveBackup(request, ctx),
};

function dispatch(request: HandoffRequest, ctx: ServeContext): Promise<void> {
  const handler = HANDLERS[request.type] as (r: HandoffRequest, c: ServeContext) => Promise<void>;
  return handler(request, ctx);
}

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
    const config = readServerConfig(options.configFile);
    const repo = openRepository(config.storage, options.client, { backend: config.backend });
    await dispatch(parsed.data, {
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
