import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '../../core/agent/controller.js';
import type { HistoryEntry } from '../../core/agent/types.js';
import { startBackupHost, makeTestClient } from '../support/backup-host.js';
import {
  assertFitsAtDoubleZoom,
  missingPrerequisite,
  openBridgedPage,
  screenshot,
  startUi,
  tempDir,
  testAgent,
} from './ui-harness.js';
import type { Page } from 'playwright-core';

// A name a hostile backup host (or a hostile file on the laptop) could hand the window: markup
// and a terminal escape. It must show as text, with the escape visible, and run nothing.
const HOSTILE_NAME = '<img src=x onerror="document.title=\'owned\'">\x1b[31mred';

/** One backup through the real controller, to its end. */
function backUp(agent: Agent): Promise<HistoryEntry> {
  return new Promise((resolve, reject) => {
    const off = agent.subscribe((event) => {
      if (event.type === 'backup-finished') {
        off();
        resolve(event.entry);
      } else if (event.type === 'backup-failed') {
        off();
        reject(new Error(`backup failed: ${event.reason}`));
      }
    });
    agent.backupNow().catch((err: unknown) => {
      off();
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}

/** From "/" down to `path`, one folder button at a time, as a person would. */
async function browseTo(page: Page, path: string): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  for (const [i, part] of parts.entries()) {
    await page
      .locator('#entries tbody tr')
      .filter({ has: page.locator('button.open-folder', { hasText: `${part}/` }) })
      .locator('button.open-folder')
      .first()
      .click();
    await page
      .locator('#crumbs .crumb')
      .nth(i + 1)
      .and(page.locator('[aria-current]'))
      .waitFor();
  }
}

function row(page: Page, name: string) {
  return page.locator('#entries tbody tr').filter({
    has: page.locator('td.name button', { hasText: new RegExp(`^${name}/?$`) }),
  });
}

test('UI: the Restore window picks the older of two snapshots, browses into a folder, shows both versions of a file, and restores the picked version to a folder; a status row opens its snapshot', async (t) => {
  const missing = missingPrerequisite();
  if (missing) return t.skip(`UI tests need Chromium: ${missing}`);
  const source = tempDir('pullback-ui-restore-src-');
  const restoreTo = tempDir('pullback-ui-restored-');
  mkdirSync(join(source, 'docs'));
  const report = join(source, 'docs', 'report.txt');
  writeFileSync(report, 'the first draft\n');
  utimesSync(report, new Date('2026-11-20T09:00:00Z'), new Date('2026-11-20T09:00:00Z'));
  // What the source had, and the backup host's own copy cannot show (--fake-super stores these
  // in xattrs; the stored file is 0644 and owned by the backup host's account).
  const notes = join(source, 'docs', 'notes.md');
  writeFileSync(notes, '# notes\n');
  chmodSync(notes, 0o444);
  const owner = process.getuid?.() === 0 ? { uid: 1234, gid: 5678 } : undefined;
  if (owner) chownSync(notes, owner.uid, owner.gid);
  writeFileSync(join(source, HOSTILE_NAME), 'not markup\n');
  const host = await startBackupHost();
  const client = await makeTestClient(host, { sources: [source], name: 'laptop' });
  const agent = testAgent(client.env);
  const { url, browser } = await startUi(t, {
    agent,
    host,
    dirs: [source, restoreTo, client.dir],
  });

  const first = await backUp(agent);
  writeFileSync(report, 'the final text, much longer than the first draft\n');
  utimesSync(report, new Date('2026-11-21T10:00:00Z'), new Date('2026-11-21T10:00:00Z'));
  const second = await backUp(agent);
  assert.ok(first.snapshot && second.snapshot && first.snapshot !== second.snapshot);

  // The status window: the older run's row opens the Restore window at the snapshot it made.
  const status = await openBridgedPage(browser, url, 'status', { env: client.env, agent });
  const links = status.page.locator('#history tbody tr td button.link');
  await links.nth(1).waitFor();
  assert.equal(await links.count(), 2, 'each successful run links to its snapshot');
  await links.nth(1).click();
  for (let i = 0; i < 100 && status.targets.length === 0; i++) await status.page.waitForTimeout(50);
  assert.deepEqual(status.targets, [{ host: 'home', snapshot: first.snapshot }]);
  assert.deepEqual(status.opened, ['restore']);
  await status.close();

  const { page } = await openBridgedPage(browser, url, 'restore', {
    env: client.env,
    agent,
    viewport: { width: 900, height: 900 },
    at: status.targets[0]!,
  });
  const pressed = page.locator('#timeline button[aria-pressed="true"]');
  await pressed.waitFor();
  assert.equal(await page.locator('#timeline button.point').count(), 2);
  assert.equal(await pressed.getAttribute('data-snapshot'), first.snapshot, 'opened at its run');
  assert.equal(await page.locator('#host').inputValue(), 'home');

  await browseTo(page, source);
  // Entries as the source had them: the folder first, modes as ls shows them.
  await row(page, 'docs').waitFor();
  assert.match((await row(page, 'docs').locator('td.mode').textContent()) ?? '', /^drwx/);

  // The hostile name is text: the escape is visible, no element was made from it, nothing ran.
  const hostile = page.locator('#entries tbody tr[data-type="file"] td.name button', {
    hasText: '\\x1b[31mred',
  });
  assert.equal(await hostile.count(), 1);
  assert.equal(await hostile.textContent(), HOSTILE_NAME.replace('\x1b', '\\x1b'));
  assert.equal(await page.locator('#entries img').count(), 0);
  assert.notEqual(await page.title(), 'owned');

  await row(page, 'docs').locator('button.open-folder').click();
  await row(page, 'report.txt').waitFor();
  const reportRow = row(page, 'report.txt');
  assert.match((await reportRow.locator('td.mode').textContent()) ?? '', /^-rw-/);
  assert.equal(await reportRow.locator('td').nth(4).textContent(), '16 B');
  assert.equal(await row(page, 'notes.md').locator('td.mode').textContent(), '-r--r--r--');
  assert.equal(
    await row(page, 'notes.md').locator('td').nth(3).textContent(),
    owner ? '1234:5678' : `${process.getuid?.()}:${process.getgid?.()}`,
  );

  // Its versions: both, oldest first, the one in this snapshot marked.
  await reportRow.locator('button.open-versions').click();
  const versions = page.locator('#versions-table tbody tr');
  await versions.nth(1).waitFor();
  assert.equal(await versions.count(), 2);
  assert.equal(await versions.nth(0).getAttribute('data-current'), 'true');
  assert.equal(await versions.nth(0).locator('td').nth(1).textContent(), '16 B');
  assert.equal(await versions.nth(1).getAttribute('data-current'), null);

  // Select it, restore into a folder typed in (no folder picker outside Electron).
  assert.equal(await page.locator('#choose-folder').isVisible(), false);
  await reportRow.getByRole('checkbox').check();
  assert.match((await page.locator('#selection-text').textContent()) ?? '', /^One item/);
  await page.locator('#where-folder').check();
  await page.locator('#to-folder').fill(restoreTo);
  await page.evaluate(`window.__restoreProgress = [];
    window.pullback.onEvent((e) => {
      if (e.type === 'restore-progress') window.__restoreProgress.push(e.progress.percent);
    });`);
  await page.locator('#restore-start').click();
  await page.locator('#restore-result').waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('#restore-error').isVisible(), false);

  const restored = join(restoreTo, 'report.txt');
  assert.equal(
    readFileSync(restored, 'utf8'),
    'the first draft\n',
    'the picked snapshot’s version',
  );
  assert.deepEqual(readdirSync(restoreTo), ['report.txt']);
  assert.equal(
    await page.locator('#result-items li code.restored-to').textContent(),
    restored,
    'the result says where it went',
  );
  assert.equal(await page.locator('#result-skipped').textContent(), 'Nothing was skipped.');
  // Again into the same folder: refused in one line, and the restored file is left alone.
  await page.locator('#restore-start').click();
  await page.locator('#restore-error').waitFor();
  const exists = (await page.locator('#restore-error').textContent()) ?? '';
  assert.match(exists, /already exists: restore into another folder/);
  assert.doesNotMatch(exists, /--/, 'the window names no command-line flag');
  assert.equal(await page.locator('#restore-result').isVisible(), false);
  assert.equal(readFileSync(restored, 'utf8'), 'the first draft\n');
  // A folder that is not a full path never leaves the page.
  await page.locator('#to-folder').fill('Restored');
  await page.locator('#restore-start').click();
  assert.match(
    (await page.locator('#restore-error').textContent()) ?? '',
    /^The folder must be a full path/,
  );
  // Cancelled at once: the window says so, and nothing arrives in the folder.
  rmSync(restored);
  await page.locator('#to-folder').fill(restoreTo);
  await page.locator('#restore-start').click();
  await page.locator('#restore-cancel').click();
  await page.locator('#restore-error').getByText('The restore was cancelled.').waitFor();
  assert.deepEqual(readdirSync(restoreTo), []);

  // Then the same restore goes through.
  await page.locator('#restore-start').click();
  await page.locator('#restore-result').waitFor();
  assert.equal(readFileSync(restored, 'utf8'), 'the first draft\n');

  const progress = (await page.evaluate('window.__restoreProgress')) as number[];
  assert.ok(progress.length > 0, 'the restore reported its progress to the window');
  assert.equal(progress.at(-1), 100);
  await screenshot(page, 'restore');
  await assertFitsAtDoubleZoom(page, 900);

  // The newer version, next to the original: a new name beside it, the original untouched.
  await page.locator('#where-next').check();
  await versions.nth(1).getByRole('button', { name: 'Restore this version' }).click();
  await page.locator('#restore-result').waitFor();
  await page.waitForFunction(
    `document.querySelector('#result-summary').textContent.startsWith('Restored this version')`,
  );
  const beside = readdirSync(join(source, 'docs')).filter((n) => n.startsWith('report.txt ('));
  assert.equal(beside.length, 1, `one restored copy next to the original: ${beside.join(', ')}`);
  assert.match(beside[0]!, /^report\.txt \(restored \d{4}-\d\d-\d\d \d\d:\d\d\)$/);
  assert.equal(
    readFileSync(join(source, 'docs', beside[0]!), 'utf8'),
    'the final text, much longer than the first draft\n',
  );
  assert.equal(readFileSync(report, 'utf8'), 'the final text, much longer than the first draft\n');
  assert.equal(
    await page.locator('#result-items li code.restored-to').textContent(),
    join(source, 'docs', beside[0]!),
  );

  // A backup made while the window is open joins the timeline; the snapshot shown stays.
  const third = await backUp(agent);
  await page.locator('#timeline button.point').nth(2).waitFor();
  assert.equal(
    await page.locator('#timeline button.point').nth(2).getAttribute('data-snapshot'),
    third.snapshot,
  );
  assert.equal(await pressed.getAttribute('data-snapshot'), first.snapshot);
});
