/**
 * Where system mode lives. Fixed paths, never taken from a caller: the polkit action and the
 * sudoers rule name the helper by path, and the helper trusts nothing else.
 */
export const SYSTEM_PREFIX = '/usr/lib/pullback';
/** the root-owned copy of the app that root runs (never the user's checkout) */
export const APP_DIR = `${SYSTEM_PREFIX}/app`;
export const HELPER_WRAPPER = `${SYSTEM_PREFIX}/pullback-helper`;
/** private rsync copy carrying cap_dac_read_search=ei, executable only by the reader account */
export const RSYNC_COPY = `${SYSTEM_PREFIX}/rsync`;
export const HELPER_SCRIPT = `${APP_DIR}/dist/helper/main.js`;
export const LISTENER_SCRIPT = `${APP_DIR}/dist/helper/oneshot-listener.js`;
export const APP_CLI_SCRIPT = `${APP_DIR}/dist/cli/main.js`;

export const READER_USER = 'pullback-reader';
/** root-owned and empty: sshd chdirs there, and the reader cannot plant ~/.ssh/rc or the like */
export const READER_HOME = '/var/lib/pullback-reader';
/** members may start the helper through sudo without a password (cron, headless) */
export const SUDO_GROUP = 'pullback';

export const POLKIT_ACTION_ID = 'org.pullback.helper';
export const POLKIT_ACTIONS_DIR = '/usr/share/polkit-1/actions';
export const POLKIT_POLICY_PATH = `${POLKIT_ACTIONS_DIR}/${POLKIT_ACTION_ID}.policy`;
export const SUDOERS_DIR = '/etc/sudoers.d';
/** what root approved for system mode: backup hosts and their sources (root:root 0644) */
export const SYSTEM_CONFIG_DIR = '/etc/pullback';
export const SYSTEM_APPROVALS = `${SYSTEM_CONFIG_DIR}/system.json`;
export const SUDOERS_PATH = `${SUDOERS_DIR}/pullback`;

/** one-shot directories of system mode: root-owned base, one 0700 reader-owned dir per run */
export const RUNTIME_PARENT = '/run/pullback';
export const SYSTEM_RUNTIME_BASE = `${RUNTIME_PARENT}/system`;

export const SYSTEM_RSYNC_SOURCE = '/usr/bin/rsync';
export const SETPRIV = '/usr/bin/setpriv';
export const NICE = '/usr/bin/nice';
export const IONICE = '/usr/bin/ionice';
export const SETCAP = '/usr/sbin/setcap';
export const GETCAP = '/usr/sbin/getcap';
export const VISUDO = '/usr/sbin/visudo';
/** the one capability system mode hands out (bit 2 in /proc/<pid>/status masks) */
export const READ_CAPABILITY = 'cap_dac_read_search';
export const READ_CAPABILITY_MASK = 0x4n;
