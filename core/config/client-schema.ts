import { z } from 'zod';
import { isIP } from 'node:net';

/** The one schema of the client config, shared by the CLI (conf) and the tray (electron-store). */

const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/'), 'must be an absolute path')
  .refine((p) => !/["\\\n\r\0]/.test(p), 'must not contain quotes, backslashes or newlines')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

const excludePattern = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !/[\n\r\0]/.test(p), 'must be one line');

export const hostNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-" only');

export const ed25519PublicKeySchema = z
  .string()
  .regex(
    /^ssh-ed25519 [A-Za-z0-9+/]{68}(?: [^\n\r"]{0,200})?$/,
    'must be one "ssh-ed25519 AAAA…" key',
  );

export const hostSchema = z
  .object({
    name: hostNameSchema,
    /** account on the backup host whose authorized_keys holds our forced-command entry */
    user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Unix user name'),
    address: z
      .string()
      .min(1)
      .max(253)
      .refine(
        (a) => isIP(a) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(a),
        'must be an IP address or a DNS name',
      ),
    port: z.number().int().min(1).max(65535).default(22),
    /** the backup host's SSH host key, pinned at pairing (S6) */
    hostKey: ed25519PublicKeySchema,
    /** source address to connect from (tests and multi-homed machines) */
    localAddress: z.string().ip().optional(),
    bwlimitKiB: z.number().int().min(0).max(10_000_000).optional(),
  })
  .strict();

export const scheduleSchema = z
  .object({
    intervalHours: z
      .number()
      .min(0.001)
      .max(24 * 365)
      .default(24),
    overdueDays: z.number().min(0.001).max(365).default(7),
    runOnBattery: z.boolean().default(false),
    runOnMetered: z.boolean().default(false),
    /** connection names (NetworkManager) on which automatic backups may run; empty = any */
    networks: z.array(z.string().min(1).max(128)).max(64).default([]),
    /** automatic backups paused until this time (ISO 8601) */
    pausedUntil: z.string().datetime().optional(),
  })
  .strict();

export const clientConfigSchema = z
  .object({
    version: z.literal(1).default(1),
    /** informational: the backup host names us by our key, never by this */
    name: z.string().min(1).max(64).default('this-machine'),
    mode: z.enum(['user', 'system']).default('user'),
    sources: z.array(absolutePath).max(256).default([]),
    excludes: z.array(excludePattern).max(1024).default([]),
    hosts: z.array(hostSchema).max(16).default([]),
    schedule: scheduleSchema.default({}),
    notifications: z
      .object({
        finished: z.boolean().default(true),
        failed: z.boolean().default(true),
        overdue: z.boolean().default(true),
      })
      .strict()
      .default({}),
    startOnLogin: z.boolean().default(false),
  })
  .strict();

export type ClientConfig = z.infer<typeof clientConfigSchema>;
export type HostConfig = z.infer<typeof hostSchema>;
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
