import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readClientConfig } from '../../core/config/client-store.js';
import { clientConfigFile } from '../../core/config/paths.js';
import { autostartFile, setStartOnLogin } from '../../main/autostart.js';
import { startBackupHost, makeTestClient } from '../support/backup-host.js';
import {
  assertFitsAtDoubleZoom,
  launchChromium,
  missingPrerequisite,
  openBridgedPage,
  screenshot,
  serveRenderer,
  tempDir,
  testAgent,
} from './ui-harness.js';

test('UI: preferences are saved to the real config file and shown again after a reload; bad input is refused and nothing is written', async (t) => {
  const missing = missingPrerequisite();
  if (missing) return t.skip(`UI tests need Chromium: ${missing}`);
  const host = await startBackupHost();
  const source = tempDir('pullback-ui-prefs-src-');
  const client = await makeTestClient(host, {
    sources: [source],
    name: 'laptop',
    excludes: ['.cache/'],
  });
  const env = { ...client.env, XDG_CONFIG_HOME: join(client.dir, 'xdg-config') };
  const agent = testAgent(env);
  const server = await serveRenderer();
  const browser = await launchChromium();
  t.after(async () => {
    await agent.stop();
    await browser.close();
    await server.close();
    await host.stop();
    rmSync(source, { recursive: true, force: true });
    rmSync(client.dir, { recursive: true, force: true });
  });

  const open = () =>
    openBridgedPage(browser, server.url, 'preferences', {
      env,
      agent,
      viewport: { width: 680, height: 900 },
      afterSave: (on) => setStartOnLogin(on, ['/opt/Pullback/pullback'], env),
    });
  let { page, close } = await open();
  assert.equal(await page.getByLabel('Folders to back up, one per line').inputValue(), source);
  assert.match((await page.locator('#host-list').textContent()) ?? '', /home/);
  assert.match((await page.locator('#host-list').textContent()) ?? '', /SHA256:/);
  await screenshot(page, 'preferences');
  await assertFitsAtDoubleZoom(page, 680);

  await page.getByLabel('Folders to back up, one per line').fill(`${source}\n/etc`);
  await page.getByLabel('Leave out, one rsync pattern per line').fill('.cache/\n*.iso');
  await page.getByLabel('System mode', { exact: false }).check();
  await page.getByLabel('Back up every (hours)').fill('12');
  await page.getByLabel('Warn when there was no backup for (days)').fill('3');
  await page.getByLabel('Also back up on battery power').check();
  await page.getByLabel('Only on these networks, one name per line').fill('Home Wi-Fi');
  await page.getByLabel('Bandwidth limit (KiB/s, 0 for none)').fill('2048');
  await page.getByLabel('Tell me when a backup finished').uncheck();
  await page.getByLabel('Start Pullback when I log in').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForSelector('#saved:text-is("Saved.")');

  const saved = readClientConfig(env);
  assert.deepEqual(saved.sources, [source, '/etc']);
  assert.deepEqual(saved.excludes, ['.cache/', '*.iso']);
  assert.equal(saved.mode, 'system');
  assert.equal(saved.schedule.intervalHours, 12);
  assert.equal(saved.schedule.overdueDays, 3);
  assert.equal(saved.schedule.runOnBattery, true);
  assert.equal(saved.schedule.runOnMetered, false);
  assert.deepEqual(saved.schedule.networks, ['Home Wi-Fi']);
  assert.equal(saved.hosts[0]!.bwlimitKiB, 2048);
  assert.equal(saved.hosts[0]!.hostKey, client.config.hosts[0]!.hostKey, 'the pinned key is kept');
  assert.deepEqual(saved.notifications, { finished: false, failed: true, overdue: true });
  assert.equal(saved.startOnLogin, true);
  assert.match(readFileSync(autostartFile(env), 'utf8'), /^Exec=\/opt\/Pullback\/pullback$/m);

  // A reload shows what the file holds.
  await close();
  ({ page, close } = await open());
  assert.equal(
    await page.getByLabel('Folders to back up, one per line').inputValue(),
    `${source}\n/etc`,
  );
  assert.equal(await page.getByLabel('Back up every (hours)').inputValue(), '12');
  assert.equal(await page.getByLabel('System mode', { exact: false }).isChecked(), true);
  assert.equal(await page.getByLabel('Also back up on battery power').isChecked(), true);
  assert.equal(await page.getByLabel('Bandwidth limit (KiB/s, 0 for none)').inputValue(), '2048');
  assert.equal(await page.getByLabel('Tell me when a backup finished').isChecked(), false);
  assert.equal(await page.getByLabel('Start Pullback when I log in').isChecked(), true);

  // Bad input: a clear error naming the field, and the file stays as it was.
  const before = readFileSync(clientConfigFile(env), 'utf8');
  await page.getByLabel('Folders to back up, one per line').fill('relative/path');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForSelector('#save-error:not([hidden])');
  assert.match(
    (await page.locator('#save-error').textContent()) ?? '',
    /sources\.0: must be an absolute path/,
  );
  assert.equal(readFileSync(clientConfigFile(env), 'utf8'), before);

  // Start on login off again removes the autostart entry.
  await page.getByLabel('Folders to back up, one per line').fill(source);
  await page.getByLabel('Start Pullback when I log in').uncheck();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForSelector('#saved:text-is("Saved.")');
  assert.equal(existsSync(autostartFile(env)), false);
  await close();
});
