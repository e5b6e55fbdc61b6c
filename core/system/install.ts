import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { PullbackError } from '../errors.js';
import { lookupAccount, lookupGroup } from './accounts.js';
import { installAppCopy, RUNNING_APP_ROOT } from './app-copy.js';
import { runTool } from './exec.js';
import { renderHelperWrapper } from './helper-wrapper.js';
import {
  HELPER_WRAPPER,
  IONICE,
  NICE,
  POLKIT_ACTIONS_DIR,
  POLKIT_POLICY_PATH,
  READER_HOME,
  READER_USER,
  RUNTIME_PARENT,
  SETCAP,
  SETPRIV,
  SUDO_GROUP,
  SUDOERS_DIR,
  SUDOERS_PATH,
  SYSTEM_PREFIX,
  SYSTEM_RSYNC_SOURCE,
  SYSTEM_RUNTIME_BASE,
  SYSTEM_APPROVALS,
  SYSTEM_CONFIG_DIR,
  VISUDO,
} from './paths.js';
import { readApprovals, renderApprovals } from './approvals.js';
import { cleanStaleSystemOneShotDirs } from './oneshot-dirs.js';
import { renderPolkitPolicy } from './polkit-policy.js';
import { installRsyncCopy } from './rsync-copy.js';
import { renderSudoers } from './sudoers.js';
import { assertRootOwnedChain } from './trusted-path.js';

function requireRoot(action: string): void {
  if (process.getuid?.() !== 0)
    throw new PullbackError(
      'HELPER_FAILED',
      `${action} needs root: run sudo pullback system ${action.split(' ').pop()}`,
    );
}

