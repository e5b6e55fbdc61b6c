import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { after, before } from 'node:test';
import { startBackupHost, type BackupHost } from '../support/backup-host.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import {
  HELPER_SCRIPT,
  HELPER_WRAPPER,
  SYSTEM_APPROVALS,
  SYSTEM_RUNTIME_BASE,
} from '../../core/system/paths.js';
import { tmpdir } from 'node:os';
import { descendantsOf, type ProcessInfo } from '../../core/system/proc.js';
import { systemModeInstalled } from '../../core/system/status.js';

/** Shared by the system-mode test files: root check, a machine-wide lock, install and restore. */
export const IS_ROOT = process.getuid?.() === 0;
export const NEEDS_ROOT =
  'needs root: system mode creates the pullback-reader account, sets file capabilities and runs the privileged helper (CI runs these as root)';

/** `pullback <args>` from this checkout, as a separate process. */
export function pullback(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [PULLBACK_CLI_SCRIPT, ...args], { encoding: 'utf8', env });
}

/** The installed helper, exactly as sudo or pkexec would run it. */
export function runHelper(args: string[], stdin: string | Buffer = ''): SpawnSyncReturns<string> {
  return spawnSync(HELPER_WRAPPER, args, { encoding: 'utf8', input: stdin, timeout: 30_000 });
}

const LOCK = '/run/pullback-system-tests.lock';

function lockHolderAlive(): boolean {
  try {
    const pid = Number(readFileSync(`${LOCK}/pid`, 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * System-mode test files install and uninstall machine-wide state; tests run two files at a
 * time, so each file holds this lock from its `before` to its `after`.
 */
async function acquireLock(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(`${LOCK}/pid`, String(process.pid));
      return;
    } catch {
      if (existsSync(LOCK) && !lockHolderAlive()) {
        await new Promise((r) => setTimeout(r, 500)); // a holder may be between mkdir and writing its pid
        if (!lockHolderAlive()) rmSync(LOCK, { recursive: true, force: true });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export interface SystemModeSession {
  /** uninstalls if the machine had no system mode before, reinstalls otherwise; releases the lock */
  restore(): void;
}

/**
 * Takes the lock and installs system mode from this checkout (through the real CLI), with the
 * test backup host (127.0.0.3) approved to read what the tests put under the temp dir.
 */
export async function installSystemModeForTests(): Promise<SystemModeSession> {
  await acquireLock();
  const wasInstalled = systemModeInstalled();
  const approvals = existsSync(SYSTEM_APPROVALS) ? readFileSync(SYSTEM_APPROVALS) : undefined;
  const result = pullback(['system', 'install']);
  const allowed =
    result.status === 0
      ? pullback(['system', 'allow', TEST_BACKUP_HOST, '--source', tmpdir()])
      : result;
  if (allowed.status !== 0) {
    rmSync(LOCK, { recursive: true, force: true });
    throw new Error(`pullback system install failed: ${result.stderr}${allowed.stderr}`);
  }
  return {
    restore() {
      pullback(['system', wasInstalled ? 'install' : 'uninstall']);
      if (approvals) writeFileSync(SYSTEM_APPROVALS, approvals, { mode: 0o644 });
      else if (wasInstalled) pullback(['system', 'disallow', TEST_BACKUP_HOST]);
      rmSync(LOCK, { recursive: true, force: true });
    },
  };
}

/**
 * The hooks of a file that backs up in system mode: system mode installed (under the lock) and a
 * backup host started before its tests, both gone after them. `host` is there when run as root.
 */
export function systemModeWithBackupHost(): { readonly host: BackupHost } {
  let session: SystemModeSession | undefined;
  let host: BackupHost | undefined;
  before(async () => {
    if (!IS_ROOT) return;
    session = await installSystemModeForTests();
    host = await startBackupHost();
  });
  after(async () => {
    await host?.stop();
    session?.restore();
  });
  return {
    get host() {
      if (!host) throw new Error('no backup host: system-mode tests run as root');
      return host;
    },
  };
}

/** The address of the test backup host (test/support/backup-host.ts) */
export const TEST_BACKUP_HOST = '127.0.0.3';

export function oneShotDirs(): string[] {
  return existsSync(SYSTEM_RUNTIME_BASE) ? readdirSync(SYSTEM_RUNTIME_BASE).sort() : [];
}

/** The helper processes this test process started (through the system launcher). */
export function helperProcesses(): ProcessInfo[] {
  return descendantsOf(process.pid).filter((p) => p.cmdline.split(' ').includes(HELPER_SCRIPT));
}
