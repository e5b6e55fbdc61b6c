import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockingConditions } from '../../core/agent/conditions.js';
import {
  parseActiveConnectionNames,
  parseMeteredDevices,
  type NetworkFacts,
} from '../../core/network/network-manager.js';

const noNm: NetworkFacts = { networkManager: false, metered: false, activeConnections: [] };
const home: NetworkFacts = { networkManager: true, metered: false, activeConnections: ['Home'] };
const schedule = { runOnBattery: false, runOnMetered: false, networks: [] as string[] };

test('nothing blocks an automatic backup on mains without NetworkManager', () => {
  assert.deepEqual(blockingConditions(schedule, { power: 'mains', network: noNm }), []);
  assert.deepEqual(blockingConditions(schedule, { power: 'unknown', network: noNm }), []);
});

test('on battery blocks unless runOnBattery', () => {
  const [reason] = blockingConditions(schedule, { power: 'battery', network: noNm });
  assert.match(reason!, /battery/);
  assert.deepEqual(
    blockingConditions({ ...schedule, runOnBattery: true }, { power: 'battery', network: noNm }),
    [],
  );
});

test('a metered connection blocks unless runOnMetered', () => {
  const metered = { ...home, metered: true };
  assert.match(blockingConditions(schedule, { power: 'mains', network: metered })[0]!, /metered/);
  assert.deepEqual(
    blockingConditions({ ...schedule, runOnMetered: true }, { power: 'mains', network: metered }),
    [],
  );
});

test('the network allow-list needs an active allowed connection', () => {
  const s = { ...schedule, networks: ['Home', 'Office'] };
  assert.deepEqual(blockingConditions(s, { power: 'mains', network: home }), []);
  const cafe = { ...home, activeConnections: ['Cafe WiFi'] };
  assert.match(
    blockingConditions(s, { power: 'mains', network: cafe })[0]!,
    /not on an allowed network.*Cafe WiFi/,
  );
});

test('a network allow-list without NetworkManager says it cannot tell', () => {
  const s = { ...schedule, networks: ['Home'] };
  assert.match(
    blockingConditions(s, { power: 'mains', network: noNm })[0]!,
    /NetworkManager is not running/,
  );
});

test('all blocking reasons are listed together', () => {
  const s = { ...schedule, networks: ['Home'] };
  const reasons = blockingConditions(s, {
    power: 'battery',
    network: { networkManager: true, metered: true, activeConnections: [] },
  });
  assert.equal(reasons.length, 3);
});

test('nmcli: metered only when a connected device says yes', () => {
  const out = [
    'GENERAL.STATE:100 (connected)',
    'GENERAL.METERED:no (guessed)',
    '',
    'GENERAL.STATE:30 (disconnected)',
    'GENERAL.METERED:yes',
    '',
    'GENERAL.STATE:10 (unmanaged)',
    'GENERAL.METERED:unknown',
  ].join('\n');
  assert.equal(parseMeteredDevices(out), false);
  const phone = 'GENERAL.STATE:100 (connected)\nGENERAL.METERED:yes (guessed)\n';
  assert.equal(parseMeteredDevices(phone), true);
});

test('nmcli: active connection names are unescaped', () => {
  assert.deepEqual(parseActiveConnectionNames('Home\nWired connection 1\nlab\\:5G\n\n'), [
    'Home',
    'Wired connection 1',
    'lab:5G',
  ]);
});
