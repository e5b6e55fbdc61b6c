import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createAgent, type Agent } from '../../core/agent/controller.js';
import type { AgentEvent } from '../../core/agent/types.js';
import { createBackend, invokeBackend } from '../../main/backend.js';
import { CONTENT_SECURITY_POLICY, pagePath } from '../../main/renderer-url.js';
import { confSettingsStore } from '../../main/settings-store.js';
import {
  CHANNELS,
  type PullbackBackend,
  type PullbackEvent,
  type RestoreTarget,
  type WindowName,
} from '../../preload/api.js';

/**
 * The renderer pages in Debian's Chromium, with `window.pullback` bridged to the real backend
 * (main/backend.ts) over the real controller: the same calls the Electron IPC makes.
 */

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RENDERER_DIR = join(ROOT, 'dist', 'renderer');
// Screenshots land in dist/ on every run; PULLBACK_UPDATE_SCREENSHOTS=1 refreshes the committed ones.
export const SCREENSHOT_DIR = process.env.PULLBACK_UPDATE_SCREENSHOTS
  ? join(ROOT, 'docs', 'screenshots')
  : join(ROOT, 'dist', 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';

/** Why these tests cannot run here, or undefined. */
export function missingPrerequisite(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
  return undefined;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

/** dist/renderer over http on 127.0.0.1 (random port), with the CSP the app sends too. */
export async function serveRenderer(): Promise<{ url: string; close(): Promise<void> }> {
  if (!existsSync(join(RENDERER_DIR, 'status.html'))) {
    throw new Error(`${RENDERER_DIR}/status.html is missing: run "npm run build" first`);
  }
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(RENDERER_DIR, path));
    const mime = MIME[extname(file)];
    if (!file.startsWith(RENDERER_DIR + sep) || !mime) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) =>
        res
          .writeHead(200, {
            'content-type': mime,
            'content-security-policy': CONTENT_SECURITY_POLICY,
            'cache-control': 'no-store',
          })
          .end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The real controller for a test client: no schedule running, so only the UI starts backups. */
export function testAgent(env: NodeJS.ProcessEnv): Agent {
  return createAgent({
    env,
    checkIntervalMs: 60_000,
    networkWatcher: false,
    reachabilityTimeoutMs: 3000,
    powerSupplyDir: join(tmpdir(), 'pullback-ui-test-no-power-supplies'),
  });
}

export interface Bridged {
  page: Page;
  backend: PullbackBackend;
  /** windows the page asked main to open */
  opened: WindowName[];
  /** where it asked the Restore window to open (a host and snapshot), in order */
  targets: RestoreTarget[];
  close(): Promise<void>;
}

/**
 * A page whose `window.pullback` calls the backend in this process. The in-page half mirrors
 * preload/preload.cts: same method list (CHANNELS), same error envelope, same event fan-out.
 */
export async function openBridgedPage(
  browser: Browser,
  baseUrl: string,
  name: WindowName,
  options: {
    env: NodeJS.ProcessEnv;
    agent: Agent;
    colorScheme?: 'light' | 'dark';
    viewport?: { width: number; height: number };
    afterSave?: (startOnLogin: boolean) => void;
    /** the Restore window's host and snapshot (the page's query, as main would load it) */
    at?: RestoreTarget;
  },
): Promise<Bridged> {
  const opened: WindowName[] = [];
  const targets: RestoreTarget[] = [];
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 600, height: 720 },
    colorScheme: options.colorScheme ?? 'light',
    locale: 'en-GB',
    timezoneId: 'UTC',
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  // The in-page half of main's event fan-out (agent events and a restore's progress).
  const emit = (event: PullbackEvent) => {
    page
      .evaluate(
        (e) => (globalThis as unknown as { __pullbackEmit(e: unknown): void }).__pullbackEmit(e),
        event,
      )
      .catch(() => {});
  };
  const backend = createBackend({
    agent: options.agent,
    settings: confSettingsStore(options.env),
    env: options.env,
    openWindow: (w, at) => {
      opened.push(w);
      if (at) targets.push(at);
    },
    // No folder picker here: the Restore window falls back to typing the folder.
    emit,
    ...(options.afterSave && { afterSave: options.afterSave }),
  });
  page.on('pageerror', (err) => console.error(`[${name} page error] ${err.message}`));
  await page.exposeFunction('__pullbackInvoke', (method: string, args: unknown[]) =>
    invokeBackend(backend, method, args),
  );
  await page.addInitScript((methods: string[]) => {
    type Listener = (event: unknown) => void;
    const w = globalThis as unknown as {
      __pullbackInvoke(
        method: string,
        args: unknown[],
      ): Promise<{
        ok: boolean;
        value?: unknown;
        code?: string;
        message?: string;
      }>;
      __pullbackEmit?: (event: unknown) => void;
    };
    const listeners = new Set<Listener>();
    const api: Record<string, unknown> = {};
    for (const method of methods) {
      api[method] = async (...args: unknown[]) => {
        const r = await w.__pullbackInvoke(method, args);
        if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
        return r.value;
      };
    }
    api.onEvent = (listener: Listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    };
    w.__pullbackEmit = (event) => listeners.forEach((l) => l(event));
    Object.defineProperty(globalThis, 'pullback', { value: Object.freeze(api) });
  }, Object.keys(CHANNELS));
  const unsubscribe = options.agent.subscribe((event: AgentEvent) => {
    if (event.type !== 'log') emit(event);
  });
  await page.goto(`${baseUrl}/${pagePath(name, options.at)}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
  return {
    page,
    backend,
    opened,
    targets,
    async close() {
      unsubscribe();
      await context.close();
    },
  };
}

/** docs/screenshots/<name>-<scheme>.png, animations frozen (committed; keep them tidy). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({
      path: join(SCREENSHOT_DIR, `${name}-${colorScheme}.png`),
      fullPage: true,
      animations: 'disabled',
      caret: 'hide',
    });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Readable at 200 % zoom: a window of `width` device pixels zoomed to 200 % lays out in half as
 * many CSS pixels; nothing may then need sideways scrolling.
 */
export async function assertFitsAtDoubleZoom(page: Page, width = 600): Promise<void> {
  const before = page.viewportSize();
  await page.setViewportSize({ width: width / 2, height: 400 });
  const overflow = (await page.evaluate(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  )) as number;
  if (before) await page.setViewportSize(before);
  if (overflow > 0) throw new Error(`at 200 % zoom the page scrolls sideways by ${overflow} px`);
}

/** One element (a host card, say) as docs/screenshots/<name>-<scheme>.png, light and dark. */
export async function screenshotElement(page: Page, selector: string, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.locator(selector).screenshot({
      path: join(SCREENSHOT_DIR, `${name}-${colorScheme}.png`),
      animations: 'disabled',
      caret: 'hide',
    });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/**
 * The pages served, Chromium started, and everything stopped and removed after the test:
 * the agent, the backup host and the given directories.
 */
export async function startUi(
  t: { after(fn: () => Promise<void>): void },
  cleanup: { agent: Agent; host: { stop(): Promise<void> }; dirs: string[] },
): Promise<{ url: string; browser: Browser }> {
  const server = await serveRenderer();
  const browser = await launchChromium();
  t.after(async () => {
    await cleanup.agent.stop();
    await browser.close();
    await server.close();
    await cleanup.host.stop();
    for (const dir of cleanup.dirs) rmSync(dir, { recursive: true, force: true });
  });
  return { url: server.url, browser };
}
