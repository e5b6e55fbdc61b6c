import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PullbackError } from '../errors.js';
import { forcedCommandLine } from '../ssh/forced-command.js';
import { fingerprint, parsePublicKey } from '../ssh/keys.js';
import { validateClientName } from '../storage/client-name.js';
import { writeFileAtomicSync } from '../storage/durable-fs.js';

/**
 * The backup host's authorized_keys: one restricted entry per client, whose forced command is
 * `pullback serve --client NAME`. The client's identity is the key it logs in with (S7).
 */
const MARK = 'pullback-client:';

export interface AuthorizedClient {
  name: string;
  publicKey: string;
}

export function renderClientEntry(
  name: string,
  publicKey: string,
  serveArgv: readonly string[],
): string {
  validateClientName(name);
  const key = parsePublicKey(publicKey);
  return `restrict,command="${forcedCommandLine(serveArgv)}" ${key.type} ${key.base64} ${MARK}${name}`;
}

function entryName(line: string): string | undefined {
  const at = line.lastIndexOf(` ${MARK}`);
  return at === -1 ? undefined : line.slice(at + 1 + MARK.length).trim();
}

function keyBlob(line: string): string | undefined {
  return /(?:^|\s)ssh-ed25519 ([A-Za-z0-9+/=]+)/.exec(line)?.[1];
}

function readLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

function writeLinesAtomically(file: string, lines: string[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(file, lines.map((l) => l + '\n').join(''), 0o600);
}

export function listAuthorizedClients(file: string): AuthorizedClient[] {
  return readLines(file).flatMap((line) => {
    const name = entryName(line);
    const blob = keyBlob(line);
    return name && blob ? [{ name, publicKey: `ssh-ed25519 ${blob}` }] : [];
  });
}

export type AddClientOutcome = 'added' | 'unchanged' | 'updated' | 'replaced-key';

/**
 * Adds NAME's entry, or refreshes it (same key, a new forced command). A NAME that already has
 * another key is refused unless `replaceKey`: two machines that picked the same name must not
 * silently take over each other's snapshots (S7). Other lines (the admin's own keys) are kept.
 */
export function addAuthorizedClient(
  file: string,
  name: string,
  publicKey: string,
  serveArgv: readonly string[],
  options: { replaceKey?: boolean } = {},
): { changed: boolean; outcome: AddClientOutcome; previousKey?: string; line: string } {
  const line = renderClientEntry(name, publicKey, serveArgv);
  const blob = parsePublicKey(publicKey).base64;
  const lines = readLines(file);
  const clash = lines.find((l) => keyBlob(l) === blob && entryName(l) !== name);
  if (clash) {
    const other = entryName(clash);
    throw new PullbackError(
      'BAD_ARGS',
      other
        ? `this key already belongs to client "${other}"; one key, one client`
        : `this key is already in ${file} without a Pullback restriction; remove that line first`,
    );
  }
  const previous = lines.filter((l) => entryName(l) === name);
  const previousBlob = previous.map(keyBlob).find((b) => b !== undefined && b !== blob);
  const previousKey = previousBlob ? `ssh-ed25519 ${previousBlob}` : undefined;
  if (previousKey && !options.replaceKey) {
    throw new PullbackError(
      'BAD_ARGS',
      `client "${name}" already has another key (${fingerprint(previousKey)}; this one is ${fingerprint(publicKey)}): if this is another machine, give it another name (pullback init --name …); if the machine got a new key, add --replace-key`,
    );
  }
  const kept = lines.filter((l) => entryName(l) !== name);
  const changed = !lines.includes(line) || previous.length !== 1;
  if (changed) writeLinesAtomically(file, [...kept, line]);
  const outcome: AddClientOutcome = !changed
    ? 'unchanged'
    : previousKey
      ? 'replaced-key'
      : previous.length
        ? 'updated'
        : 'added';
  return { changed, outcome, ...(previousKey ? { previousKey } : {}), line };
}

export function removeAuthorizedClient(file: string, name: string): boolean {
  validateClientName(name);
  const lines = readLines(file);
  const kept = lines.filter((l) => entryName(l) !== name);
  if (kept.length === lines.length) return false;
  writeLinesAtomically(file, kept);
  return true;
}
