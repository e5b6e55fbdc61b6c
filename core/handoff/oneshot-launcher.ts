import type { Duplex } from 'node:stream';

/**
 * How the client starts the one-shot sshd for one backup. User mode runs it in-process as the
 * user; system mode (later) asks the privileged helper. The backup flow does not care which.
 */
export interface OneShotRequest {
  /** listen here: our side of the handoff connection */
  bindAddress: string;
  /** accept only this peer: the backup host's address */
  allowFrom: string;
  /** K, public half: the only key the one-shot accepts */
  clientPublicKey: string;
  /** H, private half: the one-shot's host key */
  hostPrivateKey: string;
  /** what the gate lets the backup host read */
  sources: string[];
  /** the whole one-shot tree dies at this point at the latest */
  deadlineMs: number;
  /** an incremental's change lists, one per tree, for the gate to hand to the sender */
  lists?: { tree: string; data: Buffer }[];
  /** tunnel mode (core/tunnel/): listen nowhere; the one connection comes through attachTunnel */
  tunnel?: boolean;
}

export interface LaunchedOneShot {
  port: number;
  /** the account the backup host logs in as */
  user: string;
  /** the change lists are in the one-shot directory, where the gate finds them */
  listsWritten?: boolean;
  /** settles when the one-shot has exited and its secrets are gone */
  done: Promise<unknown>;
  /** why the gate refused the backup host's commands (client-side only), once `done` settled */
  gateRefusals(): Promise<string[]>;
  stop(): Promise<void>;
  /** tunnel mode: the pull's one SSH connection, as a stream (`rest`: bytes already read) */
  attachTunnel?(stream: Duplex, rest?: Buffer): void;
}

export type OneShotLauncher = (request: OneShotRequest) => Promise<LaunchedOneShot>;
