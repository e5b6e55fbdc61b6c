import type { AgentController, AgentState } from '../core/agent/types.js';
import type { NotificationText } from './notification-text.js';
import { findMenuItem, type MenuTemplateItem, type TrayAction } from './tray-menu.js';

/**
 * What Playwright cannot reach through the DOM (the tray menu, notifications), reachable from
 * `electronApp.evaluate(() => globalThis.pullbackTestHooks…)`, only with PULLBACK_TEST_HOOKS=1.
 */
export interface PullbackTestHooks {
  trayMenu(): MenuTemplateItem[];
  clickTrayItem(id: string): Promise<void>;
  state(): AgentState;
  notifications(): NotificationText[];
}

declare global {
  var pullbackTestHooks: PullbackTestHooks | undefined;
}

export function installTestHooks(
  env: NodeJS.ProcessEnv,
  deps: {
    agent: AgentController;
    trayMenu(): MenuTemplateItem[];
    perform(action: TrayAction): Promise<void>;
    notifications: NotificationText[];
  },
): void {
  if (env.PULLBACK_TEST_HOOKS !== '1') return;
  globalThis.pullbackTestHooks = {
    trayMenu: deps.trayMenu,
    async clickTrayItem(id) {
      const item = findMenuItem(deps.trayMenu(), id);
      if (!item?.action) throw new Error(`no clickable tray item "${id}"`);
      if (item.enabled === false) throw new Error(`tray item "${id}" is disabled`);
      await deps.perform(item.action);
    },
    state: () => deps.agent.getState(),
    notifications: () => deps.notifications,
  };
}
