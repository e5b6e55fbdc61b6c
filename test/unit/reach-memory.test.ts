import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REACH_FILE,
  REMEMBER_MS,
  recallReach,
  rememberReach,
} from '../../core/tunnel/reach-memory.js';

const stateDir = () => join(mkdtempSync(join(tmpdir(), 'pullback-reach-')), 'state');
const T0 = Date.parse('2026-12-01T10:00:00Z');

test('nothing is recalled before anything was learnt, and a missing state dir is no error', () => {
  assert.equal(recallReach(stateDir(), 'home', 'gw:02:fc:00:00:00:05', T0), undefined);
});

test('what auto learnt is recalled for that host on that network only', () => {
  const dir = stateDir();
  rememberReach(dir, 'home', 'gw:aa', 'tunnel', T0);
  rememberReach(dir, 'home', 'gw:bb', 'direct', T0);
  rememberReach(dir, 'vps', 'gw:aa', 'direct', T0);
  assert.equal(recallReach(dir, 'home', 'gw:aa', T0 + 1000), 'tunnel');
  assert.equal(recallReach(dir, 'home', 'gw:bb', T0 + 1000), 'direct');
  assert.equal(recallReach(dir, 'vps', 'gw:aa', T0 + 1000), 'direct');
  assert.equal(recallReach(dir, 'vps', 'gw:bb', T0 + 1000), undefined);
  // learning again on a network replaces what it said
  rememberReach(dir, 'home', 'gw:aa', 'direct', T0 + 2000);
  assert.equal(recallReach(dir, 'home', 'gw:aa', T0 + 3000), 'direct');
});

test('a choice is forgotten after REMEMBER_MS, so a network that changed is tried afresh', () => {
  const dir = stateDir();
  rememberReach(dir, 'home', 'nm:Hotel', 'tunnel', T0);
  assert.equal(recallReach(dir, 'home', 'nm:Hotel', T0 + REMEMBER_MS), 'tunnel');
  assert.equal(recallReach(dir, 'home', 'nm:Hotel', T0 + REMEMBER_MS + 1), undefined);
});

test('the memory is private (0700 dir, 0600 file) and a broken file is a cache miss, then rewritten', () => {
  const dir = stateDir();
  rememberReach(dir, 'home', 'gw:aa', 'tunnel', T0);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, REACH_FILE)).mode & 0o777, 0o600);
  for (const broken of [
    '{not json',
    '{"version":2,"hosts":{}}',
    '{"version":1,"hosts":{"home":{"gw:aa":{"reach":"carrier-pigeon","at":"x"}}}}',
  ]) {
    writeFileSync(join(dir, REACH_FILE), broken);
    assert.equal(recallReach(dir, 'home', 'gw:aa', T0), undefined, broken);
  }
  rememberReach(dir, 'home', 'gw:aa', 'direct', T0);
  assert.equal(recallReach(dir, 'home', 'gw:aa', T0), 'direct');
  assert.equal(JSON.parse(readFileSync(join(dir, REACH_FILE), 'utf8')).version, 1);
});

test('a laptop that visits many networks keeps the 32 most recent per host', () => {
  const dir = stateDir();
  for (let i = 0; i < 40; i++) rememberReach(dir, 'home', `gw:${i}`, 'tunnel', T0 + i * 1000);
  const now = T0 + 40 * 1000;
  const kept = Array.from({ length: 40 }, (_, i) => recallReach(dir, 'home', `gw:${i}`, now));
  assert.deepEqual(
    kept.map((r, i) => (r ? i : -1)).filter((i) => i >= 0),
    Array.from({ length: 32 }, (_, i) => i + 8),
    'the oldest eight went',
  );
});
