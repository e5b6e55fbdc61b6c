import { z } from 'zod';
import { bwlimitKiBSchema, clientNameSchema } from './fields.js';
import { DEFAULT_RETENTION_SPEC, parseRetentionSpec } from '../storage/retention.js';
import { asPullbackError } from '../errors.js';

/** A retention spec is checked where it is read, so a typo fails at once, naming the field. */
const retentionSpecSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((spec, ctx) => {
    try {
      parseRetentionSpec(spec);
    } catch (err) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: asPullbackError(err).message.replace(/^retention: /, ''),
      });
    }
  });

/** The one schema of the backup host's config (/etc/pullback/server.json or --config). */

export const serverClientSchema = z
  .object({
    bwlimitKiB: bwlimitKiBSchema.optional(),
    retention: retentionSpecSchema.optional(),
    /** bytes this client's directory may take; a backup is refused once it takes that much */
    quota: z.number().int().min(0).optional(),
  })
  .strict();

export const serverConfigSchema = z
  .object({
    version: z.literal(1).default(1),
    storage: z
      .string()
      .min(1)
      .refine((p) => p.startsWith('/'), 'must be an absolute path'),
    backend: z.enum(['auto', 'hardlink', 'btrfs']).default('auto'),
    retention: retentionSpecSchema.default(DEFAULT_RETENTION_SPEC),
    maxParallel: z.number().int().min(1).max(64).default(2),
    clients: z.record(clientNameSchema, serverClientSchema).default({}),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverConfigSchema>;
export type ServerClientConfig = z.infer<typeof serverClientSchema>;
