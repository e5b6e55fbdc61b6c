import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import { join } from 'node:path';
import type { AgentState } from '../core/agent/types.js';
import { TRAY_ICONS_DIR } from './app-paths.js';
import { trayIconState, trayTooltip, type TrayIconState } from './host-summary.js';
import { buildTrayMenu, type MenuTemplateItem, type TrayAction } from './tray-menu.js';

/** The tray icon: image per state, tooltip, and the menu rebuilt from state on every change. */
export interface PullbackTray {
  update(state: AgentState): void;
  /** the template last set, for the test hooks */
  template(): MenuTemplateItem[];
  destroy(): void;
}

function toElectron(
  items: MenuTemplateItem[],
  onAction: (action: TrayAction) => void,
): MenuItemConstructorOptions[] {
  return items.map((item) => {
    if (item.type === 'separator') return { id: item.id, type: 'separator' };
    const options: MenuItemConstructorOptions = {
      id: item.id,
      label: item.label,
      enabled: item.enabled ?? true,
    };
    if (item.submenu) options.submenu = toElectron(item.submenu, onAction);
    const action = item.action;
    if (action) options.click = () => onAction(action);
    return options;
  });
}

export function createTray(onAction: (action: TrayAction) => void): PullbackTray {
  const icon = (state: TrayIconState) =>
    nativeImage.createFromPath(join(TRAY_ICONS_DIR, `tray-${state}.png`));
  const tray = new Tray(icon('ok'));
  let current: MenuTemplateItem[] = [];
  let shownIcon: TrayIconState | undefined;
  return {
    update(state) {
      const now = new Date();
      const iconState = trayIconState(state);
      if (iconState !== shownIcon) {
        tray.setImage(icon(iconState));
        shownIcon = iconState;
      }
      tray.setToolTip(trayTooltip(state, now));
      current = buildTrayMenu(state, now);
      // Linux (AppIndicator) only shows a changed menu when it is set again.
      tray.setContextMenu(Menu.buildFromTemplate(toElectron(current, onAction)));
    },
    template: () => current,
    destroy: () => tray.destroy(),
  };
}
