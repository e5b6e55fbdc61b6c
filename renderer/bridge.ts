import type { PullbackApi } from '../preload/api.js';

/** The only way out of a page: the preload's typed API (type-only import; nothing else loads). */
declare global {
  interface Window {
    pullback: PullbackApi;
  }
}

export const pullback: PullbackApi = window.pullback;
