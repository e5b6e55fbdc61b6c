import { createHash } from 'node:crypto';
import { PullbackError } from '../errors.js';
import { ssh2Utils } from './ssh2-utils.js';

export interface KeyPair {
  /** OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), unencrypted */
  privateKey: string;
  /** `ssh-ed25519 AAAA… comment` */
  publicKey: string;
}

export interface ParsedPublicKey {
  type: 'ssh-ed25519';
  /** the key blob, base64 (canonical, with padding) */
  base64: string;
  comment?: string;
}

/** A fresh ed25519 key pair; the comment shows up in logs and authorized_keys. */
export function generateKeyPair(comment: string): KeyPair {
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\0-\x1f\x7f]/.test(comment)) {
    throw new PullbackError('BAD_REQUEST', 'a key comment cannot contain control characters');
  }
  // ssh2 now and then (about 0.3 %) encodes a key whose leading byte is zero one byte short;
  // such a key is malformed for OpenSSH, so draw again.
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = ssh2Utils().generateKeyPairSync('ed25519', { comment });
    const publicKey = pair.public.trim();
    if (isWellFormedEd25519(publicKey, pair.private))
      return { privateKey: pair.private, publicKey };
  }
  throw new PullbackError('INTERNAL', 'could not generate a well-formed ed25519 key');
}

const ED25519_BLOB_BYTES = 4 + 'ssh-ed25519'.length + 4 + 32;

function isWellFormedEd25519(publicKey: string, privateKey: string): boolean {
  const blob = Buffer.from(publicKey.split(' ')[1] ?? '', 'base64');
  if (blob.length !== ED25519_BLOB_BYTES) return false;
  const parsed = ssh2Utils().parseKey(privateKey);
  return !(parsed instanceof Error) && !Array.isArray(parsed);
}

/** True if the text holds a private key of any kind (PEM/OpenSSH armour). */
export function isPrivateKeyText(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text);
}

function refuse(why: string): never {
  throw new PullbackError('BAD_REQUEST', `not an ssh-ed25519 public key: ${why}`);
}

/**
 * Parses exactly one `ssh-ed25519 <base64> [comment]` line: no options prefix, no other key
 * type, no second line. A single trailing newline (as in a .pub file) is tolerated.
 */
export function parsePublicKey(line: string): ParsedPublicKey {
  if (typeof line !== 'string') refuse('expected a string');
  if (isPrivateKeyText(line)) refuse('this is a private key; give the public one (.pub)');
  const text = line.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(text)) refuse('more than one line');
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\0-\x08\x0b-\x1f\x7f]/.test(text)) refuse('contains control characters');
  const match = /^ssh-ed25519[ \t]+([A-Za-z0-9+/]+={0,2})(?:[ \t]+(.*?))?[ \t]*$/.exec(text.trim());
  if (!match) {
    const first = text.trim().split(/[ \t]/)[0] ?? '';
    if (/^ssh-|^ecdsa-|^sk-/.test(first))
      refuse(`${first} keys are not accepted, only ssh-ed25519`);
    refuse('expected "ssh-ed25519 AAAA… [comment]" (no options, one line)');
  }
  const base64 = match[1]!;
  const comment = match[2] || undefined;
  const blob = Buffer.from(base64, 'base64');
  if (blob.toString('base64') !== base64) refuse('the key data is not canonical base64');
  // the blob is string "ssh-ed25519", then string of the 32-byte key, and nothing else
  const typeLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (typeLength !== 11 || blob.subarray(4, 15).toString('latin1') !== 'ssh-ed25519')
    refuse('wrong key type');
  if (blob.length !== ED25519_BLOB_BYTES || blob.readUInt32BE(15) !== 32)
    refuse('the key data does not match its type');
  return comment === undefined
    ? { type: 'ssh-ed25519', base64 }
    : { type: 'ssh-ed25519', base64, comment };
}

/** `SHA256:…` exactly as `ssh-keygen -lf` prints it (unpadded base64 of the blob's SHA-256). */
export function fingerprint(publicKeyLine: string): string {
  const { base64 } = parsePublicKey(publicKeyLine);
  const digest = createHash('sha256').update(Buffer.from(base64, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}
