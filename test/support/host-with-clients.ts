import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackup } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import type { OneShotLauncher } from '../../core/handoff/oneshot-launcher.js';
import { PullbackError } from '../../core/errors.js';
import {
  startBackupHost,
  makeTestClient,
  type BackupHost,
  type TestClient,
} from './backup-host.js';

/**
 * The set-up of the security tests that play clients against one backup host: a real backup
 * host, one source directory holding `file.txt` ("hello\n") and whatever `fill` adds, and the
 * named clients paired to it, each backing up that source. The caller stops `host`.
 */
export async function startHostWithClients<const Names extends readonly string[]>(
  names: Names,
  options: { sourcePrefix?: string; fill?: (source: string) => void } = {},
): Promise<{ host: BackupHost; source: string; clients: { [K in keyof Names]: TestClient } }> {
  const host = await startBackupHost();
  const source = mkdtempSync(join(tmpdir(), options.sourcePrefix ?? 'pullback-src-'));
  writeFileSync(join(source, 'file.txt'), 'hello\n');
  options.fill?.(source);
  const clients: TestClient[] = [];
  for (const name of names) clients.push(await makeTestClient(host, { sources: [source], name }));
  return { host, source, clients: clients as { [K in keyof Names]: TestClient } };
}

/** A backup of `client` to its one backup host, as the client runs it. */
export const backupOf = (
  client: TestClient,
  launcher: OneShotLauncher = launchUserOneShot,
  reach: 'direct' | 'tunnel' = 'direct',
) =>
  runBackup({
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher,
    reach,
  });

/** Awaits `promise`, which must fail with a PullbackError of `code`; returns that error. */
export async function rejects(promise: Promise<unknown>, code: string): Promise<PullbackError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof PullbackError, `expected a PullbackError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}
