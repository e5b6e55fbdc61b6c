import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readClientConfig } from '../../core/config/client-store.js';
import { fingerprint } from '../../core/ssh/keys.js';
import { startBackupHost } from '../support/backup-host.js';
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

test('UI: the pairing wizard shows the fingerprint and the server line, pins the key, and notices when the backup host lets us in', async (t) => {
  const missing = missingPrerequisite();
  if (missing) return t.skip(`UI tests need Chromium: ${missing}`);
  const host = await startBackupHost();
  const dir = tempDir('pullback-ui-pair-');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULLBACK_CONFIG_DIR: join(dir, 'config'),
    PULLBACK_STATE_DIR: join(dir, 'state'),
  };
  const agent = testAgent(env);
  const server = await serveRenderer();
  const browser = await launchChromium();
  t.after(async () => {
    await agent.stop();
    await browser.close();
    await server.close();
    await host.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(agent.getState().needsPairing, true);

  const { page, opened } = await openBridgedPage(browser, server.url, 'pairing', {
    env,
    agent,
    viewport: { width: 640, height: 620 },
  });
  // Keyboard only: the field has focus, Enter submits.
  assert.equal(await page.evaluate('document.activeElement.id'), 'target');
  await page.keyboard.type('not a target');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#target-error:not([hidden])');
  assert.match((await page.locator('#target-error').textContent()) ?? '', /expected USER@HOST/);

  await page
    .getByLabel('Account on the backup host')
    .fill(`${host.user}@${host.address}:${host.port}`);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('#step-fingerprint:not([hidden])');
  assert.equal(await page.locator('#fingerprint').textContent(), fingerprint(host.hostKey));
  await screenshot(page, 'pairing');
  await assertFitsAtDoubleZoom(page, 640);

  await page.getByRole('button', { name: 'They match: pair' }).click();
  await page.waitForSelector('#step-server:not([hidden])');
  const line = (await page.locator('#server-line').textContent()) ?? '';
  const config = readClientConfig(env);
  const publicKey = readFileSync(join(env.PULLBACK_CONFIG_DIR!, 'id_ed25519.pub'), 'utf8').trim();
  assert.match(line, /pullback server add-client /);
  assert.ok(line.includes(config.name), `the line names this machine (${config.name}): ${line}`);
  assert.ok(line.includes(publicKey.split(' ')[1]!), 'the line carries our public key');
  assert.equal(config.hosts.length, 1, 'confirming pinned the host');
  assert.equal(config.hosts[0]!.hostKey, host.hostKey);
  assert.equal(agent.getState().needsPairing, false, 'the controller picked up the new host');

  await page.waitForSelector('#check-status:has-text("Waiting for the backup host")');
  await screenshot(page, 'pairing-waiting');

  // What the admin does with the line on the backup host:
  host.addClient(config.name, publicKey);
  const status = page.locator('#check-status');
  await status
    .filter({ hasText: /^Paired\./ })
    .waitFor({ timeout: 15_000 })
    .catch(async (err) => {
      throw new Error(`${err}; the wizard says: ${await status.textContent()}`);
    });
  await page.getByRole('button', { name: 'Done' }).click();
  assert.deepEqual(opened, ['status']);
});
