import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readClientConfig } from '../../core/config/client-store.js';
import { clientConfigFile } from '../../core/config/paths.js';
import { startBackupHost, makeTestClient } from '../support/backup-host.js';
import { missingPrerequisite, openBridgedPage, startUi, tempDir, testAgent } from './ui-harness.js';

test('UI: Preferences adds and removes sources and excludes with the same checks as the CLI: a missing source is refused, one inside another is left out with a note', async (t) => {
  const missing = missingPrerequisite();
  if (missing) return t.skip(`UI tests need Chromium: ${missing}`);
  const host = await startBackupHost();
  const first = tempDir('pullback-ui-src-first-');
  const second = tempDir('pullback-ui-src-second-');
  mkdirSync(join(second, 'Documents'));
  const client = await makeTestClient(host, {
    sources: [first],
    name: 'laptop',
    excludes: ['.cache/'],
  });
  const agent = testAgent(client.env);
  const { url, browser } = await startUi(t, { agent, host, dirs: [first, second, client.dir] });
  const { page, close } = await openBridgedPage(browser, url, 'preferences', {
    env: client.env,
    agent,
    viewport: { width: 680, height: 1400 },
  });
  const sources = page.getByLabel('Folders to back up, one per line');
  const excludes = page.getByLabel('Leave out, one rsync pattern per line');
  const save = async () => {
    await page.locator('#saved').evaluate((el) => (el.textContent = ''));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForSelector('#saved:text-is("Saved."), #save-error:not([hidden])');
  };

  // Add a source and an exclude.
  await sources.fill(`${first}\n${second}`);
  await excludes.fill('.cache/\n*.iso');
  await save();
  assert.deepEqual(readClientConfig(client.env).sources, [first, second]);
  assert.deepEqual(readClientConfig(client.env).excludes, ['.cache/', '*.iso']);

  // Remove one of each.
  await sources.fill(second);
  await excludes.fill('*.iso');
  await save();
  assert.deepEqual(readClientConfig(client.env).sources, [second]);
  assert.deepEqual(readClientConfig(client.env).excludes, ['*.iso']);

  // A source that does not exist is refused, naming it; nothing is written.
  const before = readFileSync(clientConfigFile(client.env), 'utf8');
  const nowhere = join(second, 'not-plugged-in');
  await sources.fill(`${second}\n${nowhere}`);
  await save();
  assert.equal(
    ((await page.locator('#save-error').textContent()) ?? '').trim(),
    `sources: "${nowhere}" does not exist on this machine; nothing was saved`,
  );
  assert.equal(readFileSync(clientConfigFile(client.env), 'utf8'), before);

  // A source inside another is left out, and the page says so.
  await sources.fill(`${second}\n${second}/Documents/`);
  await save();
  assert.equal(await page.locator('#save-error').isHidden(), true);
  assert.deepEqual(readClientConfig(client.env).sources, [second]);
  assert.equal(await sources.inputValue(), second);
  assert.equal(
    ((await page.locator('#save-notes').textContent()) ?? '').trim(),
    `${second}/Documents is inside ${second}, which is backed up already: left out.`,
  );
  await close();
});
