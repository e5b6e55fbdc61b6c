import { lstatSync, realpathSync } from 'node:fs';
import { isIP } from 'node:net';
import { posix } from 'node:path';
import { PullbackError } from '../errors.js';

/**
 * The privileged helper's whole input contract, built by the client and checked by the helper.
 * Allow-list only: fixed flag names, one value each, every value checked; anything else refused.
 */
export interface HelperRequest {
  bindAddress: string;
  allowFrom: string;
  /** absent: the listener picks a free port */
  port?: number;
  /** `ssh-ed25519 AAAA…`, no comment, no options */
  clientPublicKey: string;
  deadlineSeconds: number;
  sources: string[];
  /**
   * tunnel mode: listen nowhere; the pull's one SSH connection travels over the helper's stdin
   * (after H and the lists) and stdout (after the ready line)
   */
  tunnel?: boolean;
}

export const HELPER_OPERATION = 'oneshot';
export const MAX_DEADLINE_SECONDS = 7 * 24 * 3600;
const MAX_SOURCES = 64;
const MAX_HOST_KEY_BYTES = 8192;

function refuse(message: string): never {
  throw new PullbackError('BAD_ARGS', `helper: ${message}`);
}

/** Just `ssh-ed25519 <base64>` of K's public half: the comment is dropped. */
export function bareEd25519PublicKey(key: string): string {
  return key.trim().split(/\s+/).slice(0, 2).join(' ');
}

/** argv after the helper program: what the client passes through pkexec or sudo. */
export function helperArgv(request: HelperRequest): string[] {
  return [
    HELPER_OPERATION,
    '--bind',
    request.bindAddress,
    '--allow-from',
    request.allowFrom,
    ...(request.port === undefined ? [] : ['--port', String(request.port)]),
    '--client-key',
    bareEd25519PublicKey(request.clientPublicKey),
    '--deadline',
    String(request.deadlineSeconds),
    ...request.sources.flatMap((source) => ['--source', source]),
    ...(request.tunnel ? ['--tunnel'] : []),
  ];
}

function ipAddress(value: string, flag: string): string {
  if (isIP(value) === 0 || value.includes('%'))
    refuse(`${flag} must be an IP address, got ${JSON.stringify(value)}`);
  return value;
}

