import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainError, hintFor } from '../../core/agent/error-hints.js';

/** Raw Node and ssh2 texts become what happened and what to do: two sentences, no errno. */
const RAW: [string, string, RegExp, RegExp][] = [
  [
    'UNREACHABLE',
    'cannot connect to 127.0.0.3:22: connect ECONNREFUSED 127.0.0.3:22',
    /^The backup host \(127\.0\.0\.3:22\) refused the connection: no SSH server answers\.$/,
    /^Check that the SSH server runs on the backup host/,
  ],
  [
    'UNREACHABLE',
    'cannot connect to 10.0.0.9:22: connect ETIMEDOUT 10.0.0.9:22',
    /^The backup host \(10\.0\.0\.9:22\) did not answer in time\.$/,
    /switched on/,
  ],
  [
    'UNREACHABLE',
    'cannot connect to 10.0.0.9:22: connect EHOSTUNREACH 10.0.0.9:22',
    /^There is no network route to the backup host \(10\.0\.0\.9:22\)\.$/,
    /connected to the network/,
  ],
  [
    'UNREACHABLE',
    'cannot resolve nas.local: getaddrinfo ENOTFOUND nas.local',
    /^The backup host's name could not be looked up\.$/,
    /address instead of its name/,
  ],
  [
    'INTERNAL',
    'All configured authentication methods failed',
    /^The backup host no longer accepts this machine's key\.$/,
    /add-client/,
  ],
  [
    'UNREACHABLE',
    '127.0.0.3: read ECONNRESET',
    /^The backup host closed the connection unexpectedly\.$/,
    /try again/,
  ],
];

for (const [code, raw, message, hint] of RAW) {
  test(`R: "${raw}" is explained in words, with what to do`, () => {
    const e = explainError(code, raw);
    assert.match(e.message, message);
    assert.match(e.hint, hint);
    assert.match(e.hint, /[.]$/, 'the hint is a sentence of its own');
    assert.doesNotMatch(e.message + e.hint, /E[A-Z]{4,}|authentication methods/);
    assert.equal(e.detail, raw, 'the raw text is kept for the log only');
  });
}

test('R: an "All configured authentication methods failed" text counts as AUTH_FAILED', () => {
  assert.equal(
    explainError('INTERNAL', 'All configured authentication methods failed').code,
    'AUTH_FAILED',
  );
});

test('R: a message of our own becomes a sentence, with the hint for its code', () => {
  const e = explainError('NO_SPACE', 'the backup host ran out of disk space');
  assert.equal(e.message, 'The backup host ran out of disk space.');
  assert.equal(e.hint, hintFor('NO_SPACE'));
  assert.equal(e.detail, undefined);
});
