import type { AgentController } from '../core/agent/types.js';
import type { WindowName } from '../preload/api.js';
import { PAUSED_INDEFINITELY } from './host-summary.js';
import type { TrayAction } from './tray-menu.js';

/** What a tray menu click does (no Electron here: test hooks and the tray share it). */
export interface TrayActionDeps {
  agent: AgentController;
  openWindow(name: WindowName): void;
  quit(): void;
  now?: () => number;
}

export async function performTrayAction(action: TrayAction, deps: TrayActionDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  switch (action.kind) {
    case 'backup-now':
      return deps.agent.backupNow(action.host);
    case 'cancel':
      return deps.agent.cancel();
    case 'pause':
      return deps.agent.pause(
        new Date(action.forMs === null ? PAUSED_INDEFINITELY : now() + action.forMs),
      );
    case 'resume':
      return deps.agent.pause(null);
    case 'open-status':
      return deps.openWindow('status');
    case 'open-preferences':
      return deps.openWindow('preferences');
    case 'open-pairing':
      return deps.openWindow('pairing');
    case 'open-restore':
      return deps.openWindow('restore');
    case 'quit':
      return deps.quit();
  }
}
