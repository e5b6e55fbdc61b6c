import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { AgentController, AgentEvent } from '../core/agent/types.js';
import {
  CHANNELS,
  EVENT_CHANNEL,
  type InvokeMethod,
  type IpcResult,
  type PullbackBackend,
  type PullbackEvent,
} from '../preload/api.js';
import { invokeBackend } from './backend.js';
import { isOwnPage } from './renderer-url.js';
import { allWindows } from './windows.js';

/** Every channel of the contract answered by the backend, for our own pages only. */
export function registerIpc(backend: PullbackBackend): void {
  for (const [method, channel] of Object.entries(CHANNELS) as [InvokeMethod, string][]) {
    ipcMain.handle(
      channel,
      async (event: IpcMainInvokeEvent, ...args: unknown[]): Promise<IpcResult<unknown>> => {
        const url = event.senderFrame?.url ?? '';
        if (!isOwnPage(url)) {
          return { ok: false, code: 'REFUSED', message: `IPC from a foreign page: ${url}` };
        }
        return invokeBackend(backend, method, args);
      },
    );
  }
}

/** An event to every open window (the pages filter what they need). */
export function sendToWindows(event: PullbackEvent): void {
  for (const win of allWindows()) win.webContents.send(EVENT_CHANNEL, event);
}

/** Agent events reach every open window. */
export function forwardAgentEvents(agent: AgentController): () => void {
  return agent.subscribe((event: AgentEvent) => {
    if (event.type !== 'log') sendToWindows(event);
  });
}
