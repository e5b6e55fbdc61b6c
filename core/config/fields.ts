import { z } from 'zod';
import { isValidClientName } from '../storage/client-name.js';

/**
 * Field schemas that the client config, the server config and the handoff protocol share:
 * one definition each, so what a config accepts and what the wire accepts cannot drift apart.
 */

/** A plain Unix account name, as useradd makes them. */
export const UNIX_USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

export const unixUserNameSchema = z.string().regex(UNIX_USER_NAME, 'must be a Unix user name');

/** A source to back up: absolute, normalised, and safe inside a forced command="…". */
export const sourcePathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/'), 'must be an absolute path')
  .refine((p) => !/["\\\n\r\0]/.test(p), 'must not contain quotes, backslashes or newlines')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

/** One rsync exclude pattern. */
export const excludePatternSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !/[\n\r\0]/.test(p), 'must be one line');

export const bwlimitKiBSchema = z.number().int().min(0).max(10_000_000);

export const ed25519PublicKeySchema = z
  .string()
  .regex(
    /^ssh-ed25519 [A-Za-z0-9+/]{68}(?: [^\n\r"]{0,200})?$/,
    'must be one "ssh-ed25519 AAAA…" key',
  );

export const clientNameSchema = z
  .string()
  .refine(isValidClientName, 'letters, digits, ".", "_" and "-" only');
