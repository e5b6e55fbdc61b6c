import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentController } from '../../core/agent/types.js';
import { parseClientConfig, writeClientConfig } from '../../core/config/client-store.js';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { createBackend, invokeBackend } from '../../main/backend.js';
import { confSettingsStore } from '../../main/settings-store.js';
import type { RestoreTarget, WindowName } from '../../preload/api.js';

/**
 * The Restore window's calls as a hostile page would make them (through the IPC envelope):
 * wrong types, relative paths, another window opened "at" a snapshot. Each is refused with
 * one code before anything reads a key or connects. The real restores are in test/ui.
 */
function client(t: { after(fn: () => void): void }, chooseFolder?: () => Promise<string | null>) {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-restore-backend-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = {
    ...process.env,
    PULLBACK_CONFIG_DIR: join(dir, 'config'),
    PULLBACK_STATE_DIR: join(dir, 'state'),
  };
  const hostKey = generateKeyPair('unit').publicKey.split(' ').slice(0, 2).join(' ');
  writeClientConfig(
    parseClientConfig({
      name: 'unit',
      sources: [dir],
      hosts: [{ name: 'home', user: 'pullback', address: '127.0.0.1', port: 1, hostKey }],
    }),
    env,
  );
  const opened: [WindowName, RestoreTarget | undefined][] = [];
  const backend = createBackend({
    agent: {} as AgentController, // none of these calls reaches the agent
    settings: confSettingsStore(env),
    env,
    openWindow: (name, at) => opened.push([name, at]),
    emit: () => assert.fail('nothing runs, so nothing reports progress'),
    ...(chooseFolder && { chooseFolder }),
  });
  const call = (method: string, ...args: unknown[]) => invokeBackend(backend, method, args);
  return { call, opened };
}

const refused = (code: string) => ({ ok: false, code });
const codeOf = (r: { ok: boolean; code?: string }) => ({ ok: r.ok, code: r.code });

test('Restore backend: a page cannot pass paths of the wrong type, relative paths or NUL bytes (BAD_REQUEST, before any key is read)', async (t) => {
  const { call } = client(t);
  const good = { host: 'home', snapshot: '2026-11-26T180102Z', paths: ['/home/me/a'] };
  for (const request of [
    null,
    'restore everything',
    { ...good, paths: '/home/me/a' },
    { ...good, paths: [] },
    { ...good, paths: ['home/me/a'] },
    { ...good, paths: ['/home/me/a\0b'] },
    { ...good, paths: [42] },
    { ...good, snapshot: 7 },
    { ...good, host: '' },
    { ...good, to: 'relative/folder' },
    { ...good, to: 5 },
  ]) {
    assert.deepEqual(
      codeOf(await call('restore', request)),
      refused('BAD_REQUEST'),
      JSON.stringify(request),
    );
  }
  assert.deepEqual(codeOf(await call('listEntries', 'home', 5, '/')), refused('BAD_REQUEST'));
  assert.deepEqual(
    codeOf(await call('listEntries', 'home', 'latest', 'etc')),
    refused('BAD_REQUEST'),
  );
  assert.deepEqual(
    codeOf(await call('fileVersions', 'home', ['/etc/passwd'])),
    refused('BAD_REQUEST'),
  );
  assert.deepEqual(codeOf(await call('listSnapshots', { name: 'home' })), refused('BAD_REQUEST'));
});

test('Restore backend: a host that is not paired is NOT_FOUND, never some other configured host', async (t) => {
  const { call } = client(t);
  assert.deepEqual(codeOf(await call('listSnapshots', 'office')), refused('NOT_FOUND'));
  assert.deepEqual(
    codeOf(await call('listEntries', 'office', 'latest', '/')),
    refused('NOT_FOUND'),
  );
  const r = await call('restore', { host: 'office', snapshot: 'latest', paths: ['/a'] });
  assert.deepEqual(codeOf(r), refused('NOT_FOUND'));
});

test('Restore backend: the folder picker is offered only where main has one', async (t) => {
  const without = client(t);
  assert.deepEqual(await without.call('restoreContext'), {
    ok: true,
    value: { hosts: ['home'], folderPicker: false },
  });
  assert.deepEqual(codeOf(await without.call('chooseFolder')), refused('BAD_REQUEST'));
  const withPicker = client(t, async () => '/home/me/Restored');
  assert.deepEqual(await withPicker.call('restoreContext'), {
    ok: true,
    value: { hosts: ['home'], folderPicker: true },
  });
  assert.deepEqual(await withPicker.call('chooseFolder'), { ok: true, value: '/home/me/Restored' });
});

test('Restore backend: only the Restore window opens at a host and snapshot, and only with well-formed ones', async (t) => {
  const { call, opened } = client(t);
  const at = { host: 'home', snapshot: '2026-11-26T180102Z' };
  assert.deepEqual(await call('openWindow', 'restore', at), { ok: true, value: null });
  assert.deepEqual(await call('openWindow', 'restore'), { ok: true, value: null });
  assert.deepEqual(codeOf(await call('openWindow', 'status', at)), refused('BAD_REQUEST'));
  assert.deepEqual(
    codeOf(await call('openWindow', 'restore', { host: 3 })),
    refused('BAD_REQUEST'),
  );
  assert.deepEqual(
    codeOf(await call('openWindow', 'restore', { host: 'home', snapshot: ['x'] })),
    refused('BAD_REQUEST'),
  );
  assert.deepEqual(codeOf(await call('openWindow', 'restore', 'home')), refused('BAD_REQUEST'));
  assert.deepEqual(codeOf(await call('openWindow', 'shell')), refused('BAD_REQUEST'));
  assert.deepEqual(opened, [
    ['restore', at],
    ['restore', undefined],
  ]);
});
