import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Battery or mains, read from /sys/class/power_supply (Electron's powerMonitor cannot tell on
 * Linux). Peripheral batteries (mouse, headset: scope "Device") do not count.
 */
export type PowerSource = 'battery' | 'mains' | 'unknown';

export const DEFAULT_POWER_SUPPLY_DIR = '/sys/class/power_supply';

export interface PowerSupply {
  name: string;
  type: string;
  online?: string;
  status?: string;
  scope?: string;
}

/** Supplies that feed the machine from outside: the AC adapter and USB chargers. */
function isExternal(supply: PowerSupply): boolean {
  return supply.type === 'Mains' || supply.type.startsWith('USB');
}

/** The decision, kept pure so every combination is easy to test. */
export function powerSourceOf(supplies: PowerSupply[]): PowerSource {
  const external = supplies.filter(isExternal);
  if (external.some((s) => s.online === '1')) return 'mains';
  if (supplies.some((s) => s.type === 'Mains' && s.online === '0')) return 'battery';
  const batteries = supplies.filter((s) => s.type === 'Battery' && s.scope !== 'Device');
  if (batteries.some((s) => s.status === 'Discharging')) return 'battery';
  if (batteries.length > 0) return 'mains';
  return 'unknown';
}

async function readAttribute(dir: string, name: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, name), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

export async function readPowerSupplies(dir = DEFAULT_POWER_SUPPLY_DIR): Promise<PowerSupply[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const supplies: PowerSupply[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    const type = await readAttribute(path, 'type');
    if (!type) continue;
    supplies.push({
      name,
      type,
      online: await readAttribute(path, 'online'),
      status: await readAttribute(path, 'status'),
      scope: await readAttribute(path, 'scope'),
    });
  }
  return supplies;
}

export async function readPowerSource(dir = DEFAULT_POWER_SUPPLY_DIR): Promise<PowerSource> {
  return powerSourceOf(await readPowerSupplies(dir));
}
