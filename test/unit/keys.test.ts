import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { PullbackError } from '../../core/errors.js';
import {
  fingerprint,
  generateKeyPair,
  isPrivateKeyText,
  parsePublicKey,
} from '../../core/ssh/keys.js';
import { knownHostsLine, makeHostVerifier } from '../../core/ssh/hostkey-pin.js';
import { renderAuthorizedKeysLine, sshdExpiryTime } from '../../core/ssh/sshd-config.js';

const pair = generateKeyPair('pullback-test');

function refusedAsBadRequest(fn: () => unknown, why: RegExp = /./) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PullbackError, `expected a PullbackError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_REQUEST');
    assert.match(err.message, why);
    return true;
  });
}

test('generateKeyPair makes an OpenSSH ed25519 pair with the comment', () => {
  assert.match(pair.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
  assert.match(pair.publicKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+=* pullback-test$/);
  assert.ok(isPrivateKeyText(pair.privateKey));
  assert.ok(!isPrivateKeyText(pair.publicKey));
});

test('the fingerprint equals ssh-keygen -lf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-keys-'));
  try {
    const file = join(dir, 'key.pub');
    writeFileSync(file, pair.publicKey + '\n');
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], {
      encoding: 'utf8',
    });
    const expected = out.split(' ')[1];
    assert.match(expected ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(fingerprint(pair.publicKey), expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parsePublicKey takes one ssh-ed25519 line (a trailing newline is fine)', () => {
  const [, base64] = pair.publicKey.split(' ');
  assert.deepEqual(parsePublicKey(pair.publicKey), {
    type: 'ssh-ed25519',
    base64,
    comment: 'pullback-test',
  });
  assert.deepEqual(parsePublicKey(`ssh-ed25519 ${base64}\n`), { type: 'ssh-ed25519', base64 });
});

test('parsePublicKey rejects private keys', () => {
  refusedAsBadRequest(() => parsePublicKey(pair.privateKey), /private key/);
  refusedAsBadRequest(() => parsePublicKey(pair.privateKey.split('\n').slice(1).join('')));
});

test('parsePublicKey rejects rsa and ecdsa keys', () => {
  const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048, comment: 'r' }).public;
  const ecdsa = ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }).public;
  refusedAsBadRequest(() => parsePublicKey(rsa), /ssh-rsa keys are not accepted/);
  refusedAsBadRequest(() => parsePublicKey(ecdsa), /not accepted/);
  // an rsa blob dressed up as ed25519
  refusedAsBadRequest(() => parsePublicKey(`ssh-ed25519 ${rsa.split(' ')[1]}`));
});

test('parsePublicKey rejects authorized_keys options and a second line', () => {
  refusedAsBadRequest(() => parsePublicKey(`restrict ${pair.publicKey}`));
  refusedAsBadRequest(() => parsePublicKey(`command="sh" ${pair.publicKey}`));
  refusedAsBadRequest(() => parsePublicKey(`from="1.2.3.4",no-pty ${pair.publicKey}`));
  refusedAsBadRequest(
    () => parsePublicKey(`${pair.publicKey}\n${generateKeyPair('x').publicKey}`),
    /more than one line/,
  );
  refusedAsBadRequest(() => parsePublicKey(`${pair.publicKey}\rssh-ed25519 AAAA`));
  refusedAsBadRequest(() => parsePublicKey(`${pair.publicKey}\0`));
});

test('parsePublicKey rejects garbage', () => {
  for (const bad of ['', 'ssh-ed25519', 'ssh-ed25519 AAAA', 'ssh-ed25519 !!!', 'hello world']) {
    refusedAsBadRequest(() => parsePublicKey(bad));
  }
  const [, base64 = ''] = pair.publicKey.split(' ');
  refusedAsBadRequest(() => parsePublicKey(`ssh-ed25519 ${base64.slice(0, -4)}`));
});

test('known_hosts lines pin the key for host and port', () => {
  const [, base64] = pair.publicKey.split(' ');
  assert.equal(
    knownHostsLine('127.0.0.2', 2222, pair.publicKey),
    `[127.0.0.2]:2222 ssh-ed25519 ${base64}`,
  );
  assert.equal(
    knownHostsLine('backup.lan', 22, pair.publicKey),
    `backup.lan ssh-ed25519 ${base64}`,
  );
  refusedAsBadRequest(() => knownHostsLine('a b', 22, pair.publicKey));
  refusedAsBadRequest(() => knownHostsLine('*', 22, pair.publicKey));
  refusedAsBadRequest(() => knownHostsLine('127.0.0.2', 0, pair.publicKey));
});

test('S5: the host verifier accepts only the pinned key blob', () => {
  const verify = makeHostVerifier(pair.publicKey);
  const blob = Buffer.from(pair.publicKey.split(' ')[1]!, 'base64');
  const other = Buffer.from(generateKeyPair('other').publicKey.split(' ')[1]!, 'base64');
  assert.equal(verify(blob), true);
  assert.equal(verify(other), false);
  assert.equal(verify(blob.subarray(0, 20)), false);
  assert.equal(verify(Buffer.alloc(0)), false);
});

test('S1: the one-time key line is restricted, bound to the address and carries an expiry-time', () => {
  const line = renderAuthorizedKeysLine({
    publicKey: pair.publicKey,
    from: '127.0.0.3',
    expiresAt: new Date('2026-11-26T18:01:02.345Z'),
    command: '/usr/bin/pullback gate --allow /home',
  });
  assert.equal(
    line,
    `restrict,from="127.0.0.3",expiry-time="20261126180102Z",command="/usr/bin/pullback gate --allow /home" ssh-ed25519 ${pair.publicKey.split(' ')[1]}`,
  );
  assert.equal(sshdExpiryTime(new Date('2030-01-02T03:04:05Z')), '20300102030405Z');
});

test('the one-time key line refuses bad addresses and unquotable commands', () => {
  const base = {
    publicKey: pair.publicKey,
    from: '127.0.0.3',
    expiresAt: new Date(),
    command: 'gate',
  };
  for (const from of ['127.0.0.*', '10.0.0.0/8', 'host.lan', '1.2.3.4" ,command="sh']) {
    refusedAsBadRequest(() => renderAuthorizedKeysLine({ ...base, from }));
  }
  for (const command of ['echo "hi"', 'a\\b', 'a\nb', '']) {
    refusedAsBadRequest(() => renderAuthorizedKeysLine({ ...base, command }));
  }
  refusedAsBadRequest(() => renderAuthorizedKeysLine({ ...base, expiresAt: new Date(NaN) }));
});

test('every generated one-time key is well-formed for OpenSSH (2000 draws; ssh2 sometimes encodes one short)', () => {
  for (let i = 0; i < 2000; i++) {
    const pair = generateKeyPair('draw');
    assert.doesNotThrow(() => parsePublicKey(pair.publicKey), pair.publicKey);
  }
});
