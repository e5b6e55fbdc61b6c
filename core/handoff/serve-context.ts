import type { Readable, Writable } from 'node:stream';
import type { ServerConfig } from '../config/server-schema.js';
import type { ClientRepository } from '../storage/repository.js';
import type { SshConnectionInfo } from './ssh-connection.js';
import type { HandoffResponse } from './messages.js';

/** What every request handler of `pullback serve` gets: who asks, from where, and how to answer. */
export interface ServeContext {
  repo: ClientRepository;
  config: ServerConfig;
  connection: SshConnectionInfo;
  /** the client's name, from the forced command of the key it logged in with (S7) */
  client: string;
  input: Readable;
  /** aborted when the client is gone (end of input, EPIPE) or serve is told to stop */
  signal: AbortSignal;
  send: (message: HandoffResponse) => void;
  /** the raw output: only a tunnel, once open, writes to it directly (core/tunnel/) */
  output: Writable;
  log: (line: string) => void;
}