/** Writes a root-owned file atomically; the temp name has a dot, so sudo never reads a half-checked rule. */
export function writeRootFile(
  path: string,
  content: string,
  mode: number,
  check?: (tmp: string) => void,
): void {
  const tmp = `${path}.pullback-new`;
  writeFileSync(tmp, content, { mode });
  chownSync(tmp, 0, 0);
  chmodSync(tmp, mode);
  try {
    check?.(tmp);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  renameSync(tmp, path);
}

function ensureReaderAccount(): { uid: number; gid: number } {
  mkdirSync(READER_HOME, { recursive: true, mode: 0o755 });
  chownSync(READER_HOME, 0, 0);
  chmodSync(READER_HOME, 0o755);
  if (!lookupAccount(READER_USER)) {
    runTool(
      'useradd',
      [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        READER_HOME,
        '--shell',
        '/bin/sh',
        '--comment',
        'Pullback read-only backup reader',
        READER_USER,
      ],
      'HELPER_FAILED',
    );
  } else {
    // sshd runs the forced command through the shell: nologin would corrupt the rsync stream
    runTool('usermod', ['--home', READER_HOME, '--shell', '/bin/sh', READER_USER], 'HELPER_FAILED');
  }
  const account = lookupAccount(READER_USER);
  if (!account || account.uid === 0)
    throw new PullbackError(
      'HELPER_FAILED',
      `${READER_USER} could not be created as an unprivileged account`,
    );
  return account;
}

/**
 * `pullback system install`: the reader account, the sudo group, the root-owned app copy and
 * helper wrapper, the rsync copy with its capability, the polkit action and the sudoers rule.
 * Idempotent: running it again repairs or refreshes every piece. Returns what it did, line by line.
 */
export function installSystemMode(appRoot: string = RUNNING_APP_ROOT): string[] {
  requireRoot('system install');
  const done: string[] = [];
  for (const tool of [SETPRIV, NICE, IONICE, SETCAP, SYSTEM_RSYNC_SOURCE, '/usr/sbin/sshd']) {
    if (!existsSync(tool))
      throw new PullbackError(
        'MISSING_TOOL',
        `${tool} is missing (Debian: apt install util-linux coreutils libcap2-bin rsync openssh-server)`,
      );
  }
  const nodePath = assertRootOwnedChain(
    process.execPath,
    'the Node.js root runs',
    'install Node.js system-wide (e.g. apt install nodejs) and run the install with it',
  );
  if (!lookupGroup(SUDO_GROUP)) {
    runTool('groupadd', ['--system', SUDO_GROUP], 'HELPER_FAILED');
    done.push(`created group ${SUDO_GROUP} (members may start system-mode backups through sudo)`);
  }
  const reader = ensureReaderAccount();
  done.push(
    `account ${READER_USER} (uid ${reader.uid}, shell /bin/sh, home ${READER_HOME} owned by root)`,
  );
  installAppCopy(appRoot);
  done.push(`root-owned app copy in ${dirname(HELPER_WRAPPER)}/app (from ${appRoot})`);
  writeRootFile(HELPER_WRAPPER, renderHelperWrapper(nodePath), 0o755);
  done.push(`helper ${HELPER_WRAPPER} (node ${nodePath})`);
  installRsyncCopy(reader.gid);
  done.push(
    `rsync copy ${SYSTEM_PREFIX}/rsync with cap_dac_read_search=ei, runnable by ${READER_USER} only`,
  );
  if (existsSync(dirname(POLKIT_ACTIONS_DIR))) {
    mkdirSync(POLKIT_ACTIONS_DIR, { recursive: true, mode: 0o755 });
    writeRootFile(POLKIT_POLICY_PATH, renderPolkitPolicy(), 0o644);
    done.push(`polkit action ${POLKIT_POLICY_PATH}`);
  } else
    done.push(
      'polkit is not installed: skipped the polkit action (pkexec prompts unavailable; use the pullback group)',
    );
  if (existsSync(SUDOERS_DIR) && existsSync(VISUDO)) {
    writeRootFile(SUDOERS_PATH, renderSudoers(), 0o440, (tmp) =>
      runTool(VISUDO, ['-cf', tmp], 'HELPER_FAILED'),
    );
    done.push(`sudoers rule ${SUDOERS_PATH} for group ${SUDO_GROUP} (checked with visudo)`);
  } else done.push('sudo is not installed: skipped the sudoers rule');
  done.push(ensureApprovalsFile());
  return done;
}

/** /etc/pullback/system.json, root:root 0644: kept as it is when it exists, empty otherwise. */
function ensureApprovalsFile(): string {
  if (!existsSync(SYSTEM_CONFIG_DIR)) {
    mkdirSync(SYSTEM_CONFIG_DIR, { mode: 0o755 });
    chownSync(SYSTEM_CONFIG_DIR, 0, 0);
    chmodSync(SYSTEM_CONFIG_DIR, 0o755);
  }
  // kept only if root can trust it: a file someone else could write is refused, not repaired
  const approvals = readApprovals(SYSTEM_APPROVALS);
  writeRootFile(SYSTEM_APPROVALS, renderApprovals(approvals), 0o644);
  return approvals.backupHosts.length
    ? `approved backup hosts in ${SYSTEM_APPROVALS}: ${approvals.backupHosts.map((h) => `${h.host}:${h.port}`).join(', ')}`
    : `${SYSTEM_APPROVALS}: no backup host approved yet (sudo pullback system allow HOST --source DIR)`;
}

/** `pullback system uninstall`: removes every piece install made, the accounts too. Idempotent. */
export function uninstallSystemMode(): string[] {
  requireRoot('system uninstall');
  cleanStaleSystemOneShotDirs();
  if (existsSync(SYSTEM_RUNTIME_BASE) && readdirSync(SYSTEM_RUNTIME_BASE).length > 0) {
    throw new PullbackError(
      'BUSY',
      `a system-mode backup is running (see ${SYSTEM_RUNTIME_BASE}); let it finish, then uninstall`,
    );
  }
  const done: string[] = [];
  for (const path of [SUDOERS_PATH, POLKIT_POLICY_PATH, SYSTEM_APPROVALS]) {
    if (existsSync(path)) {
      rmSync(path, { force: true });
      done.push(`removed ${path}`);
    }
  }
  if (existsSync(SYSTEM_PREFIX)) {
    rmSync(SYSTEM_PREFIX, { recursive: true, force: true });
    done.push(`removed ${SYSTEM_PREFIX}`);
  }
  if (existsSync(SYSTEM_RUNTIME_BASE)) rmdirSync(SYSTEM_RUNTIME_BASE);
  try {
    rmdirSync(SYSTEM_CONFIG_DIR); // only when empty: a backup host keeps server.json there
  } catch {
    // not empty, or already gone
  }
  try {
    rmdirSync(RUNTIME_PARENT); // only when empty: user-mode runs as root may use it too
  } catch {
    // not empty, or already gone
  }
  if (lookupAccount(READER_USER)) {
    runTool('userdel', [READER_USER], 'HELPER_FAILED');
    done.push(`removed account ${READER_USER}`);
  }
  if (lookupGroup(READER_USER)) runTool('groupdel', [READER_USER], 'HELPER_FAILED');
  if (existsSync(READER_HOME)) rmdirSync(READER_HOME);
  if (lookupGroup(SUDO_GROUP)) {
    runTool('groupdel', [SUDO_GROUP], 'HELPER_FAILED');
    done.push(`removed group ${SUDO_GROUP}`);
  }
  return done;
}
