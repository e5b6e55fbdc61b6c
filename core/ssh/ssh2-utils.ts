import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * ssh2's key utilities, loaded on first use: loading ssh2 takes ~50 ms, and `pullback serve`
 * (a fresh process on every backup's critical path) reaches modules that import this file
 * without ever needing ssh2. ssh2 is CommonJS, so require() is what loads it synchronously.
 */
export function ssh2Utils(): typeof import('ssh2').utils {
  return (require('ssh2') as typeof import('ssh2')).utils;
}
