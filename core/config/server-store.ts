import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { serverConfigSchema, type ServerConfig } from './server-schema.js';
import { zodToPullbackError } from './zod-error.js';
import { readJsonConfigFile } from './json-file.js';
import { PullbackError } from '../errors.js';
import { writeFileAtomicSync } from '../storage/durable-fs.js';

export function parseServerConfig(raw: unknown, where = 'server config'): ServerConfig {
  const parsed = serverConfigSchema.safeParse(raw);
  if (!parsed.success) throw zodToPullbackError('BAD_CONFIG', where, parsed.error);
  return parsed.data;
}

export function readServerConfig(file: string): ServerConfig {
  if (!existsSync(file)) {
    throw new PullbackError(
      'BAD_CONFIG',
      `${file} does not exist; run "pullback server init --storage DIR" first`,
    );
  }
  const raw = readJsonConfigFile(file);
  return parseServerConfig(raw, file);
}

/** Validates, then replaces the file atomically (temp file + rename). */
export function writeServerConfig(file: string, config: ServerConfig): void {
  const valid = parseServerConfig(config);
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  writeFileAtomicSync(file, JSON.stringify(valid, null, 2) + '\n', 0o644);
}
