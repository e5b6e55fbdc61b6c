import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordRunFinished } from '../../core/agent/run-records.js';
import { writeHostRecords, type HostRecords } from '../../core/agent/status-store.js';
import { readClientConfig, writeClientConfig } from '../../core/config/client-store.js';
import { PullbackError } from '../../core/errors.js';
import { fingerprint, generateKeyPair } from '../../core/ssh/keys.js';
import { startBackupHost, makeTestClient } from '../support/backup-host.js';
import { freePort } from '../support/ports.js';
import {
  missingPrerequisite,
  openBridgedPage,
  screenshotElement,
  startUi,
  tempDir,
  testAgent,
} from './ui-harness.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/**
 * The status window never contradicts itself: four backup hosts in four states a real agent
 * found (closed ports, a backup host presenting another key than the pinned one).
 */
test('UI: the status window tells unreachable, changed host key, overdue and a failure apart, each in plain sentences', async (t) => {
  const missing = missingPrerequisite();
  if (missing) return t.skip(`UI tests need Chromium: ${missing}`);
  const host = await startBackupHost();
  const source = tempDir('pullback-ui-states-src-');
  const client = await makeTestClient(host, { sources: [source], name: 'laptop' });
  const [homePort, cabinPort, nasPort] = [
    await freePort('127.0.0.3'),
    await freePort('127.0.0.3'),
    await freePort('127.0.0.3'),
  ];
  const base = readClientConfig(client.env).hosts[0]!;
  const wrongKey = generateKeyPair('not-the-backup-host').publicKey;
  const config = readClientConfig(client.env);
  writeClientConfig(
    {
      ...config,
      schedule: { ...config.schedule, intervalHours: 24, overdueDays: 7 },
      hosts: [
        { ...base, name: 'home', port: homePort },
        { ...base, name: 'office', hostKey: wrongKey },
        { ...base, name: 'cabin', port: cabinPort },
        { ...base, name: 'nas', port: nasPort },
      ],
    },
    client.env,
  );
  const stateDir = client.env.PULLBACK_STATE_DIR!;
  // Last successes: an hour ago (home), two (office), eleven days (cabin), 30 hours (nas).
  const succeeded = (lastSuccessAgo: number) => ({
    trackedSince: ago(60 * DAY),
    lastSuccess: ago(lastSuccessAgo),
    lastResult: 'success' as const,
    failures: 0,
  });
  const records: HostRecords = {
    home: succeeded(HOUR),
    office: {
      ...succeeded(2 * HOUR),
      lastResult: 'failed',
      failures: 1,
      retryAt: new Date(Date.now() + 60_000).toISOString(),
    },
    cabin: succeeded(11 * DAY),
    nas: succeeded(30 * HOUR),
  };
  writeHostRecords(stateDir, records);
  // The nas failed the way Node reports it: recorded through the one path every backup takes.
  recordRunFinished(
    stateDir,
    { host: 'nas', trigger: 'automatic', startedAt: Date.now() - 2000 },
    {
      error: new PullbackError(
        'UNREACHABLE',
        `cannot connect to 127.0.0.3:${nasPort}: connect ECONNREFUSED 127.0.0.3:${nasPort}`,
      ),
    },
    Date.now(),
    2000,
  );

  const agent = testAgent(client.env);
  await agent.checkNow(); // the real reachability checks; nothing is due that could start
  const { url, browser } = await startUi(t, { agent, host, dirs: [source, client.dir] });

  const { page, opened } = await openBridgedPage(browser, url, 'status', {
    env: client.env,
    agent,
    viewport: { width: 600, height: 1400 },
  });
  const card = (name: string) => page.locator(`li[data-host="${name}"]`);
  const text = async (name: string, part: string) =>
    ((await card(name).locator(part).textContent()) ?? '').trim();

  // Unreachable is not "Up to date".
  assert.equal(await text('home', '.phase'), 'Not reachable');
  assert.match(await text('home', '.detail'), /^127\.0\.0\.3 does not answer right now\.$/);
  await screenshotElement(page, 'li[data-host="home"]', 'status-unreachable');
  // Back up now on it is refused in words too, not with the socket error.
  await card('home').getByRole('button', { name: 'Back up now' }).click();
  await card('home').locator('.host-error:not([hidden])').waitFor();
  assert.equal(
    await text('home', '.error-message'),
    `The backup host (127.0.0.3:${homePort}) refused the connection: no SSH server answers. Check that the SSH server runs on the backup host and that the port in the pairing is right.`,
  );

  // A changed host key: both fingerprints, Pair again, and no retry timer.
  assert.equal(await text('office', '.phase'), 'Host key changed');
  assert.equal(await text('office', '.key-pinned'), fingerprint(wrongKey));
  assert.equal(await text('office', '.key-presented'), fingerprint(host.hostKey));
  assert.equal(await card('office').getByRole('button', { name: 'Pair again…' }).isVisible(), true);
  assert.equal(
    await card('office').getByRole('button', { name: 'Back up now' }).isVisible(),
    false,
  );
  assert.doesNotMatch((await card('office').textContent()) ?? '', /Trying again/);
  assert.equal(await text('office', '.next'), 'after you pair again');
  assert.match(await text('office', '.error-hint'), /pair with it again/);
  await screenshotElement(page, 'li[data-host="office"]', 'status-host-key-changed');
  await card('office').getByRole('button', { name: 'Pair again…' }).click();
  await page.waitForFunction(() => true);
  assert.deepEqual(opened, ['pairing']);

  // Overdue: the next backup is now, not "11 days ago".
  assert.equal(await text('cabin', '.phase'), 'Overdue');
  assert.match(await text('cabin', '.next'), /^now\b/);
  assert.doesNotMatch(await text('cabin', '.next'), /ago/);
  assert.match(await text('cabin', '.last'), /\(11 days ago\)$/);
  await screenshotElement(page, 'li[data-host="cabin"]', 'status-overdue');

  // A failure: what happened and what to do, two sentences, no raw Node text.
  assert.equal(await text('nas', '.phase'), 'Failed');
  assert.equal(
    await text('nas', '.error-message'),
    `The backup host (127.0.0.3:${nasPort}) refused the connection: no SSH server answers.`,
  );
  assert.match(await text('nas', '.error-hint'), /^Check that the SSH server runs .*\.$/);
  assert.doesNotMatch((await card('nas').textContent()) ?? '', /ECONNREFUSED|connect /);
  // Due again, so the back-off is what the next backup waits for: both lines say the same.
  assert.match(await text('nas', '.detail'), /Trying again .*\(in 1 min\)\.$/);
  assert.match(await text('nas', '.next'), /\(in 1 min\)$/);
  await screenshotElement(page, 'li[data-host="nas"]', 'status-failed');
});
