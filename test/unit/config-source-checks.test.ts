import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSources } from '../../core/config/source-checks.js';

const existing = new Set(['/home/alice', '/home/alice/Documents', '/srv', '/']);
const exists = (p: string) => existing.has(p);

test('S10: a new source that does not exist is refused, naming it', () => {
  assert.throws(
    () => checkSources(['/home/alice', '/media/usb'], ['/home/alice'], exists),
    /^PullbackError: sources: "\/media\/usb" does not exist on this machine; nothing was saved$/,
  );
});

test('R: a source already configured that is missing now (an unplugged disk) is kept', () => {
  const r = checkSources(['/home/alice', '/media/usb'], ['/media/usb'], exists);
  assert.deepEqual(r.sources, ['/home/alice', '/media/usb']);
});

test('R: a source inside another is left out with a note; duplicates and trailing slashes go', () => {
  const r = checkSources(
    ['/home/alice/Documents/', '/home/alice', '/home/alice/', '/srv'],
    [],
    exists,
  );
  assert.deepEqual(r.sources, ['/home/alice', '/srv']);
  assert.deepEqual(r.notes, [
    '/home/alice/Documents is inside /home/alice, which is backed up already: left out.',
  ]);
});

test('R: "/" holds everything; "/srvx" is not inside "/srv"', () => {
  assert.deepEqual(checkSources(['/', '/srv'], [], exists).sources, ['/']);
  const r = checkSources(['/srv', '/srvx'], ['/srvx'], exists);
  assert.deepEqual(r.sources, ['/srv', '/srvx']);
  assert.deepEqual(r.notes, []);
});
