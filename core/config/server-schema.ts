import { z } from 'zod';
import { bwlimitKiBSchema, clientNameSchema } from './fields.js';

/** The one schema of the backup host's config (/etc/pullback/server.json or --config). */

export const serverClientSchema = z
  .object({
    bwlimitKiB: bwlimitKiBSchema.optional(),
    retention: z.string().min(1).max(200).optional(),
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
    retention: z.string().min(1).max(200).default('24h:all,30d:daily,52w:weekly,*:monthly'),
    maxParallel: z.number().int().min(1).max(64).default(2),
    clients: z.record(clientNameSchema, serverClientSchema).default({}),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverConfigSchema>;
export type ServerClientConfig = z.infer<typeof serverClientSchema>;
