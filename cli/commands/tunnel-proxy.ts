import { PullbackError } from '../../core/errors.js';
import { runTunnelProxy } from '../../core/tunnel/proxy.js';

const HELP = `Usage: pullback tunnel-proxy SOCKET

Runs on the backup host as the ssh ProxyCommand of a tunnelled pull ("pullback serve" starts
it): joins ssh's stdin and stdout to the run's pull socket, which takes one connection. Not
for interactive use.`;

export async function tunnelProxyCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const [socket, ...extra] = argv;
  if (!socket || extra.length || !socket.startsWith('/'))
    throw new PullbackError('BAD_ARGS', 'tunnel-proxy: one absolute SOCKET path is needed');
  return runTunnelProxy(socket);
}
