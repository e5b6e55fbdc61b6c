import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readClientConfig, writeClientConfig } from '../../core/config/client-store.js';
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

const SOURCE_BYTES = 24 * 1024 * 1024;
const BWLIMIT_KIB = 4096; // ~6 s of transfer: long enough to watch the bar move

test('UI: Back up now in the status window runs a real backup, the progress bar moves, and the snapshot appears', async (t) => {
  const missing = missingPrerequisite();
  if (missing) return t.skip(`UI tests need Chromium: ${missing}`);
  const source = tempDir('pullback-ui-src-');
  writeFileSync(join(source, 'notes.txt'), 'remember the milk\n'.repeat(200));
  mkdirSync(join(source, 'photos'));
  writeFileSync(join(source, 'photos', 'big.bin'), randomBytes(SOURCE_BYTES));
  const host = await startBackupHost();
  const client = await makeTestClient(host, { sources: [source], name: 'laptop' });
  const config = readClientConfig(client.env);
  writeClientConfig(
    { ...config, hosts: config.hosts.map((h) => ({ ...h, bwlimitKiB: BWLIMIT_KIB })) },
    client.env,
  );
  const agent = testAgent(client.env);
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

  const { page } = await openBridgedPage(browser, server.url, 'status', {
    env: client.env,
    agent,
    viewport: { width: 600, height: 640 },
  });
  const card = page.locator('li[data-host="home"]');
  await assert.doesNotReject(card.waitFor());
  assert.equal(await card.locator('.phase').textContent(), 'Not backed up yet');
  assert.equal(await page.locator('#history-empty').isVisible(), true);

  await card.getByRole('button', { name: 'Back up now' }).click();
  await page.waitForSelector('li[data-host="home"][data-phase="running"]');
  assert.equal(await card.getByRole('button', { name: 'Cancel' }).isVisible(), true);
  assert.equal(await card.getByRole('button', { name: 'Back up now' }).isDisabled(), true);

  // Sample the bar until the run ends: it must show several values on the way up.
  const seen: number[] = [];
  let shotMidRun = false;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const phase = await card.getAttribute('data-phase');
    if (phase !== 'running') break;
    const value = Number(await card.locator('progress').getAttribute('value'));
    if (value !== seen.at(-1)) seen.push(value);
    if (!shotMidRun && value >= 25 && value <= 85) {
      shotMidRun = true;
      assert.match((await card.locator('.progress-text').textContent()) ?? '', /\d+ % · .* copied/);
      await screenshot(page, 'status-running');
    }
    await page.waitForTimeout(150);
  }
  const during = seen.filter((v) => v > 0 && v < 100);
  assert.ok(during.length >= 3, `the bar moved through several values, saw ${seen.join(', ')}`);
  for (let i = 1; i < during.length; i++) {
    assert.ok(during[i]! >= during[i - 1]!, `the bar only moves forward: ${seen.join(', ')}`);
  }

  await page.waitForSelector('li[data-host="home"][data-phase="succeeded"]', { timeout: 30_000 });
  assert.equal(await card.locator('.phase').textContent(), 'Up to date');
  await page.waitForSelector('#history tbody tr');
  assert.equal(await page.locator('#history tbody tr td').nth(2).textContent(), 'Backed up');

  const state = agent.getState().hosts[0]!;
  assert.ok(state.lastSnapshot, 'the controller knows the new snapshot');
  const snapshots = join(host.storage, client.name, 'snapshots');
  assert.ok(
    existsSync(join(snapshots, state.lastSnapshot, source, 'photos', 'big.bin')) ||
      readdirSync(snapshots).includes(state.lastSnapshot),
    `snapshot ${state.lastSnapshot} on the backup host`,
  );
  assert.equal(readdirSync(snapshots).filter((n) => !n.endsWith('.json')).length, 1);
  await screenshot(page, 'status');
  await assertFitsAtDoubleZoom(page, 600);
});
