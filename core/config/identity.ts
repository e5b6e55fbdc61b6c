import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { PullbackError } from '../errors.js';
import { generateKeyPair } from '../ssh/keys.js';
import { identityKeyFile } from './paths.js';

/**
 * The client's long-term identity key: it only ever logs in to the backup host's forced
 * `pullback serve` entry, so it can ask for backups and nothing else. 0600 in a 0700 dir.
 */
export interface IdentityKey {
  privateKey: string;
  publicKey: string;
  file: string;
}

export function readIdentityKey(env: NodeJS.ProcessEnv = process.env): IdentityKey {
  const file = identityKeyFile(env);
  if (!existsSync(file))
    throw new PullbackError('NOT_PAIRED', `no identity key at ${file}; run "pullback init" first`);
  if ((statSync(file).mode & 0o077) !== 0) {
    throw new PullbackError('BAD_CONFIG', `${file} is readable by others; run "chmod 600 ${file}"`);
  }
  return {
    privateKey: readFileSync(file, 'utf8'),
    publicKey: readFileSync(`${file}.pub`, 'utf8').trim(),
    file,
  };
}

export function ensureIdentityKey(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): IdentityKey & { created: boolean } {
  const file = identityKeyFile(env);
  if (existsSync(file)) return { ...readIdentityKey(env), created: false };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(dirname(file), 0o700);
  const pair = generateKeyPair(`pullback:${name}`);
  writeFileSync(file, pair.privateKey, { mode: 0o600, flag: 'wx' });
  writeFileSync(`${file}.pub`, pair.publicKey + '\n', { mode: 0o644 });
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, file, created: true };
}
