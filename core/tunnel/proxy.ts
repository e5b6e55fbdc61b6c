import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import { PullbackError } from '../errors.js';
import { splice } from '../splice.js';

/**
 * `pullback tunnel-proxy SOCKET`: the ProxyCommand of a tunnelled pull's ssh on the backup
 * host. It joins ssh's stdio to the run's pull socket (relay.ts), which accepts one connection.
 */
export async function runTunnelProxy(socketPath: string): Promise<number> {
  const socket = await new Promise<import('node:net').Socket>((resolve, reject) => {
    const s = connect({ path: socketPath });
    s.once('connect', () => resolve(s));
    s.once('error', (err) =>
      reject(new PullbackError('UNREACHABLE', `cannot reach the tunnel: ${err.message}`)),
    );
  });
  await splice(socket, Duplex.from({ readable: process.stdin, writable: process.stdout }));
  return 0;
}
