import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { PullbackError } from '../errors.js';
import { parsePublicKey } from './keys.js';

/** File names inside a one-shot directory. */
export const ONESHOT_FILES = {
  hostKey: 'host_key',
  authorizedKeys: 'authorized_keys',
  config: 'sshd_config',
  pid: 'pid',
  /** written by the gate: why it refused (core/gate/refusal-log.ts), read at the end */
  refusals: 'refusals',
} as const;

/**
 * The ciphers of the pull's SSH connection, which the one-shot sshd offers and the backup
 * host's ssh asks for in this order (the client's order decides). AES-GCM first: with AES
 * instructions it is cipher and MAC in one pass (`openssl speed`: ~2.5× aes128-ctr then
 * hmac-sha256, what ssh's default order picked from this list), and not open to the Terrapin
 * prefix truncation whatever the other side's strict-kex support. 128-bit keys: one-time keys
 * of one session, as OpenSSH's own default order prefers.
 */
export const PULL_CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'aes128-ctr',
  'aes256-ctr',
] as const;

export interface OneShotSshdConfigOptions {
  /** the 0700 one-shot directory holding host_key and authorized_keys */
  dir: string;
  /** the only account that may log in */
  user: string;
  /** the gate command, the same string as the key's command= (see below) */
  gateCommand: string;
  loginGraceSeconds: number;
  clientAliveIntervalSeconds?: number;
}

/** Account names sshd's AllowUsers takes literally: no patterns, no user@host, no spaces. */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;

function badRequest(message: string): never {
  throw new PullbackError('BAD_REQUEST', message);
}

/** The account sshd lets in; a plain name so AllowUsers cannot be turned into a pattern. */
export function checkAccountName(user: string): void {
  if (!USER_NAME.test(user)) badRequest(`not a plain account name: ${JSON.stringify(user)}`);
}

function checkPath(what: string, path: string): void {
  if (!isAbsolute(path)) badRequest(`${what} must be an absolute path, got ${path}`);
  // sshd_config has no quoting we want to rely on: keep paths to one plain token.
  if (!/^[A-Za-z0-9_./@+=:,-]+$/.test(path)) {
    badRequest(`${what} ${JSON.stringify(path)} has characters sshd_config cannot take safely`);
  }
}

/** A forced command must survive both authorized_keys "…" quoting and sshd_config's line parser. */
export function checkGateCommand(command: string): void {
  if (!command.trim()) badRequest('the gate command is empty');
  if (/["\\\r\n\0]/.test(command)) {
    badRequest('the gate command cannot contain quotes, backslashes or line breaks');
  }
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\x01-\x1f\x7f]/.test(command)) badRequest('the gate command contains control characters');
}

function checkSeconds(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    badRequest(`${what} must be a whole number of seconds, 1..${max}, got ${value}`);
  }
}

/**
 * The whole sshd_config of a one-shot, built from an allow-list: every directive is set
 * explicitly here, no Include, nothing inherited from /etc/ssh (S2).
 *
 * Both ForceCommand and the key's command= carry the gate: ForceCommand wins inside sshd and
 * covers a key line without command=; command= covers a config that is not the one we wrote.
 *
 * StrictModes is off: it refuses files below world-writable ancestors such as /tmp (where test
 * and CI state lives) and walks the account's home, which in system mode is not ours. Instead
 * startOneShotSshd itself checks that the directory is ours, a real directory and 0700, and that
 * every file in it is 0600.
 */
