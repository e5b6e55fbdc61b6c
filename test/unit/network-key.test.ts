import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentNetworkKey, defaultGateway, neighbourMac } from '../../core/network/network-key.js';

/** What the kernel prints (header, padding and all), from a machine whose gateway is 192.0.2.1. */
const ROUTE_HEADER =
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT   ';
const ROUTES = [
  ROUTE_HEADER,
  'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0   ',
  'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0   ',
  '',
].join('\n');
const ARP_HEADER = 'IP address       HW type     Flags       HW address            Mask     Device';
const ARP = [
  ARP_HEADER,
  '192.0.2.7        0x1         0x0         00:00:00:00:00:00     *        eth0',
  '192.0.2.1        0x1         0x2         02:FC:00:00:00:05     *        eth0',
  '',
].join('\n');

test('defaultGateway reads the first default route, little-endian hex to dotted', () => {
  assert.equal(defaultGateway(ROUTES), '192.0.2.1');
  // a second default route (another interface) does not win over the first
  const two = `${ROUTES}wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n`;
  assert.equal(defaultGateway(two), '192.0.2.1');
});

test('defaultGateway: no default route, an on-link default (gateway 0) and a non-zero mask give none', () => {
  assert.equal(defaultGateway(ROUTE_HEADER), undefined);
  assert.equal(defaultGateway(''), undefined);
  assert.equal(
    defaultGateway(`${ROUTE_HEADER}\nwg0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n`),
    undefined,
  );
  assert.equal(
    defaultGateway(`${ROUTE_HEADER}\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`),
    undefined,
  );
  assert.equal(
    defaultGateway(`${ROUTE_HEADER}\neth0\t00000000\tnothex\t0003\t0\t0\t0\t00000000\t0\t0\t0\n`),
    undefined,
  );
});

test('neighbourMac: the complete entry of that address, lower-cased; incomplete and other addresses give none', () => {
  assert.equal(neighbourMac(ARP, '192.0.2.1'), '02:fc:00:00:00:05');
  assert.equal(neighbourMac(ARP, '192.0.2.7'), undefined, 'flags 0x0: incomplete');
  assert.equal(neighbourMac(ARP, '192.0.2.9'), undefined);
  assert.equal(neighbourMac(ARP, '192.0.2.1'.slice(0, -1)), undefined, 'a prefix is not a match');
  // the header line is never an entry
  assert.equal(neighbourMac(ARP_HEADER, 'IP'), undefined);
});

function procNet(route: string, arp: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-procnet-'));
  writeFileSync(join(dir, 'route'), route);
  writeFileSync(join(dir, 'arp'), arp);
  return dir;
}

/** A PATH holding only `programs` (name → script); empty: no nmcli at all. */
function pathWith(programs: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-path-'));
  for (const [name, script] of Object.entries(programs)) {
    writeFileSync(join(dir, name), script);
    chmodSync(join(dir, name), 0o755);
  }
  return { PATH: dir };
}

test('without NetworkManager the network is named by its gateway: the MAC when known, else the address, else nothing', async () => {
  const env = pathWith();
  assert.equal(await currentNetworkKey(env, procNet(ROUTES, ARP)), 'gw:02:fc:00:00:00:05');
  assert.equal(await currentNetworkKey(env, procNet(ROUTES, ARP_HEADER)), 'gw-ip:192.0.2.1');
  assert.equal(await currentNetworkKey(env, procNet(ROUTE_HEADER, ARP)), undefined);
  const missing = join(tmpdir(), `pullback-no-procnet-${process.pid}`);
  assert.equal(await currentNetworkKey(env, missing), undefined, 'unreadable tables: nothing');
});

test('with NetworkManager running the network is its active connections, sorted, whatever the gateway', async () => {
  // a stand-in nmcli (only its output format matters here): running, two active connections
  const nmcli = [
    '#!/bin/sh',
    'case "$*" in',
    '  *RUNNING*) echo running ;;',
    '  *"connection show"*) printf "Wired\\\\: office\\nHome VPN\\n" ;;',
    '  *) echo "GENERAL.STATE:100 (connected)"; echo "GENERAL.METERED:no" ;;',
    'esac',
    '',
  ].join('\n');
  const key = await currentNetworkKey(pathWith({ nmcli }), procNet(ROUTES, ARP));
  assert.equal(key, 'nm:Home VPN,Wired: office');
  // NetworkManager installed but not running: the gateway again
  const stopped = '#!/bin/sh\necho asleep\n';
  assert.equal(
    await currentNetworkKey(pathWith({ nmcli: stopped }), procNet(ROUTES, ARP)),
    'gw:02:fc:00:00:00:05',
  );
});
