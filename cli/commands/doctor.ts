import { parseCommandArgs } from '../args.js';
import { existsSync } from 'node:fs';
import { checkSnapshotClock, checkTools } from '../../core/doctor.js';
import { DEFAULT_SERVER_CONFIG } from '../../core/config/paths.js';
import { readServerConfig } from '../../core/config/server-store.js';
import { systemModeChecks, systemModeInstalled } from '../../core/system/status.js';
import { clientConfigExists, readClientConfig } from '../../core/config/client-store.js';

const HELP = `Usage: pullback doctor [--json] [--server-config FILE]

Finds the programs Pullback needs (rsync, ssh, sshd, ionice), prints their versions, and warns
loudly about known problems (rsync older than 3.4.0: CVE-2024-12084…12088). Exit 1 when
something required is missing, or when rsync has no --confine-root (rsync 3.5.0 or later is
needed on the client: the gate refuses to run without it). On a backup host (a readable server
config, default ${DEFAULT_SERVER_CONFIG}) it also warns about snapshots dated in the future (a
clock problem).`;

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { json: { type: 'boolean' }, 'server-config': { type: 'string' } },
    { command: 'doctor' },
  );
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const checks = checkTools();
  const wantsSystem = clientConfigExists() && readClientConfig().mode === 'system';
  // System mode is checked when it is installed or configured: a lost capability after an rsync upgrade shows here.
  const system = systemModeInstalled() || wantsSystem ? systemModeChecks() : [];
  const clock = backupHostClockWarnings(values['server-config'] ?? DEFAULT_SERVER_CONFIG);
  if (values.json) console.log(JSON.stringify({ tools: checks, system, clock }));
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
    for (const w of clock) console.log(`WARNING clock: ${w}`);
  }
  return checks.every((c) => c.ok) && system.every((c) => c.ok) ? 0 : 1;
}

/** On a backup host (its server config is readable): snapshots dated in the future. */
function backupHostClockWarnings(file: string): string[] {
  if (!existsSync(file)) return [];
  try {
    return checkSnapshotClock(readServerConfig(file).storage);
  } catch {
    return []; // not ours to read (another account's host config): nothing to say about it
  }
}
