import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { powerSourceOf, readPowerSource, type PowerSupply } from '../../core/agent/power.js';

const ac = (online: string): PowerSupply => ({ name: 'AC', type: 'Mains', online });
const bat = (status: string, scope?: string): PowerSupply => ({
  name: 'BAT0',
  type: 'Battery',
  status,
  scope,
});

test('a laptop with the charger unplugged is on battery', () => {
  assert.equal(powerSourceOf([ac('0'), bat('Discharging')]), 'battery');
  assert.equal(powerSourceOf([ac('0')]), 'battery');
});

test('a laptop with the charger plugged in is on mains, charging or full', () => {
  assert.equal(powerSourceOf([ac('1'), bat('Charging')]), 'mains');
  assert.equal(powerSourceOf([ac('1'), bat('Full')]), 'mains');
  assert.equal(powerSourceOf([ac('1'), bat('Discharging')]), 'mains');
});

test('a USB-C charger online counts as mains', () => {
  const usb: PowerSupply = { name: 'ucsi-source-psy-1', type: 'USB', online: '1' };
  assert.equal(powerSourceOf([ac('0'), usb, bat('Charging')]), 'mains');
});

test('without a Mains supply a discharging system battery means battery', () => {
  assert.equal(powerSourceOf([bat('Discharging')]), 'battery');
  assert.equal(powerSourceOf([bat('Not charging')]), 'mains');
});

test('a discharging mouse battery does not make a desktop "on battery"', () => {
  assert.equal(powerSourceOf([bat('Discharging', 'Device')]), 'unknown');
});

test('a desktop or VM without power supplies is unknown (not on battery)', () => {
  assert.equal(powerSourceOf([]), 'unknown');
});

test('the power source is read from a power_supply directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-power-'));
  mkdirSync(join(dir, 'AC'));
  writeFileSync(join(dir, 'AC', 'type'), 'Mains\n');
  writeFileSync(join(dir, 'AC', 'online'), '0\n');
  mkdirSync(join(dir, 'BAT0'));
  writeFileSync(join(dir, 'BAT0', 'type'), 'Battery\n');
  writeFileSync(join(dir, 'BAT0', 'status'), 'Discharging\n');
  assert.equal(await readPowerSource(dir), 'battery');
  writeFileSync(join(dir, 'AC', 'online'), '1\n');
  assert.equal(await readPowerSource(dir), 'mains');
  assert.equal(await readPowerSource(join(dir, 'missing')), 'unknown');
});
