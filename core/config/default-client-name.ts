import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * The name a new machine goes by on its backup hosts, unless the user picks one: the hostname
 * and six hex digits derived from /etc/machine-id. Two laptops both called "vm" then still get
 * different names (and `server add-client` refuses a name that already has another key). The
 * suffix is a hash, not the machine id itself (systemd asks that the id not be shown), and is
 * the same every time on one installation; without a machine id it is random (init stores it).
 */
const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

function machineSuffix(): string {
  for (const file of MACHINE_ID_FILES) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (/^[0-9a-f]{32}$/.test(id))
        return createHash('sha256').update(`pullback client name\n${id}`).digest('hex').slice(0, 6);
    } catch {
      // try the next one
    }
  }
  return randomBytes(3).toString('hex');
}

export function defaultClientName(host: string = hostname()): string {
  const base = host
    .split('.')[0]!
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 48);
  return `${base || 'machine'}-${machineSuffix()}`;
}