function wholeNumber(value: string, flag: string, min: number, max: number): number {
  if (!/^\d{1,7}$/.test(value) || Number(value) < min || Number(value) > max) {
    refuse(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function ed25519PublicKey(value: string): string {
  const match = /^ssh-ed25519 ([A-Za-z0-9+/]{68})$/.exec(value);
  const blob = match ? Buffer.from(match[1]!, 'base64') : undefined;
  // wire format: string "ssh-ed25519", string <32-byte key>
  const expected = Buffer.concat([
    Buffer.from([0, 0, 0, 11]),
    Buffer.from('ssh-ed25519'),
    Buffer.from([0, 0, 0, 32]),
  ]);
  if (!blob || blob.length !== 51 || !blob.subarray(0, 19).equals(expected)) {
    refuse(
      '--client-key must be exactly one ssh-ed25519 public key ("ssh-ed25519 AAAA…", no options, no comment)',
    );
  }
  return value;
}

function sourcePath(value: string): string {
  // quotes and backslashes cannot travel safely in the gate's forced command
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\x00-\x1f\x7f"\\]/.test(value))
    refuse(`--source ${JSON.stringify(value)} contains control characters, quotes or backslashes`);
  if (!value.startsWith('/'))
    refuse(`--source must be an absolute path, got ${JSON.stringify(value)}`);
  if (
    value.length > 4096 ||
    (posix.normalize(value) !== value && value !== '/') ||
    (value.endsWith('/') && value !== '/')
  ) {
    refuse(
      `--source must be a normalised absolute path (no "..", ".", "//" or trailing "/"), got ${JSON.stringify(value)}`,
    );
  }
  try {
    if (lstatSync(value).isSymbolicLink())
      refuse(`--source ${value} is a symlink; name the real path`);
    if (realpathSync(value) !== value)
      refuse(`--source ${value} goes through a symlink; name the real path ${realpathSync(value)}`);
  } catch (err) {
    if (err instanceof PullbackError) throw err;
    refuse(`--source ${value} does not exist`);
  }
  return value;
}

/** Parses and checks the helper's argv (without the program). Throws BAD_ARGS on anything unexpected. */
export function parseHelperArgv(argv: readonly string[]): HelperRequest {
  if (argv[0] !== HELPER_OPERATION)
    refuse(`the only operation is "${HELPER_OPERATION}", got ${JSON.stringify(argv[0] ?? '')}`);
  const single = new Map<string, string>();
  const sources: string[] = [];
  const flags = new Set([
    '--bind',
    '--allow-from',
    '--port',
    '--client-key',
    '--deadline',
    '--source',
  ]);
  let tunnel = false;
  for (let i = 1; i < argv.length; i += 2) {
    const flag = argv[i]!;
    if (flag === '--tunnel') {
      // the one flag without a value
      if (tunnel) refuse('--tunnel given twice');
      tunnel = true;
      i -= 1;
      continue;
    }
    const value = argv[i + 1];
    if (!flags.has(flag)) refuse(`unexpected argument ${JSON.stringify(flag)}`);
    if (value === undefined) refuse(`${flag} needs a value`);
    if (flag === '--source') sources.push(value);
    else if (single.has(flag)) refuse(`${flag} given twice`);
    else single.set(flag, value);
  }
  for (const required of ['--bind', '--allow-from', '--client-key', '--deadline']) {
    if (!single.has(required)) refuse(`${required} is required`);
  }
  if (sources.length === 0 || sources.length > MAX_SOURCES)
    refuse(`give 1 to ${MAX_SOURCES} --source paths, got ${sources.length}`);
  if (new Set(sources).size !== sources.length) refuse('a --source is given twice');
  const port = single.get('--port');
  if (tunnel && port !== undefined) refuse('--port and --tunnel exclude each other');
  return {
    bindAddress: ipAddress(single.get('--bind')!, '--bind'),
    allowFrom: ipAddress(single.get('--allow-from')!, '--allow-from'),
    ...(port === undefined ? {} : { port: wholeNumber(port, '--port', 1, 65535) }),
    clientPublicKey: ed25519PublicKey(single.get('--client-key')!),
    deadlineSeconds: wholeNumber(single.get('--deadline')!, '--deadline', 1, MAX_DEADLINE_SECONDS),
    sources: sources.map(sourcePath),
    ...(tunnel ? { tunnel: true } : {}),
  };
}

function readString(buf: Buffer, offset: number): [Buffer, number] {
  if (offset + 4 > buf.length) refuse('the host key on stdin is truncated');
  const length = buf.readUInt32BE(offset);
  if (offset + 4 + length > buf.length) refuse('the host key on stdin is truncated');
  return [buf.subarray(offset + 4, offset + 4 + length), offset + 4 + length];
}

/** Checks that stdin carried exactly one unencrypted OpenSSH ed25519 private key (H). */
export function parseHostPrivateKey(text: string): string {
  if (text.length > MAX_HOST_KEY_BYTES) refuse('the host key on stdin is too long');
  const match =
    /^-----BEGIN OPENSSH PRIVATE KEY-----\n([A-Za-z0-9+/=\n]+)-----END OPENSSH PRIVATE KEY-----\n?$/.exec(
      text,
    );
  if (!match) refuse('stdin must carry one OpenSSH private key (the one-time host key H)');
  const blob = Buffer.from(match[1]!.replace(/\n/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0');
  if (!blob.subarray(0, magic.length).equals(magic))
    refuse('the host key on stdin is not an OpenSSH private key');
  let offset = magic.length;
  const fields: Buffer[] = [];
  for (let i = 0; i < 3; i++) {
    const [field, next] = readString(blob, offset);
    fields.push(field);
    offset = next;
  }
  if (fields[0]!.toString() !== 'none' || fields[1]!.toString() !== 'none')
    refuse('the host key on stdin must not be encrypted');
  if (offset + 4 > blob.length || blob.readUInt32BE(offset) !== 1)
    refuse('stdin must carry exactly one host key');
  const [publicBlob] = readString(blob, offset + 4);
  const [keyType] = readString(publicBlob, 0);
  if (keyType.toString() !== 'ssh-ed25519')
    refuse(
      `the host key must be ssh-ed25519, got ${JSON.stringify(keyType.toString().slice(0, 40))}`,
    );
  return text.endsWith('\n') ? text : `${text}\n`;
}
