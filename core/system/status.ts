import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { lookupAccount, lookupGroup } from './accounts.js';
import { describeApprovedHost, readApprovals } from './approvals.js';
import { asPullbackError } from '../errors.js';
import { probeTool } from './exec.js';
import { renderHelperWrapper } from './helper-wrapper.js';
import {
  APP_DIR,
  HELPER_SCRIPT,
  HELPER_WRAPPER,
  LISTENER_SCRIPT,
  POLKIT_ACTIONS_DIR,
  POLKIT_POLICY_PATH,
  READER_HOME,
  READER_USER,
  SUDO_GROUP,
  SUDOERS_PATH,
  SYSTEM_APPROVALS,
  VISUDO,
} from './paths.js';
import { renderPolkitPolicy } from './polkit-policy.js';
import { rsyncCopyProblem } from './rsync-copy.js';
import { renderSudoers } from './sudoers.js';
import { untrustedReason } from './trusted-path.js';

/** One piece of system mode, as `pullback system status` and `pullback doctor` report it. */
export interface SystemCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** what to run to fix it, when not ok */
  fix?: string;
}

const REINSTALL = 'sudo pullback system install';

function check(
  name: string,
  problem: string | undefined,
  okDetail: string,
  fix = REINSTALL,
): SystemCheck {
  return problem === undefined
    ? { name, ok: true, detail: okDetail }
    : { name, ok: false, detail: problem, fix };
}

function fileProblem(path: string, expected: string, mode: number): string | undefined {
  if (!existsSync(path)) return `${path} is missing`;
  const st = statSync(path);
  if (st.uid !== 0 || (st.mode & 0o7777) !== mode)
    return `${path} has owner uid ${st.uid} and mode ${(st.mode & 0o7777).toString(8)}, expected root ${mode.toString(8)}`;
  if (readFileSync(path, 'utf8') !== expected)
    return `${path} differs from what this version installs`;
  return undefined;
}

function readerProblem(): string | undefined {
  const account = lookupAccount(READER_USER);
  if (!account) return `account ${READER_USER} does not exist`;
  if (account.uid === 0) return `account ${READER_USER} has uid 0`;
  if (account.shell !== '/bin/sh')
    return `${READER_USER} has shell ${account.shell}; sshd needs /bin/sh to run the gate`;
  if (account.home !== READER_HOME)
    return `${READER_USER} has home ${account.home}, expected ${READER_HOME}`;
  return undefined;
}

function helperProblem(): string | undefined {
  if (!existsSync(HELPER_WRAPPER)) return `${HELPER_WRAPPER} is missing`;
  const node = /exec \/usr\/bin\/env -i \S+ \S+ (\S+) /.exec(
    readFileSync(HELPER_WRAPPER, 'utf8'),
  )?.[1];
  if (!node) return `${HELPER_WRAPPER} is not the wrapper this version installs`;
  return (
    fileProblem(HELPER_WRAPPER, renderHelperWrapper(node), 0o755) ??
    untrustedReason(node) ??
    untrustedReason(HELPER_WRAPPER)
  );
}

function appProblem(): string | undefined {
  for (const path of [HELPER_SCRIPT, LISTENER_SCRIPT])
    if (!existsSync(path)) return `${path} is missing`;
  return untrustedReason(HELPER_SCRIPT) ?? untrustedReason(LISTENER_SCRIPT);
}

function sudoersProblem(): string | undefined {
  const problem = fileProblem(SUDOERS_PATH, renderSudoers(), 0o440);
  if (problem || !existsSync(VISUDO)) return problem;
  const checked = probeTool(VISUDO, ['-cf', SUDOERS_PATH]);
  return checked.status === 0
    ? undefined
    : `visudo rejects ${SUDOERS_PATH}: ${checked.stdout.trim() || checked.stderr.trim()}`;
}

/** True when any piece of system mode is present (then every piece should be). */
export function systemModeInstalled(): boolean {
  return (
    existsSync(HELPER_WRAPPER) || existsSync(APP_DIR) || lookupAccount(READER_USER) !== undefined
  );
}

/** Every piece of system mode, checked. Used by `pullback system status` and `pullback doctor`. */
export function systemModeChecks(): SystemCheck[] {
  const reader = lookupAccount(READER_USER);
  const group = lookupGroup(SUDO_GROUP);
  return [
    check('reader account', readerProblem(), `${READER_USER} (uid ${reader?.uid}), shell /bin/sh`),
    check(
      'sudo group',
      group ? undefined : `group ${SUDO_GROUP} does not exist`,
      `${SUDO_GROUP}: ${group?.members.join(', ') || 'no members yet (sudo adduser USER pullback)'}`,
    ),
    check('app copy', appProblem(), `${APP_DIR}, root-owned`),
    check('helper', helperProblem(), `${HELPER_WRAPPER}`),
    check(
      'rsync copy',
      rsyncCopyProblem(reader?.gid),
      'cap_dac_read_search=ei, root:pullback-reader 0750, same as /usr/bin/rsync',
    ),
    existsSync(dirname(POLKIT_ACTIONS_DIR))
      ? check(
          'polkit action',
          fileProblem(POLKIT_POLICY_PATH, renderPolkitPolicy(), 0o644),
          POLKIT_POLICY_PATH,
        )
      : {
          name: 'polkit action',
          ok: true,
          detail: 'polkit is not installed (desktop prompts unavailable; sudo rule still works)',
        },
    check(
      'sudoers rule',
      sudoersProblem(),
      `${SUDOERS_PATH} (members of ${SUDO_GROUP}, no password, helper only)`,
    ),
    approvalsCheck(),
  ];
}

function approvalsCheck(): SystemCheck {
  if (!existsSync(SYSTEM_APPROVALS))
    return check('approvals', `${SYSTEM_APPROVALS} is missing`, '');
  try {
    const { backupHosts } = readApprovals();
    return check(
      'approvals',
      undefined,
      backupHosts.length
        ? `${SYSTEM_APPROVALS}: ${backupHosts.map(describeApprovedHost).join('; ')}`
        : `${SYSTEM_APPROVALS}: no backup host approved yet (sudo pullback system allow HOST --source DIR)`,
    );
  } catch (err) {
    return check(
      'approvals',
      asPullbackError(err).message,
      '',
      'fix or remove it, then ' + REINSTALL,
    );
  }
}
