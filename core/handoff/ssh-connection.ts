import { isIP } from 'node:net';
import { PullbackError } from '../errors.js';

export interface SshConnectionInfo {
  /** where the handoff came from: the only address we ever connect back to (S8) */
  clientAddress: string;
  /** our address on that connection: we connect back from it, so the one-shot recognises us */
  serverAddress: string;
  /** both ends with their ports: names this very TCP connection (a tunnel must come over it) */
  id: string;
}

/** Parses sshd's SSH_CONNECTION ("client_ip client_port server_ip server_port"). */
export function parseSshConnection(value: string | undefined): SshConnectionInfo {
  const parts = (value ?? '').trim().split(' ');
  const [clientAddress, clientPort, serverAddress, serverPort] = parts;
  if (
    parts.length !== 4 ||
    !clientAddress ||
    !serverAddress ||
    isIP(clientAddress) === 0 ||
    isIP(serverAddress) === 0 ||
    !/^\d+$/.test(clientPort ?? '') ||
    !/^\d+$/.test(serverPort ?? '')
  ) {
    throw new PullbackError(
      'BAD_REQUEST',
      'SSH_CONNECTION is missing or malformed: "pullback serve" runs only as the forced command of a client key',
    );
  }
  return {
    clientAddress,
    serverAddress,
    id: `${clientAddress} ${clientPort} ${serverAddress} ${serverPort}`,
  };
}
