import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { posix } from 'node:path';
import { z } from 'zod';
import { PullbackError } from '../errors.js';
import { zodToPullbackError } from '../config/zod-error.js';
import { SYSTEM_APPROVALS } from './paths.js';
import { untrustedReason } from './trusted-path.js';

/**
 * What root approved for system mode, in /etc/pullback/system.json (root:root 0644): the backup
 * hosts that may be handed a system-mode one-shot, each with the sources it may read. The
 * helper checks every call against it, so whoever may call the helper (the active desktop
 * user, members of group pullback) can only start a backup to an approved host, of approved
 * sources; they no longer choose who reads everything. Written by `pullback system allow` /
 * `disallow` (root); the helper refuses the file unless root owns it and only root can write
 * it and every directory above it.
 */
const approvedHostSchema = z
  .object({
    /** as root typed it: a name or an address */
    host: z.string().min(1).max(253),
    /** the backup host's SSH port, for the record: the helper sees only the address */
    port: z.number().int().min(1).max(65535),
    /** what `host` resolved to when root approved it; the one-shot accepts only these */
    addresses: z
      .array(z.string().refine((a) => isIP(a) !== 0, 'must be an IP address'))
      .min(1)
      .max(16),
    /** real, absolute paths: a source must be one of them or inside one */
    sources: z
      .array(z.string().refine((p) => p.startsWith('/') && posix.normalize(p) === p))
      .min(1)
      .max(64),
    /**
     * tunnel mode approved too: the pull then comes through the caller's own process, so no
     * address check stands between the caller and these sources (docs/security.md)
     */
    tunnel: z.boolean().optional(),
  })
  .strict();

export const approvalsSchema = z
  .object({ version: z.literal(1), backupHosts: z.array(approvedHostSchema).max(64) })
  .strict();

export type Approvals = z.infer<typeof approvalsSchema>;
export type ApprovedHost = z.infer<typeof approvedHostSchema>;

export const NO_APPROVALS: Approvals = { version: 1, backupHosts: [] };

const HOW_TO_APPROVE = 'root approves with: sudo pullback system allow HOST --source DIR';

/** Why root must not trust the file, or undefined. A missing file is "nothing approved". */
export function approvalsFileProblem(file = SYSTEM_APPROVALS): string | undefined {
  if (!existsSync(file)) return undefined;
  const st = lstatSync(file);
  if (!st.isFile()) return `${file} is not a regular file`;
  return untrustedReason(file);
}

/** Reads the approvals as root may trust them; throws HELPER_FAILED for a file root must not trust. */
export function readApprovals(file = SYSTEM_APPROVALS): Approvals {
  const problem = approvalsFileProblem(file);
  if (problem)
    throw new PullbackError(
      'HELPER_FAILED',
      `${file} must be owned and writable by root only, but ${problem}; nothing is approved until root fixes it`,
    );
  if (!existsSync(file)) return NO_APPROVALS;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new PullbackError('BAD_CONFIG', `${file}: not valid JSON`);
  }
  const parsed = approvalsSchema.safeParse(json);
  if (!parsed.success) throw zodToPullbackError('BAD_CONFIG', file, parsed.error);
  return parsed.data;
}

function isInside(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(root + '/');
}

/**
 * The helper's check: the one-shot may accept only an approved backup host's address, and
 * every source must be one of that host's approved sources or inside one. The sources are
 * real paths already (the helper refuses any that goes through a symlink).
 */
export function assertApproved(
  request: { allowFrom: string; sources: readonly string[]; tunnel?: boolean },
  approvals: Approvals,
): void {
  const byAddress = approvals.backupHosts.filter((h) => h.addresses.includes(request.allowFrom));
  if (byAddress.length === 0)
    throw new PullbackError(
      'BAD_ARGS',
      `helper: backup host ${request.allowFrom} is not approved for system mode (${HOW_TO_APPROVE})`,
    );
  const hosts = request.tunnel ? byAddress.filter((h) => h.tunnel === true) : byAddress;
  if (hosts.length === 0)
    throw new PullbackError(
      'BAD_ARGS',
      `helper: backup host ${request.allowFrom} is not approved for tunnel mode (root approves with: sudo pullback system allow HOST --tunnel --source DIR)`,
    );
  const allowed = hosts.flatMap((h) => h.sources);
  const outside = request.sources.find((s) => !allowed.some((root) => isInside(s, root)));
  if (outside !== undefined)
    throw new PullbackError(
      'BAD_ARGS',
      `helper: source ${outside} is not approved for backup host ${request.allowFrom} (${HOW_TO_APPROVE})`,
    );
}

/** `HOST[:PORT]`, HOST a name, an IPv4 or a [bracketed IPv6]. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(value);
  const port = m?.[2] ? Number(m[2]) : 22;
  if (!m || port < 1 || port > 65535)
    throw new PullbackError('BAD_ARGS', `expected HOST[:PORT], got ${JSON.stringify(value)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

async function resolveAll(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    return [...new Set((await lookup(host, { all: true })).map((a) => a.address))];
  } catch (err) {
    throw new PullbackError('UNREACHABLE', `cannot resolve ${host}: ${(err as Error).message}`);
  }
}

function realSource(path: string): string {
  if (!path.startsWith('/'))
    throw new PullbackError('BAD_ARGS', `--source must be an absolute path, got ${path}`);
  try {
    return realpathSync(path);
  } catch {
    throw new PullbackError('BAD_ARGS', `--source ${path} does not exist`);
  }
}

/** Approves HOST[:PORT] for these sources (added to what it had). Returns the new approvals. */
export async function allowBackupHost(
  approvals: Approvals,
  target: string,
  sources: readonly string[],
  options: { tunnel?: boolean } = {},
): Promise<{ approvals: Approvals; entry: ApprovedHost }> {
  if (sources.length === 0)
    throw new PullbackError('BAD_ARGS', 'system allow: give at least one --source DIR');
  const { host, port } = parseHostPort(target);
  const addresses = await resolveAll(host);
  const previous = approvals.backupHosts.find((h) => h.host === host && h.port === port);
  const entry: ApprovedHost = {
    host,
    port,
    addresses,
    sources: [...new Set([...(previous?.sources ?? []), ...sources.map(realSource)])].sort(),
    ...(options.tunnel || previous?.tunnel ? { tunnel: true } : {}),
  };
  const parsed = approvedHostSchema.safeParse(entry);
  if (!parsed.success) throw zodToPullbackError('BAD_ARGS', 'system allow', parsed.error);
  return {
    approvals: {
      version: 1,
      backupHosts: [...approvals.backupHosts.filter((h) => h !== previous), parsed.data],
    },
    entry: parsed.data,
  };
}

/** Withdraws HOST[:PORT]'s approval. */
export function disallowBackupHost(approvals: Approvals, target: string): Approvals {
  const { host, port } = parseHostPort(target);
  const kept = approvals.backupHosts.filter((h) => !(h.host === host && h.port === port));
  if (kept.length === approvals.backupHosts.length)
    throw new PullbackError('NOT_FOUND', `${host}:${port} is not approved`);
  return { version: 1, backupHosts: kept };
}

export function renderApprovals(approvals: Approvals): string {
  return JSON.stringify(approvals, null, 2) + '\n';
}

export function describeApprovedHost(h: ApprovedHost): string {
  const how = h.tunnel ? ', directly or through a tunnel' : '';
  return `${h.host}:${h.port} (${h.addresses.join(', ')}) may read ${h.sources.join(', ')}${how}`;
}
