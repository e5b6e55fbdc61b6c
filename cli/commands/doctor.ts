import { parseCommandArgs } from '../args.js';
import { checkTools } from '../../core/doctor.js';

const HELP = `Usage: pullback doctor [--json]

Finds the programs Pullback needs (rsync, ssh, sshd, ionice), prints their versions, and warns
loudly about known problems (rsync older than 3.4.0: CVE-2024-12084…12088). Exit 1 when
something required is missing.`;

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, { command: 'doctor' });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const checks = checkTools();
  if (values.json) console.log(JSON.stringify(checks));
  else {
    for (const c of checks) {
      console.log(`${c.ok ? 'ok     ' : 'MISSING'} ${c.name.padEnd(7)} ${c.version ?? ''} ${c.path ?? ''}`.trimEnd());
      if (c.warning) console.log(`WARNING ${c.name}: ${c.warning}`);
    }
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}
