import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMode } from '../../core/format.js';

test('formatMode shows a type and permission bits as ls -l does, setuid, setgid and sticky included', () => {
  assert.equal(formatMode('file', 0o644), '-rw-r--r--');
  assert.equal(formatMode('dir', 0o755), 'drwxr-xr-x');
  assert.equal(formatMode('file', 0o600), '-rw-------');
  assert.equal(formatMode('symlink', 0o777), 'lrwxrwxrwx');
  assert.equal(formatMode('file', 0o4755), '-rwsr-xr-x');
  assert.equal(formatMode('file', 0o4644), '-rwSr--r--');
  assert.equal(formatMode('dir', 0o2775), 'drwxrwsr-x');
  assert.equal(formatMode('dir', 0o1777), 'drwxrwxrwt');
  assert.equal(formatMode('dir', 0o1770), 'drwxrwx--T');
  assert.equal(formatMode('fifo', 0o640), 'prw-r-----');
  assert.equal(formatMode('socket', 0o755), 'srwxr-xr-x');
  assert.equal(formatMode('char', 0o666), 'crw-rw-rw-');
  assert.equal(formatMode('block', 0o660), 'brw-rw----');
  assert.equal(formatMode('door', 0o644), '?rw-r--r--');
});