export function renderOneShotSshdConfig(opts: OneShotSshdConfigOptions): string {
  checkPath('the one-shot directory', opts.dir);
  checkAccountName(opts.user);
  checkGateCommand(opts.gateCommand);
  checkSeconds('LoginGraceTime', opts.loginGraceSeconds, 600);
  const alive = opts.clientAliveIntervalSeconds ?? 15;
  checkSeconds('ClientAliveInterval', alive, 3600);
  const lines: [string, string][] = [
    ['HostKey', join(opts.dir, ONESHOT_FILES.hostKey)],
    ['AuthorizedKeysFile', join(opts.dir, ONESHOT_FILES.authorizedKeys)],
    ['AuthorizedKeysCommand', 'none'],
    ['AuthorizedPrincipalsFile', 'none'],
    ['TrustedUserCAKeys', 'none'],
    ['AllowUsers', opts.user],
    ['AuthenticationMethods', 'publickey'],
    ['PubkeyAuthentication', 'yes'],
    ['PasswordAuthentication', 'no'],
    ['PermitEmptyPasswords', 'no'],
    ['KbdInteractiveAuthentication', 'no'],
    ['HostbasedAuthentication', 'no'],
    ['GSSAPIAuthentication', 'no'],
    ['UsePAM', 'no'],
    // tests and the user-mode CI run as root; root still gets only the forced command
    ['PermitRootLogin', 'forced-commands-only'],
    ['MaxAuthTries', '1'],
    ['MaxSessions', '1'],
    ['MaxStartups', '1'],
    ['LoginGraceTime', String(opts.loginGraceSeconds)],
    ['ClientAliveInterval', String(alive)],
    ['ClientAliveCountMax', '3'],
    ['DisableForwarding', 'yes'],
    ['AllowTcpForwarding', 'no'],
    ['AllowAgentForwarding', 'no'],
    ['AllowStreamLocalForwarding', 'no'],
    ['X11Forwarding', 'no'],
    ['PermitTunnel', 'no'],
    ['PermitListen', 'none'],
    ['PermitOpen', 'none'],
    ['GatewayPorts', 'no'],
    ['PermitTTY', 'no'],
    ['PermitUserRC', 'no'],
    ['PermitUserEnvironment', 'no'],
    // sshd runs the gate through the account's shell; bash reads ~/.bashrc there only as a
    // top-level shell (SHLVL < 2 after its own +1), and a user's .bashrc cost 0.1 s per run
    ['SetEnv', 'SHLVL=1'],
    ['ExposeAuthInfo', 'no'],
    ['StrictModes', 'no'],
    ['ChrootDirectory', 'none'],
    ['PidFile', 'none'],
    ['UseDNS', 'no'],
    ['PrintMotd', 'no'],
    ['PrintLastLog', 'no'],
    ['Banner', 'none'],
    ['Compression', 'no'],
    ['LogLevel', 'VERBOSE'],
    ['PubkeyAcceptedAlgorithms', 'ssh-ed25519'],
    ['HostKeyAlgorithms', 'ssh-ed25519'],
    [
      'KexAlgorithms',
      'sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org',
    ],
    ['Ciphers', PULL_CIPHERS.join(',')],
    ['MACs', 'hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com'],
    // no Subsystem line at all: no sftp, no other subsystem
    ['ForceCommand', opts.gateCommand],
  ];
  return (
    '# Pullback one-shot sshd: one connection, one key, the gate command only.\n' +
    lines.map(([key, value]) => `${key} ${value}\n`).join('')
  );
}

export interface AuthorizedKeysLineOptions {
  /** `ssh-ed25519 AAAA… [comment]` */
  publicKey: string;
  /**
   * the only source address this key is accepted from; null in tunnel mode, where sshd -i
   * talks over the handoff's own channel and no address reaches it (see core/tunnel/)
   */
  from: string | null;
  /** the key is refused after this moment */
  expiresAt: Date;
  /** the forced command */
  command: string;
}

/** `YYYYMMDDHHMMSSZ`, the UTC form of sshd(8)'s expiry-time timespec. */
export function sshdExpiryTime(at: Date): string {
  if (Number.isNaN(at.getTime())) badRequest('the key expiry is not a valid time');
  return at
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** The one authorized_keys line of a one-shot: restricted, address-bound, expiring, forced. */
export function renderAuthorizedKeysLine(opts: AuthorizedKeysLineOptions): string {
  if (opts.from !== null && isIP(opts.from) === 0)
    badRequest(`from must be an IP address, got ${JSON.stringify(opts.from)}`);
  checkGateCommand(opts.command);
  const key = parsePublicKey(opts.publicKey);
  const options = [
    'restrict',
    ...(opts.from !== null ? [`from="${opts.from}"`] : []),
    `expiry-time="${sshdExpiryTime(opts.expiresAt)}"`,
    `command="${opts.command}"`,
  ];
  return `${options.join(',')} ${key.type} ${key.base64}`;
}
