import { PullbackError } from '../errors.js';

/**
 * A client's name is a directory name under the storage root, an authorized_keys marker and a
 * CLI argument: letters, digits, ".", "_" and "-" only, never "." or "..".
 */
const CLIENT_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

export function isValidClientName(name: string): boolean {
  return CLIENT_NAME.test(name) && name !== '.' && name !== '..';
}

export function validateClientName(name: string): string {
  if (!isValidClientName(name)) {
    throw new PullbackError(
      'BAD_REQUEST',
      `client name ${JSON.stringify(name)} must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return name;
}
