import { timingSafeEqual } from 'node:crypto';

/** `ssh-ed25519 AAAA…` from the raw key blob ssh2 hands to hostVerifier. */
export function publicKeyLineFromBlob(blob: Buffer): string {
  const typeLength = blob.readUInt32BE(0);
  const type = blob.subarray(4, 4 + typeLength).toString('latin1');
  return `${type} ${blob.toString('base64')}`;
}

/** Compares two `type base64 [comment]` lines by their key blob only, in constant time. */
export function sameHostKey(a: string, b: string): boolean {
  const blob = (line: string) => Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
  const x = blob(a);
  const y = blob(b);
  return x.length > 0 && x.length === y.length && timingSafeEqual(x, y);
}
