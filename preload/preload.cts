// The sandboxed preload: exposes the typed API of ./api.ts as `window.pullback`, nothing more.
// A sandboxed preload can require only 'electron', so everything from ./api.ts is type-only and
// channel names are derived from method names (the ChannelOf type keeps both sides in step).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type {
  EVENT_CHANNEL,
  ChannelOf,
  InvokeArgs,
  InvokeMethod,
  InvokeResult,
  IpcResult,
  PullbackApi,
  PullbackEvent,
} from './api.js';

const eventChannel: typeof EVENT_CHANNEL = 'pullback:event';

async function call<M extends InvokeMethod>(
  method: M,
  ...args: InvokeArgs<M>
): Promise<InvokeResult<M>> {
  const channel: ChannelOf<M> = `pullback:${method}`;
  const result = (await ipcRenderer.invoke(channel, ...args)) as IpcResult<InvokeResult<M>>;
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result.value;
}

const api: PullbackApi = {
  getState: () => call('getState'),
  getHistory: (host, limit) => call('getHistory', host, limit),
  backupNow: (host) => call('backupNow', host),
  cancel: (host) => call('cancel', host),
  pause: (until) => call('pause', until),
  getConfig: () => call('getConfig'),
  saveConfig: (change) => call('saveConfig', change),
  pairStart: (userAtHost) => call('pairStart', userAtHost),
  pairConfirm: () => call('pairConfirm'),
  pairCheck: () => call('pairCheck'),
  restoreContext: () => call('restoreContext'),
  listSnapshots: (host) => call('listSnapshots', host),
  listEntries: (host, snapshot, path) => call('listEntries', host, snapshot, path),
  fileVersions: (host, path) => call('fileVersions', host, path),
  restore: (request) => call('restore', request),
  cancelRestore: () => call('cancelRestore'),
  chooseFolder: () => call('chooseFolder'),
  openWindow: (name, at) => call('openWindow', name, at),
  onEvent(listener) {
    const handler = (_event: IpcRendererEvent, payload: PullbackEvent) => listener(payload);
    ipcRenderer.on(eventChannel, handler);
    return () => {
      ipcRenderer.removeListener(eventChannel, handler);
    };
  },
};

contextBridge.exposeInMainWorld('pullback', api);
