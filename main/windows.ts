import { BrowserWindow, app, dialog, session, shell, type OpenDialogOptions } from 'electron';
import type { RestoreTarget, WindowName } from '../preload/api.js';
import { PRELOAD_FILE } from './app-paths.js';
import { isOwnPage, pageUrl } from './renderer-url.js';

/**
 * The four windows, one of each at most, built along Electron's security checklist:
 * context isolation, sandbox, no Node in pages, our own protocol only, no navigation away,
 * no new windows, no webviews, no permissions beyond writing the clipboard.
 */

const SIZES: Record<WindowName, { width: number; height: number; title: string }> = {
  status: { width: 560, height: 640, title: 'Pullback' },
  preferences: { width: 640, height: 760, title: 'Pullback Preferences' },
  pairing: { width: 600, height: 620, title: 'Pair with a backup host' },
  restore: { width: 900, height: 760, title: 'Restore' },
};

const open = new Map<WindowName, BrowserWindow>();

export function openWindow(name: WindowName, at?: RestoreTarget): BrowserWindow {
  const existing = open.get(name);
  if (existing && !existing.isDestroyed()) {
    // Asked for another snapshot (a history row): the open window goes there.
    if (at) void existing.loadURL(pageUrl(name, at));
    existing.show();
    existing.focus();
    return existing;
  }
  const { width, height, title } = SIZES[name];
  const win = new BrowserWindow({
    width,
    height,
    title,
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload: PRELOAD_FILE,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  open.set(name, win);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => open.delete(name));
  void win.loadURL(pageUrl(name, at));
  return win;
}

/** The folder picker behind the Restore window's "Choose…" (attached to that window). */
export async function chooseFolder(): Promise<string | null> {
  const parent = open.get('restore');
  const options: OpenDialogOptions = {
    title: 'Restore into this folder',
    properties: ['openDirectory', 'createDirectory'],
  };
  const picked =
    parent && !parent.isDestroyed()
      ? await dialog.showOpenDialog(parent, options)
      : await dialog.showOpenDialog(options);
  return picked.canceled ? null : (picked.filePaths[0] ?? null);
}

export function allWindows(): BrowserWindow[] {
  return [...open.values()].filter((w) => !w.isDestroyed());
}

/** Applies to every web contents the app ever creates. */
export function hardenWebContents(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => {
    callback(permission === 'clipboard-sanitized-write');
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isOwnPage(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isOwnPage(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Links to the documentation open in the browser, never inside the app.
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}
