import { app } from 'electron';
import { createAgent } from '../core/agent/controller.js';
import { asPullbackError } from '../core/errors.js';
import { setStartOnLogin } from './autostart.js';
import { createBackend } from './backend.js';
import { electronSettingsStore } from './electron-settings.js';
import { forwardAgentEvents, registerIpc, sendToWindows } from './ipc.js';
import type { NotificationText } from './notification-text.js';
import { notifyAgentEvent } from './notify.js';
import { registerRendererScheme, serveRenderer } from './renderer-protocol.js';
import { installTestHooks } from './test-hooks.js';
import { performTrayAction } from './tray-actions.js';
import type { TrayAction } from './tray-menu.js';
import { createTray } from './tray.js';
import { chooseFolder, hardenWebContents, openWindow } from './windows.js';

/**
 * The Electron main process: a thin shell over core/agent's controller (the same one the
 * headless `pullback agent` runs). Tray, notifications, windows, IPC; no backup logic here.
 */

/** How a login session starts this very app again (AppImage, installed, or a checkout). */
function launchCommand(): string[] {
  if (process.env.APPIMAGE) return [process.env.APPIMAGE];
  return app.isPackaged ? [process.execPath] : [process.execPath, app.getAppPath()];
}

async function start(): Promise<void> {
  const env = process.env;
  serveRenderer();
  hardenWebContents();
  const settings = electronSettingsStore(env);
  const agent = createAgent({ env });
  const notifications: NotificationText[] = [];

  const perform = (action: TrayAction) =>
    performTrayAction(action, { agent, openWindow, quit: () => app.quit() }).catch((err) => {
      const error = asPullbackError(err);
      notifications.push({ title: 'Pullback', body: error.message, urgency: 'normal' });
      console.error(`pullback: ${error.toLine()}`);
    });

  const tray = createTray((action) => void perform(action));
  tray.update(agent.getState());
  agent.subscribe((event) => {
    if (event.type === 'state') tray.update(event.state);
    else if (event.type === 'log') console.log(`pullback: ${event.message}`);
    else {
      const shown = notifyAgentEvent(event, settings, () => openWindow('status'));
      if (shown) notifications.push(shown);
    }
  });
  forwardAgentEvents(agent);

  registerIpc(
    createBackend({
      agent,
      settings,
      env,
      openWindow,
      emit: sendToWindows,
      chooseFolder,
      afterSave: (enabled) => setStartOnLogin(enabled, launchCommand(), env),
    }),
  );
  installTestHooks(env, { agent, trayMenu: () => tray.template(), perform, notifications });

  try {
    setStartOnLogin(settings.read().startOnLogin, launchCommand(), env);
  } catch (err) {
    console.error(`pullback: start on login: ${asPullbackError(err).toLine()}`);
  }
  try {
    await agent.start();
  } catch (err) {
    // A broken config: keep the tray up so the user can fix it in Preferences.
    console.error(`pullback: ${asPullbackError(err).toLine()}`);
    openWindow('preferences');
  }
  if (agent.getState().needsPairing) openWindow('pairing');
  // Stop the agent (and cancel a run cleanly) before the process goes away.
  let stopping = false;
  app.on('before-quit', (event) => {
    if (stopping) return;
    stopping = true;
    event.preventDefault();
    void agent.stop().finally(() => app.quit());
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  registerRendererScheme();
  app.on('second-instance', () => openWindow('status'));
  // A tray app lives on when its last window closes.
  app.on('window-all-closed', () => {});
  app.whenReady().then(start, (err: unknown) => {
    console.error(`pullback: ${asPullbackError(err).toLine()}`);
    app.exit(1);
  });
}
