import { parseCommandArgs } from '../args.js';
import { checkTools } from '../../core/doctor.js';
import { systemModeChecks, systemModeInstalled } from '../../core/system/status.js';
import { clientConfigExists, readClientConfig } from '../../core/config/client-store.js';

const HELP = `Usage: pullback doctor [--json]

Finds the programs Pullback needs (rsync, ssh, sshd, ionice), prints their versions, and warns
loudly about known problems (rsync older than 3.4.0: CVE-2024-12084…12088). Exit 1 when
something required is missing, or when rsync has no --confine-root (rsync 3.5.0 or later is
needed on the client: the gate refuses to run without it).`;

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, { command: 'doctor' });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const checks = checkTools();
  const wantsSystem = clientConfigExists() && readClientConfig().mode === 'system';
  // System mode is checked when it is installed or configured: a lost capability after an rsync upgrade shows here.
  const system = systemModeInstalled() || wantsSystem ? systemModeChecks() : [];
  if (values.json) console.log(JSON.stringify({ tools: checks, system }));
  else {
    for (const c of checks) {
      console.log(
        `${c.ok ? 'ok     ' : c.path ? 'PROBLEM' : 'MISSING'} ${c.name.padEnd(7)} ${c.version ?? ''} ${c.path ?? ''}`.trimEnd(),
      );
      if (c.warning) console.log(`WARNING ${c.name}: ${c.warning}`);
    }
    for (const c of system) {
      console.log(`${c.ok ? 'ok     ' : 'PROBLEM'} system: ${c.name}: ${c.detail}`);
      if (!c.ok && c.fix) console.log(`        fix: ${c.fix}`);
    }
  }
  return checks.every((c) => c.ok) && system.every((c) => c.ok) ? 0 : 1;
}
