import { parseCommandArgs } from '../args.js';
import { PullbackError } from '../../core/errors.js';
import { installSystemMode, uninstallSystemMode } from '../../core/system/install.js';
import { systemModeChecks } from '../../core/system/status.js';

const HELP = `Usage: pullback system install|uninstall|status [--json]

System mode backs up the whole filesystem read-only: only the rsync sender gets
CAP_DAC_READ_SEARCH (read and search everything, write nothing). See docs/security.md.

  install     (root) create the pullback-reader account and the pullback group, install a
              root-owned copy of Pullback, the helper /usr/lib/pullback/pullback-helper, the
              rsync copy with its capability, the polkit action and the sudoers rule.
              Idempotent: run it again after upgrading Pullback or rsync.
  uninstall   (root) remove all of it, the account and the group too
  status      check every piece; exit 1 if something is missing or wrong

Members of the pullback group may start system-mode backups without a password
(sudo adduser USER pullback); on a desktop, the active user is asked through polkit.`;

export async function systemCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { json: { type: 'boolean' } },
    { command: 'system', positionals: [0, 1] },
  );
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const [action] = positionals;
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
    `system: unknown action "${action}" (install, uninstall or status)`,
  );
}
