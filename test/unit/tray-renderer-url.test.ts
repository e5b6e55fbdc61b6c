import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOwnPage, pagePath, pageUrl, rendererFileFor } from '../../main/renderer-url.js';

test('windows: IPC is answered only for our own pullback://app/ pages', () => {
  assert.equal(pageUrl('status'), 'pullback://app/status.html');
  assert.equal(isOwnPage('pullback://app/preferences.html'), true);
  for (const url of [
    'file:///work/main/dist/renderer/status.html',
    'https://example.com/',
    'pullback://evil/status.html',
    'devtools://devtools/bundled/inspector.html',
    'not a url',
    '',
  ]) {
    assert.equal(isOwnPage(url), false, url);
  }
});

test('windows: the protocol serves only files inside dist/renderer, with their MIME type', () => {
  const dir = '/opt/Pullback/resources/app/dist/renderer';
  assert.deepEqual(rendererFileFor('pullback://app/status.js', dir), {
    file: `${dir}/status.js`,
    mime: 'text/javascript; charset=utf-8',
  });
  // The URL parser already folds "..": this stays inside dist/renderer (and is simply missing).
  assert.equal(rendererFileFor('pullback://app/../main/main.js', dir)?.file, `${dir}/main/main.js`);
  assert.equal(rendererFileFor('pullback://app/%2e%2e/%2e%2e/package.json', dir), undefined);
  assert.equal(rendererFileFor('pullback://app/..%2F..%2Fpackage.json', dir), undefined);
  assert.equal(rendererFileFor('pullback://app/status.js.map', dir), undefined);
  assert.equal(rendererFileFor('https://app/status.js', dir), undefined);
});

test('windows: the Restore window opens at a host and snapshot through its query, still our own page', () => {
  const url = pageUrl('restore', { host: 'home & away', snapshot: '2026-11-26T180102Z' });
  assert.equal(url, 'pullback://app/restore.html?host=home+%26+away&snapshot=2026-11-26T180102Z');
  assert.equal(isOwnPage(url), true);
  assert.equal(pagePath('restore', { host: 'home' }), 'restore.html?host=home');
  assert.equal(pagePath('restore'), 'restore.html');
  const dir = '/opt/Pullback/resources/app/dist/renderer';
  assert.equal(rendererFileFor(url, dir)?.file, `${dir}/restore.html`);
});
