import type { OneShotLauncher } from './oneshot-launcher.js';
import { launchSystemOneShot } from './launch-system-oneshot.js';
import { launchUserOneShot } from './launch-user-oneshot.js';

/** The one-shot launcher for a client mode. */
export function launcherFor(mode: 'user' | 'system'): OneShotLauncher {
  return mode === 'user' ? launchUserOneShot : launchSystemOneShot;
}
