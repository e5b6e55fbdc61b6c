import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentState, HostStatus } from '../../core/agent/types.js';
import type { AgentController } from '../../core/agent/types.js';
import { performTrayAction } from '../../main/tray-actions.js';
import { buildTrayMenu, findMenuItem, type MenuTemplateItem } from '../../main/tray-menu.js';
import type { WindowName } from '../../preload/api.js';
import { PAUSED_INDEFINITELY, trayIconState, trayTooltip } from '../../main/host-summary.js';

const NOW = new Date('2026-11-26T18:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();

function host(overrides: Partial<HostStatus> = {}): HostStatus {
  return {
    host: 'home',
    address: '192.168.1.10',
    phase: 'idle',
    reachable: 'reachable',
    overdue: false,
    ...overrides,
  };
}

function state(hosts: HostStatus[], extra: Partial<AgentState> = {}): AgentState {
  return { hosts, mode: 'user', needsPairing: hosts.length === 0, ...extra };
}

const ids = (items: MenuTemplateItem[]) => items.map((i) => i.id);
const label = (items: MenuTemplateItem[], id: string) => findMenuItem(items, id)?.label;

/** Every paired menu ends with the window items (Restore… among them) and Quit, whatever the state. */
function assertCommonTail(items: MenuTemplateItem[]) {
  assert.deepEqual(ids(items).slice(-6), [
    'sep-windows',
    'open',
    'restore',
    'preferences',
    'sep-quit',
    'quit',
  ]);
  assert.deepEqual(findMenuItem(items, 'quit')?.action, { kind: 'quit' });
  assert.deepEqual(findMenuItem(items, 'open')?.action, { kind: 'open-status' });
  assert.equal(label(items, 'restore'), 'Restore…');
  assert.deepEqual(findMenuItem(items, 'restore')?.action, { kind: 'open-restore' });
  assert.notEqual(findMenuItem(items, 'restore')?.enabled, false);
  assert.deepEqual(findMenuItem(items, 'preferences')?.action, { kind: 'open-preferences' });
}

test('tray menu, idle: a status line, Back up now, Pause, no Cancel', () => {
  const s = state([host({ phase: 'idle' })]);
  const items = buildTrayMenu(s, NOW);
  assert.equal(label(items, 'status:home'), 'home: never backed up');
  assert.equal(findMenuItem(items, 'status:home')?.enabled, false);
  assert.deepEqual(findMenuItem(items, 'backup-now')?.action, { kind: 'backup-now' });
  assert.notEqual(findMenuItem(items, 'backup-now')?.enabled, false);
  assert.equal(findMenuItem(items, 'cancel'), undefined);
  assert.ok(findMenuItem(items, 'pause'));
  assertCommonTail(items);
  assert.equal(trayIconState(s), 'ok');
});

test('tray menu, waiting: the status line says why, with the last backup time', () => {
  const s = state([
    host({
      phase: 'waiting',
      lastSuccess: hoursAgo(30),
      waitingFor: 'on battery power (allow it in Preferences); automatic backups are paused',
    }),
  ]);
  const items = buildTrayMenu(s, NOW);
  assert.equal(
    label(items, 'status:home'),
    'home: waiting, on battery power (allow it in Preferences) (last backup yesterday)',
  );
  assert.equal(trayIconState(s), 'ok');
});

test('tray menu, running: percent and ETA in the status line and tooltip, Cancel, Back up now disabled', () => {
  const s = state([
    host({
      phase: 'running',
      lastSuccess: hoursAgo(3),
      progress: {
        stage: 'transferring',
        percent: 42.7,
        bytes: 1e9,
        bytesPerSecond: 5e6,
        etaSeconds: 185,
        files: 1200,
      },
    }),
  ]);
  const items = buildTrayMenu(s, NOW);
  assert.equal(label(items, 'status:home'), 'home: backing up… 42 %, about 3 min 5 s left');
  assert.deepEqual(findMenuItem(items, 'cancel')?.action, { kind: 'cancel' });
  assert.equal(findMenuItem(items, 'backup-now')?.enabled, false);
  assert.equal(trayIconState(s), 'running');
  assert.match(trayTooltip(s, NOW), /42 %, about 3 min 5 s left/);
});

test('tray menu, running before the transfer starts: "starting…", no ETA', () => {
  const s = state([
    host({
      phase: 'running',
      progress: {
        stage: 'connecting',
        percent: 0,
        bytes: 0,
        bytesPerSecond: 0,
        etaSeconds: null,
        files: 0,
      },
    }),
  ]);
  assert.equal(label(buildTrayMenu(s, NOW), 'status:home'), 'home: backing up… starting…');
});

test('tray menu, succeeded: last backup time relative to now', () => {
  const s = state([host({ phase: 'succeeded', lastSuccess: hoursAgo(2.5) })]);
  assert.equal(label(buildTrayMenu(s, NOW), 'status:home'), 'home: last backup 2 h ago');
  const justNow = state([host({ phase: 'succeeded', lastSuccess: hoursAgo(0.001) })]);
  assert.equal(label(buildTrayMenu(justNow, NOW), 'status:home'), 'home: last backup just now');
  assert.equal(trayIconState(s), 'ok');
  assert.equal(trayTooltip(s, NOW), 'Pullback\nhome: last backup 2 h ago');
});

test('tray menu, failed: says so with the last good backup; error icon', () => {
  const s = state([
    host({
      phase: 'failed',
      lastSuccess: hoursAgo(24 * 3),
      lastError: { code: 'UNREACHABLE', message: 'no route', hint: 'check the network' },
    }),
  ]);
  assert.equal(
    label(buildTrayMenu(s, NOW), 'status:home'),
    'home: backup failed (last backup 3 days ago)',
  );
  assert.equal(trayIconState(s), 'error');
});

test('tray menu, overdue: says how long ago; overdue icon', () => {
  const s = state([host({ phase: 'overdue', overdue: true, lastSuccess: hoursAgo(24 * 9) })]);
  assert.equal(
    label(buildTrayMenu(s, NOW), 'status:home'),
    'home: overdue, last backup 9 days ago',
  );
  assert.equal(trayIconState(s), 'overdue');
});

test('tray menu, paused: a paused line and Resume instead of the Pause submenu', () => {
  const until = new Date(NOW.getTime() + 3_600_000);
  const s = state([host({ phase: 'succeeded', lastSuccess: hoursAgo(1) })], {
    pausedUntil: until.toISOString(),
  });
  const items = buildTrayMenu(s, NOW);
  const hhmm = `${String(until.getHours()).padStart(2, '0')}:${String(until.getMinutes()).padStart(2, '0')}`;
  assert.equal(label(items, 'status:paused'), `Automatic backups paused until ${hhmm}`);
  assert.deepEqual(findMenuItem(items, 'resume')?.action, { kind: 'resume' });
  assert.equal(findMenuItem(items, 'pause'), undefined);
  const forever = buildTrayMenu({ ...s, pausedUntil: PAUSED_INDEFINITELY }, NOW);
  assert.equal(label(forever, 'status:paused'), 'Automatic backups paused');
});

test('tray menu, not paused: Pause offers 1 hour, 1 day and until resumed', () => {
  const items = buildTrayMenu(state([host()]), NOW);
  const pause = findMenuItem(items, 'pause');
  assert.deepEqual(
    pause?.submenu?.map((i) => [i.id, i.label, i.action]),
    [
      ['pause:1h', 'For 1 hour', { kind: 'pause', forMs: 3_600_000 }],
      ['pause:1d', 'For 1 day', { kind: 'pause', forMs: 86_400_000 }],
      ['pause:indefinitely', 'Until resumed', { kind: 'pause', forMs: null }],
    ],
  );
});

test('tray menu, unreachable after a success: the line says so, never just "last backup 1 h ago"', () => {
  const s = state([
    host({ phase: 'succeeded', reachable: 'unreachable', lastSuccess: hoursAgo(1) }),
  ]);
  assert.equal(
    label(buildTrayMenu(s, NOW), 'status:home'),
    'home: not reachable, last backup 1 h ago',
  );
});

test('tray menu, host key changed: a clear line, error icon, Pair again offered', () => {
  const s = state([
    host({
      phase: 'failed',
      reachable: 'host-key-changed',
      lastSuccess: hoursAgo(5),
      lastError: { code: 'HOST_KEY_MISMATCH', message: 'changed', hint: 'pair again' },
    }),
  ]);
  const items = buildTrayMenu(s, NOW);
  assert.equal(
    label(items, 'status:home'),
    'home: host key changed, not backing up (last backup 5 h ago)',
  );
  assert.deepEqual(findMenuItem(items, 'pair')?.action, { kind: 'open-pairing' });
  assert.equal(label(items, 'pair'), 'Pair again…');
  assert.equal(trayIconState(s), 'error');
});

test('tray menu, nothing paired: offers pairing instead of Back up now, Pause and Restore', () => {
  const s = state([]);
  const items = buildTrayMenu(s, NOW);
  assert.deepEqual(ids(items), [
    'status',
    'sep-status',
    'pair',
    'sep-windows',
    'open',
    'preferences',
    'sep-quit',
    'quit',
  ]);
  assert.equal(label(items, 'status'), 'Not paired with a backup host yet');
  assert.deepEqual(findMenuItem(items, 'pair')?.action, { kind: 'open-pairing' });
  assert.equal(trayIconState(s), 'overdue');
  assert.equal(trayTooltip(s, NOW), 'Pullback: not paired with a backup host yet');
});

test('tray menu, several hosts: one status line each, Back up now per host or to all', () => {
  const s = state([
    host({ host: 'home', phase: 'succeeded', lastSuccess: hoursAgo(1) }),
    host({
      host: 'office',
      phase: 'running',
      progress: {
        stage: 'transferring',
        percent: 10,
        bytes: 1,
        bytesPerSecond: 1,
        etaSeconds: 60,
        files: 1,
      },
    }),
    host({ host: 'offsite', phase: 'overdue', overdue: true }),
  ]);
  const items = buildTrayMenu(s, NOW);
  assert.deepEqual(ids(items).slice(0, 3), ['status:home', 'status:office', 'status:offsite']);
  assert.equal(label(items, 'status:offsite'), 'offsite: overdue, never backed up');
  const backup = findMenuItem(items, 'backup-now');
  assert.deepEqual(
    backup?.submenu?.map((i) => [i.id, i.enabled ?? true, i.action]),
    [
      ['backup-now:all', true, { kind: 'backup-now' }],
      ['backup-now:home', true, { kind: 'backup-now', host: 'home' }],
      ['backup-now:office', false, { kind: 'backup-now', host: 'office' }],
      ['backup-now:offsite', true, { kind: 'backup-now', host: 'offsite' }],
    ],
  );
  assert.ok(findMenuItem(items, 'cancel'));
  assert.equal(trayIconState(s), 'running');
  assert.equal(trayTooltip(s, NOW).split('\n').length, 4);
});

test('tray menu, Restore…: offered in every paired state (also while backing up or paused) and opens the Restore window', async () => {
  const running = host({
    phase: 'running',
    progress: {
      stage: 'transferring',
      percent: 10,
      bytes: 1,
      bytesPerSecond: 1,
      etaSeconds: 60,
      files: 1,
    },
  });
  for (const s of [
    state([host()]),
    state([running]),
    state([host({ phase: 'failed', reachable: 'unreachable' })]),
    state([host()], { pausedUntil: PAUSED_INDEFINITELY }),
    state([host(), host({ host: 'b' })]),
  ]) {
    assertCommonTail(buildTrayMenu(s, NOW));
  }
  const opened: WindowName[] = [];
  const restore = findMenuItem(buildTrayMenu(state([host()]), NOW), 'restore');
  assert.ok(restore?.action);
  await performTrayAction(restore.action, {
    agent: {} as AgentController, // opening a window never touches the agent
    openWindow: (name) => opened.push(name),
    quit: () => assert.fail('Restore… must not quit'),
  });
  assert.deepEqual(opened, ['restore']);
});

test('tray menu ids are unique in every state', () => {
  const all = (items: MenuTemplateItem[]): string[] =>
    items.flatMap((i) => [i.id, ...(i.submenu ? all(i.submenu) : [])]);
  for (const s of [
    state([]),
    state([host(), host({ host: 'b' })]),
    state([host()], { pausedUntil: PAUSED_INDEFINITELY }),
  ]) {
    const list = all(buildTrayMenu(s, NOW));
    assert.equal(new Set(list).size, list.length, list.join(','));
  }
});
