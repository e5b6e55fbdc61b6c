import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeStrings, safeText } from '../../core/safe-text.js';

test('S10: safeText escapes C0, C1, DEL, line separators and bidi overrides, and keeps the rest', () => {
  assert.equal(safeText('\x1b]0;owned\x07'), '\\x1b]0;owned\\x07');
  assert.equal(safeText('a\r\nb\tc\x7f'), 'a\\x0d\\x0ab\\x09c\\x7f');
  assert.equal(safeText('\u009b31m'), '\\x9b31m');
  assert.equal(safeText('x\u202ey\u2028z\u2066'), 'x\\u202ey\\u2028z\\u2066');
  assert.equal(safeText('Grüße, 日本語 — ok'), 'Grüße, 日本語 — ok');
});

test('S10: safeStrings reaches every string of a parsed message and nothing else', () => {
  const message = { type: 'done', n: 3, ok: true, list: ['\x1b[2J', { deep: '\x07' }], none: null };
  assert.deepEqual(safeStrings(message), {
    type: 'done',
    n: 3,
    ok: true,
    list: ['\\x1b[2J', { deep: '\\x07' }],
    none: null,
  });
});
