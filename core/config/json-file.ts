import { readFileSync } from 'node:fs';
import { PullbackError } from '../errors.js';

/** The raw JSON of a config file; a file that is not JSON is a one-line BAD_CONFIG. */
export function readJsonConfigFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PullbackError('BAD_CONFIG', `${file}: not valid JSON (${(err as Error).message})`);
  }
}
