import { PullbackError } from '../errors.js';
import { peekHostKey } from './connect.js';
import { forcedCommandLine } from '../ssh/forced-command.js';
import { UNIX_USER_NAME } from '../config/fields.js';

/**
 * First contact with a backup host: read the host key it presents, without logging in, so the
 * user can compare its fingerprint and pin it (S6, trust on first use made explicit).
 */
export async function fetchHostKey(target: {
  address: string;
  port: number;
  user: string;
  localAddress?: string;
}): Promise<string> {
  const shown = await peekHostKey(target);
  if (!shown.startsWith('ssh-ed25519 ')) {
    throw new PullbackError(
      'PROTOCOL',
      `${target.address} has no ed25519 host key (Pullback pins ed25519 keys only)`,
    );
  }
  return shown;
}

// USER@HOST[:PORT], the user a plain Unix account name, HOST a name, an IPv4 or a [bracketed IPv6]
const USER_AT_HOST = new RegExp(
  `^(${UNIX_USER_NAME.source.slice(1, -1)})@(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+)(?::(\\d{1,5}))?$`,
);

/** `user@host:port` → parts, with clear errors. */
export function parseUserAtHost(value: string): { user: string; address: string; port: number } {
  const m = USER_AT_HOST.exec(value);
  if (!m) throw new PullbackError('BAD_ARGS', `expected USER@HOST[:PORT], got "${value}"`);
  const port = m[3] ? Number(m[3]) : 22;
  if (port < 1 || port > 65535)
    throw new PullbackError('BAD_ARGS', `port must be 1..65535, got ${port}`);
  return { user: m[1]!, address: m[2]!.replace(/^\[|\]$/g, ''), port };
}

/** The exact line the admin runs on the backup host to let this client in. */
export function serverAddClientLine(name: string, publicKey: string): string {
  const key = publicKey.trim().split(/\s+/).slice(0, 2).join(' ');
  return forcedCommandLine(['pullback', 'server', 'add-client', name, '--key', key]);
}
