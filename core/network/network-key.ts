import { readFileSync } from 'node:fs';
import { readNetworkFacts } from './network-manager.js';

/**
 * A name for the network this machine is on, to remember per network how a backup host
 * reaches us: NetworkManager's active connections when it runs, else the default gateway's
 * MAC address (from the kernel's route and neighbour tables), else its address. Undefined
 * when there is no default route: nothing is then remembered.
 */
export async function currentNetworkKey(
  env: NodeJS.ProcessEnv = process.env,
  procNet = '/proc/net',
): Promise<string | undefined> {
  const facts = await readNetworkFacts(env);
  if (facts.networkManager && facts.activeConnections.length)
    return `nm:${[...facts.activeConnections].sort().join(',')}`;
  const gateway = defaultGateway(read(`${procNet}/route`));
  if (!gateway) return undefined;
  const mac = neighbourMac(read(`${procNet}/arp`), gateway);
  return mac ? `gw:${mac}` : `gw-ip:${gateway}`;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** /proc/net/route: the gateway (little-endian hex) of the first default route, dotted. */
export function defaultGateway(routeTable: string): string | undefined {
  for (const line of routeTable.split('\n').slice(1)) {
    const [, destination, gateway, , , , , mask] = line.trim().split(/\s+/);
    if (destination !== '00000000' || mask !== '00000000' || !gateway) continue;
    const n = Number.parseInt(gateway, 16);
    if (!Number.isFinite(n) || n === 0) continue;
    return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
  }
  return undefined;
}

/** /proc/net/arp: the hardware address the kernel has for `address`, if complete. */
export function neighbourMac(arpTable: string, address: string): string | undefined {
  for (const line of arpTable.split('\n').slice(1)) {
    const [ip, , flags, mac] = line.trim().split(/\s+/);
    if (ip === address && flags !== '0x0' && mac && mac !== '00:00:00:00:00:00')
      return mac.toLowerCase();
  }
  return undefined;
}
