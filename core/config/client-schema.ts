import { z } from 'zod';
import { isIP } from 'node:net';
import {
  bwlimitKiBSchema,
  ed25519PublicKeySchema,
  excludePatternSchema,
  sourcePathSchema,
  unixUserNameSchema,
} from './fields.js';
import { EXCLUDE_PRESET_NAMES } from './exclude-presets.js';

export { ed25519PublicKeySchema };

/** The one schema of the client config, shared by the CLI (conf) and the tray (electron-store). */

export const hostNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-" only');

/** how the backup host reaches our one-shot sshd (core/tunnel/reach.ts); absent is auto */
export const REACH_VALUES = ['auto', 'direct', 'tunnel'] as const;

export const hostSchema = z
  .object({
    name: hostNameSchema,
    /** account on the backup host whose authorized_keys holds our forced-command entry */
    user: unixUserNameSchema,
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
    bwlimitKiB: bwlimitKiBSchema.optional(),
    reach: z.enum(REACH_VALUES).optional(),
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
    sources: z.array(sourcePathSchema).max(256).default([]),
    excludes: z.array(excludePatternSchema).max(1024).default([]),
    /** exclude presets turned on (core/config/exclude-presets.ts); init turns them all on */
    excludePresets: z.array(z.enum(EXCLUDE_PRESET_NAMES)).max(64).default([]),
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
    /** the full pass behind the incrementals (docs/cli.md): weekly by default, optionally --checksum */
    fullPass: z
      .object({
        everyDays: z.number().min(0).max(365).default(7),
        checksum: z.boolean().default(false),
      })
      .strict()
      .default({}),
  })
  .strict();

export type ClientConfig = z.infer<typeof clientConfigSchema>;
export type HostConfig = z.infer<typeof hostSchema>;
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
