import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectBackFailure,
  couldNotConnectBack,
  effectiveReach,
  parseReach,
  planReach,
  tunnelFallbackFailure,
} from '../../core/tunnel/reach-choice.js';
import { setHostReach } from '../../core/config/host-reach.js';
import { parseClientConfig } from '../../core/config/client-store.js';
import { PullbackError } from '../../core/errors.js';

test('parseReach takes auto, direct and tunnel, and refuses anything else with BAD_ARGS naming them', () => {
  for (const word of ['auto', 'direct', 'tunnel']) assert.equal(parseReach(word, '--reach'), word);
  for (const word of ['', 'Tunnel', 'ssh -R', 'direct ']) {
    assert.throws(
      () => parseReach(word, 'backup: --reach'),
      (err: unknown) =>
        err instanceof PullbackError &&
        err.code === 'BAD_ARGS' &&
        err.message === `backup: --reach must be one of auto, direct, tunnel, got "${word}"`,
    );
  }
});

test('--reach overrides the host for one run; without either a run is auto', () => {
  assert.equal(effectiveReach('tunnel', 'direct'), 'tunnel');
  assert.equal(effectiveReach('direct', undefined), 'direct');
  assert.equal(effectiveReach(undefined, 'tunnel'), 'tunnel');
  assert.equal(effectiveReach(undefined, undefined), 'auto');
});

test('planReach: direct and tunnel are what they say; auto probes direct first unless this network taught it the tunnel', () => {
  assert.deepEqual(planReach('direct', undefined), { first: 'direct', probing: false });
  assert.deepEqual(planReach('direct', 'tunnel'), { first: 'direct', probing: false });
  assert.deepEqual(planReach('tunnel', 'direct'), { first: 'tunnel', probing: false });
  assert.deepEqual(planReach('auto', undefined), { first: 'direct', probing: true });
  assert.deepEqual(planReach('auto', 'direct'), { first: 'direct', probing: true });
  assert.deepEqual(planReach('auto', 'tunnel'), { first: 'tunnel', probing: false });
});

test('only an UNREACHABLE after the backup host accepted and before any progress is a connect-back failure', () => {
  const unreachable = new PullbackError(
    'UNREACHABLE',
    'ssh: connect to host 10.202.0.1 port 40000: Connection refused',
  );
  assert.equal(couldNotConnectBack(unreachable, true, false), true);
  assert.equal(
    couldNotConnectBack(unreachable, false, false),
    false,
    'the backup host itself is out of reach',
  );
  assert.equal(couldNotConnectBack(unreachable, true, true), false, 'a link cut mid-transfer');
  assert.equal(
    couldNotConnectBack(new PullbackError('HOST_KEY_MISMATCH', 'host key'), true, false),
    false,
  );
  assert.equal(couldNotConnectBack(new Error('boom'), true, false), false);
});

test('a connect-back failure is one UNREACHABLE line with the cause and the way out (--reach tunnel)', () => {
  const cause = new PullbackError(
    'UNREACHABLE',
    'ssh: connect to host 10.202.0.1 port 40000: Connection refused',
  );
  const err = connectBackFailure(cause);
  assert.equal(err.code, 'UNREACHABLE');
  assert.equal(err.cause, cause);
  const line = err.toLine();
  assert.doesNotMatch(line, /\n/);
  assert.match(
    line,
    /^UNREACHABLE: the backup host could not connect back to this machine \(ssh: connect to host 10\.202\.0\.1 port 40000: Connection refused\)/,
  );
  assert.match(line, /--reach tunnel/);
});

test("auto's tunnel that could not start (not approved in system mode) reports the connect-back failure first, then why the tunnel did not help; a tunnel that failed later is itself the error", () => {
  const direct = connectBackFailure(new PullbackError('UNREACHABLE', 'Connection refused'));
  const refused = new PullbackError(
    'HELPER_FAILED',
    'backup host 10.0.0.3 is not approved for tunnel mode (root approves with: sudo pullback system allow HOST --tunnel --source DIR)',
  );
  const err = tunnelFallbackFailure(direct, refused);
  assert.equal(err.code, 'UNREACHABLE');
  assert.doesNotMatch(err.toLine(), /\n/);
  assert.match(
    err.toLine(),
    /could not connect back .*; the tunnel could not be used either: .*not approved for tunnel mode/,
  );
  const cut = new PullbackError('PROTOCOL', 'the backup host closed the handoff without an answer');
  assert.equal(tunnelFallbackFailure(direct, cut), cut);
});

const config = parseClientConfig({
  name: 'laptop',
  hosts: ['nas', 'vps'].map((name) => ({
    name,
    user: 'pullback',
    address: `${name}.example.org`,
    hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4rT3vTt99Ox5kndS4HmgTrKBT8SKzhK4rhGkEVGlCI',
  })),
});

test('config set-reach sets that host only, leaves the input alone, and the result is still a valid config', () => {
  const changed = setHostReach(config, 'vps', 'tunnel');
  assert.deepEqual(
    changed.hosts.map((h) => [h.name, h.reach]),
    [
      ['nas', undefined],
      ['vps', 'tunnel'],
    ],
  );
  assert.equal(config.hosts[1]!.reach, undefined, 'the input is not changed');
  assert.deepEqual(parseClientConfig(changed).hosts[1]!.reach, 'tunnel');
  assert.equal(setHostReach(changed, 'vps', 'auto').hosts[1]!.reach, 'auto');
});

test('config set-reach on a host that is not paired is NOT_FOUND, naming the paired ones', () => {
  assert.throws(
    () => setHostReach(config, 'office', 'direct'),
    (err: unknown) =>
      err instanceof PullbackError &&
      err.code === 'NOT_FOUND' &&
      err.message === 'no paired backup host "office" (paired: nas, vps)',
  );
  assert.throws(() => setHostReach({ hosts: [] }, 'office', 'direct'), /paired: none/);
});
