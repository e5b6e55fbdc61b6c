import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PullbackError, asPullbackError } from '../../core/errors.js';

test('errors print as one line with their code', () => {
  const err = new PullbackError('BAD_REQUEST', 'port must be 1..65535,\n got 0');
  assert.equal(err.toLine(), 'BAD_REQUEST: port must be 1..65535, got 0');
});

test('ENOSPC becomes NO_SPACE', () => {
  const err = Object.assign(new Error('write failed'), { code: 'ENOSPC' });
  assert.equal(asPullbackError(err).code, 'NO_SPACE');
});
