import { parseCommandArgs } from '../args.js';
import { PullbackError } from '../../core/errors.js';
import {
  installSystemMode,
  uninstallSystemMode,
  writeRootFile,
} from '../../core/system/install.js';
import {
  allowBackupHost,
  describeApprovedHost,
  disallowBackupHost,
  readApprovals,
  renderApprovals,
  type Approvals,
} from '../../core/system/approvals.js';
import { SYSTEM_APPROVALS } from '../../core/system/paths.js';
import { systemModeChecks } from '../../core/system/status.js';

const HELP = `Usage: pullback system install|uninstall|status [--json]
       pullback system allow HOST[:PORT] --source DIR [--source DIR]… [--tunnel]
       pullback system disallow HOST[:PORT]

System mode backs up the whole filesystem read-only: only the rsync sender gets
CAP_DAC_READ_SEARCH (read and search everything, write nothing). See docs/security.md.

  install     (root) create the pullback-reader account and the pullback group, install a
              root-owned copy of Pullback, the helper /usr/lib/pullback/pullback-helper, the
              rsync copy with its capability, the polkit action and the sudoers rule.
              and ${SYSTEM_APPROVALS} (no backup host approved until "allow").
              Idempotent: run it again after upgrading Pullback or rsync.
  uninstall   (root) remove all of it, the account, the group and the approvals too
  allow       (root) approve a backup host for system mode, to read these sources (and what
              is inside them). HOST is resolved now: the helper then lets the one-shot accept
              only those addresses. Run it again after the backup host's address changes.
              --tunnel approves tunnel mode too (--reach tunnel): the pull then comes
              through the caller's own connection, so no address check stands between
              whoever may start the helper and these sources. Approve it only where they
              may read these sources anyway.
  disallow    (root) withdraw a backup host's approval
  status      check every piece and list the approved backup hosts; exit 1 if something is
              missing or wrong

Members of the pullback group may start system-mode backups without a password
(sudo adduser USER pullback); on a desktop, the active user may start them through polkit.
Either way only to a backup host root approved (${SYSTEM_APPROVALS}), of sources root approved.`;

export async function systemCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      json: { type: 'boolean' },
      source: { type: 'string', multiple: true },
      tunnel: { type: 'boolean' },
    },
    { command: 'system', positionals: [0, 2] },
  );
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const [action, target] = positionals;
  if (action === 'allow' || action === 'disallow') {
    if (process.getuid?.() !== 0)
      throw new PullbackError(
        'HELPER_FAILED',
        `system ${action} needs root: run sudo pullback system ${action} …`,
      );
    if (!target) throw new PullbackError('BAD_ARGS', `system ${action}: HOST[:PORT] is required`);
    const current = readApprovals();
    let next: Approvals;
    if (action === 'allow') {
      const allowed = await allowBackupHost(current, target, values.source ?? [], {
        tunnel: values.tunnel === true,
      });
      next = allowed.approvals;
      writeRootFile(SYSTEM_APPROVALS, renderApprovals(next), 0o644);
      console.log(`approved: ${describeApprovedHost(allowed.entry)}`);
    } else {
      next = disallowBackupHost(current, target);
      writeRootFile(SYSTEM_APPROVALS, renderApprovals(next), 0o644);
      console.log(`no longer approved: ${target}`);
    }
    return 0;
  }
  if (target !== undefined || values.source || values.tunnel)
    throw new PullbackError('BAD_ARGS', `system ${action}: unexpected arguments`);
  if (action === 'install' || action === 'uninstall') {
    const done = action === 'install' ? installSystemMode() : uninstallSystemMode();
    if (values.json) console.log(JSON.stringify({ ok: true, done }));
    else for (const line of done) console.log(line);
    if (!values.json && action === 'install')
      console.log('System mode is ready. Let users run it with: sudo adduser USER pullback');
    return 0;
  }
  if (action === 'status') {
    const checks = systemModeChecks();
    if (values.json) console.log(JSON.stringify(checks));
    else {
      for (const c of checks) {
        console.log(`${c.ok ? 'ok     ' : 'PROBLEM'} ${c.name.padEnd(15)} ${c.detail}`);
        if (c.fix) console.log(`        fix: ${c.fix}`);
      }
    }
    return checks.every((c) => c.ok) ? 0 : 1;
  }
  throw new PullbackError(
    'BAD_ARGS',
    `system: unknown action "${action}" (install, uninstall, allow, disallow or status)`,
  );
}
