import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { PullbackError } from '../errors.js';
import { parsePublicKey } from './keys.js';

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/;

/** One known_hosts line pinning exactly this key: `[host]:port ssh-ed25519 AAAA…` (plain host on 22). */
export function knownHostsLine(host: string, port: number, publicKey: string): string {
  if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    throw new PullbackError('BAD_REQUEST', `not a host name or address: ${JSON.stringify(host)}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PullbackError('BAD_REQUEST', `port must be 1..65535, got ${port}`);
  }
  const key = parsePublicKey(publicKey);
  const name = port === 22 ? host : `[${host}]:${port}`;
  return `${name} ${key.type} ${key.base64}`;
}

/** `ssh-ed25519 AAAA…` from the raw key blob ssh2 hands to hostVerifier. */
export function publicKeyLineFromBlob(blob: Buffer): string {
  const typeLength = blob.readUInt32BE(0);
  const type = blob.subarray(4, 4 + typeLength).toString('latin1');
  return `${type} ${blob.toString('base64')}`;
}

function sameBlob(a: Buffer, b: Buffer): boolean {
  return a.length > 0 && a.length === b.length && timingSafeEqual(a, b);
}

/** Compares two `type base64 [comment]` lines by their key blob only, in constant time. */
export function sameHostKey(a: string, b: string): boolean {
  const blob = (line: string) => Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
  return sameBlob(blob(a), blob(b));
}

/**
 * An ssh2 `hostVerifier` that accepts only the pinned key: the raw blob the server presents
 * is compared with the pinned one in constant time.
 */
export function makeHostVerifier(expectedPublicKeyLine: string): (key: Buffer) => boolean {
  const expected = Buffer.from(parsePublicKey(expectedPublicKeyLine).base64, 'base64');
  return (key: Buffer) => Buffer.isBuffer(key) && sameBlob(key, expected);
}
