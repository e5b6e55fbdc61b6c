import { randomBytes } from 'node:crypto';
import { ip, mustIp, mustRunInNetns, runInNetns } from './netns.js';

/**
 * A laptop behind a NAT router, made of three network namespaces of our own:
 *
 *   client (10.201.0.2) ── lan0 [router: nftables masquerade] wan0 ── backup host (10.202.0.2)
 *
 * The client's default route is the router; the router masquerades what leaves on wan0 and,
 * like a home router, lets nothing new in from wan0; the backup host has its own /24 and no
 * route at all, so it can only ever answer the router's address. The addresses are private to
 * these namespaces (nothing is added to the root namespace), the names unique to this run.
 */
export const CLIENT_ADDRESS = '10.201.0.2';
export const ROUTER_LAN_ADDRESS = '10.201.0.1';
export const ROUTER_WAN_ADDRESS = '10.202.0.1';
export const HOST_ADDRESS = '10.202.0.2';

export interface NatNetwork {
  /** namespace names */
  client: string;
  router: string;
  host: string;
  /** the wire between router and backup host stops carrying packets, silently (nft drop) */
  cut(): void;
  /** and carries them again */
  mend(): void;
  /** ip link down/up of the router's wan side: the backup host is gone, and said so (ICMP) */
  unplugHost(): void;
  plugHost(): void;
  /** the client forgets its neighbours (the router's MAC): a network just joined */
  forgetNeighbours(): void;
  /** the router's ruleset, for a failure message */
  ruleset(): string;
  /** deletes the namespaces (and with them the veths); safe to call twice */
  destroy(): void;
}

const NAT_TABLE = 'pullback_nat';
const FILTER_TABLE = 'pullback_filter';

/** nft -f input for the router: masquerade out of wan0, only replies in from wan0; `cut` starts empty. */
const ROUTER_RULESET = `
table ip ${NAT_TABLE} {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" masquerade
  }
}
table inet ${FILTER_TABLE} {
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "wan0" oifname "lan0" ct state established,related accept
    iifname "wan0" oifname "lan0" drop
  }
  chain cut {
    type filter hook forward priority filter - 10; policy accept;
  }
}
`;

export function makeNatNetwork(): NatNetwork {
  const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const names = { client: `pbnat-${id}-c`, router: `pbnat-${id}-r`, host: `pbnat-${id}-h` };
  const destroy = () => {
    for (const ns of Object.values(names)) {
      // whatever a failed test left running in our namespaces dies with them
      const pids = ip('netns', 'pids', ns);
      if (pids.ok)
        for (const pid of pids.out.split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone already
          }
        }
      ip('netns', 'del', ns);
    }
  };
  try {
    for (const ns of Object.values(names)) {
      mustIp('netns', 'add', ns);
      mustIp('-n', ns, 'link', 'set', 'lo', 'up');
    }
    const veth = (a: string, aNs: string, b: string, bNs: string) =>
      mustIp('link', 'add', a, 'netns', aNs, 'type', 'veth', 'peer', 'name', b, 'netns', bNs);
    veth('eth0', names.client, 'lan0', names.router);
    veth('wan0', names.router, 'eth0', names.host);
    const wire = (ns: string, dev: string, cidr: string) => {
      mustIp('-n', ns, 'addr', 'add', cidr, 'dev', dev);
      mustIp('-n', ns, 'link', 'set', dev, 'up');
    };
    wire(names.client, 'eth0', `${CLIENT_ADDRESS}/24`);
    wire(names.router, 'lan0', `${ROUTER_LAN_ADDRESS}/24`);
    wire(names.router, 'wan0', `${ROUTER_WAN_ADDRESS}/24`);
    wire(names.host, 'eth0', `${HOST_ADDRESS}/24`);
    mustIp('-n', names.client, 'route', 'add', 'default', 'via', ROUTER_LAN_ADDRESS);
    mustRunInNetns(names.router, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    mustRunInNetns(names.router, ['nft', '-f', '-'], ROUTER_RULESET);
  } catch (err) {
    destroy();
    throw err;
  }
  const nft = (...args: string[]) => mustRunInNetns(names.router, ['nft', ...args]);
  return {
    ...names,
    cut: () => nft('add', 'rule', 'inet', FILTER_TABLE, 'cut', 'drop'),
    mend: () => nft('flush', 'chain', 'inet', FILTER_TABLE, 'cut'),
    unplugHost: () => mustIp('-n', names.router, 'link', 'set', 'wan0', 'down'),
    plugHost: () => mustIp('-n', names.router, 'link', 'set', 'wan0', 'up'),
    forgetNeighbours: () => mustIp('-n', names.client, 'neigh', 'flush', 'dev', 'eth0'),
    ruleset: () => runInNetns(names.router, ['nft', 'list', 'ruleset']).out,
    destroy,
  };
}
