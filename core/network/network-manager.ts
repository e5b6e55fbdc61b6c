import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What NetworkManager says about the current network: is it metered, which connections are
 * active (their names feed the networks allow-list). Without NetworkManager nothing is known.
 */
export interface NetworkFacts {
  networkManager: boolean;
  metered: boolean;
  activeConnections: string[];
}

const NO_NETWORK_MANAGER: NetworkFacts = {
  networkManager: false,
  metered: false,
  activeConnections: [],
};

/** The absolute path of `name` on PATH, or undefined. */
export function findProgram(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `nmcli -t` escapes ":" and "\" with a backslash. */
function unescapeTerse(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

/** `nmcli -t -f GENERAL.STATE,GENERAL.METERED dev show`: metered if a connected device says yes. */
export function parseMeteredDevices(output: string): boolean {
  let state: string | undefined;
  for (const line of output.split('\n')) {
    const [field, ...rest] = line.split(':');
    const value = rest.join(':').trim();
    if (field === 'GENERAL.STATE') state = value;
    if (field === 'GENERAL.METERED' && value.startsWith('yes')) {
      if (state === undefined || state.startsWith('100')) return true;
    }
  }
  return false;
}

/** `nmcli -t -f NAME connection show --active`: one connection name a line. */
export function parseActiveConnectionNames(output: string): string[] {
  return output
    .split('\n')
    .map((line) => unescapeTerse(line.trim()))
    .filter((name) => name.length > 0);
}

function run(program: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(program, args, { timeout: 3000, encoding: 'utf8' }, (err, stdout) =>
      resolve(err ? undefined : stdout),
    );
  });
}

export async function readNetworkFacts(
  env: NodeJS.ProcessEnv = process.env,
): Promise<NetworkFacts> {
  const nmcli = findProgram('nmcli', env.PATH ?? process.env.PATH);
  if (!nmcli) return NO_NETWORK_MANAGER;
  const running = await run(nmcli, ['-t', '-f', 'RUNNING', 'general']);
  if (!running || running.trim() !== 'running') return NO_NETWORK_MANAGER;
  const [devices, active] = await Promise.all([
    run(nmcli, ['-t', '-f', 'GENERAL.STATE,GENERAL.METERED', 'dev', 'show']),
    run(nmcli, ['-t', '-f', 'NAME', 'connection', 'show', '--active']),
  ]);
  return {
    networkManager: true,
    metered: devices ? parseMeteredDevices(devices) : false,
    activeConnections: active ? parseActiveConnectionNames(active) : [],
  };
}
