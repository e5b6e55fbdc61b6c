import { z } from 'zod';

/** The one schema of the backup host's config (/etc/pullback/server.json or --config). */

const clientName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-" only');

export const serverClientSchema = z
  .object({
    bwlimitKiB: z.number().int().min(0).max(10_000_000).optional(),
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
    clients: z.record(clientName, serverClientSchema).default({}),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverConfigSchema>;
export type ServerClientConfig = z.infer<typeof serverClientSchema>;
export { clientName as clientNameSchema };
