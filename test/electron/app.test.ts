import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron } from 'playwright-core';
import { readClientConfig, writeClientConfig } from '../../core/config/client-store.js';
import type { MenuTemplateItem } from '../../main/tray-menu.js';
import type { PullbackTestHooks } from '../../main/test-hooks.js';
import { PAUSED_INDEFINITELY } from '../../main/host-summary.js';
import { makeTestClient, startBackupHost } from '../support/backup-host.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The Electron binary, or why there is none (the npm package throws when it was not downloaded). */
function electronBinary(): { path?: string; reason?: string } {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    if (typeof path !== 'string') return { reason: 'require("electron") gave no path' };
    if (!existsSync(path)) return { reason: `${path} does not exist` };
    return { path };
  } catch (err) {
    return { reason: (err as Error).message.split('\n')[0] };
  }
}

type HooksGlobal = { pullbackTestHooks?: PullbackTestHooks };

test('Electron: the tray app starts, "Back up now" from the tray menu (test hooks) makes a snapshot', async (t) => {
  const electron = electronBinary();
  if (!electron.path) {
    return t.skip(
      `no Electron binary: ${electron.reason} (install one with "node node_modules/electron/install.js")`,
    );
  }
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return t.skip('no display for Electron: run the tests under xvfb-run');
  }
  if (!existsSync(join(ROOT, 'dist', 'main', 'main.js'))) {
    throw new Error('dist/main/main.js is missing: run "npm run build" first');
  }
  const host = await startBackupHost();
  const client = await makeTestClient(host, { sources: [ROOT + 'docs'], name: 'laptop' });
  // Automatic backups paused: the only backup is the one the tray menu starts.
  const config = readClientConfig(client.env);
  writeClientConfig(
    { ...config, schedule: { ...config.schedule, pausedUntil: PAUSED_INDEFINITELY } },
    client.env,
  );
  const app = await _electron.launch({
    executablePath: electron.path,
    args: [ROOT, '--no-sandbox'],
    cwd: ROOT,
    env: {
      ...(client.env as Record<string, string>),
      PULLBACK_TEST_HOOKS: '1',
      XDG_CONFIG_HOME: join(client.dir, 'xdg-config'),
    },
  });
  t.after(async () => {
    await app.close().catch(() => {});
    await host.stop();
    rmSync(client.dir, { recursive: true, force: true });
  });

  // These functions run inside Electron's main process (serialised by Playwright): no closures.
  const trayMenu = () =>
    app
      .evaluate(() => (globalThis as HooksGlobal).pullbackTestHooks?.trayMenu() ?? [])
      .catch((): MenuTemplateItem[] => []);

  const deadline = Date.now() + 20_000;
  let menu: MenuTemplateItem[] = [];
  while (Date.now() < deadline) {
    menu = await trayMenu();
    if (menu.some((i) => i.id === 'status:home')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(
    menu.some((i) => i.id === 'resume'),
    'paused automatic backups show "Resume"',
  );

  await app.evaluate(
    (_electron, id) => (globalThis as HooksGlobal).pullbackTestHooks!.clickTrayItem(id),
    'backup-now',
  );
  let snapshot: string | undefined;
  while (Date.now() < deadline + 60_000 && !snapshot) {
    snapshot = await app.evaluate(
      () => (globalThis as HooksGlobal).pullbackTestHooks!.state().hosts[0]?.lastSnapshot,
    );
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(snapshot, 'the tray run made a snapshot');
  assert.ok(readdirSync(join(host.storage, client.name, 'snapshots')).includes(snapshot));
  const label = (await trayMenu()).find((i) => i.id === 'status:home')?.label;
  assert.match(label ?? '', /^home: last backup just now$/);
});
