import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedProgram } from '../../core/self-command.js';
import { reduceOverlappingSources } from '../../core/config/sources.js';

function layout(): { dir: string; app: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-layout-'));
  const app = join(dir, 'lib', 'node_modules', 'pullback');
  mkdirSync(join(app, 'bin'), { recursive: true });
  writeFileSync(join(app, 'bin', 'pullback.js'), '');
  mkdirSync(join(dir, 'bin'));
  return { dir, app };
}

test('R: an npm global install is run through PREFIX/bin/pullback, the link that survives upgrades', () => {
  const { dir, app } = layout();
  symlinkSync('../lib/node_modules/pullback/bin/pullback.js', join(dir, 'bin', 'pullback'));
  assert.equal(installedProgram(app, undefined), join(dir, 'bin', 'pullback'));
});

test('R: a checkout, or a pullback on PATH that runs another installation, is not "installed"', () => {
  const { dir, app } = layout();
  assert.equal(installedProgram(app, undefined), undefined);
  const other = join(dir, 'other.js');
  writeFileSync(other, '');
  symlinkSync(other, join(dir, 'bin', 'pullback'));
  assert.equal(installedProgram(app, join(dir, 'bin', 'pullback')), undefined);
});

test('R: overlapping sources keep the outer one; a shared name prefix is not an overlap', () => {
  assert.deepEqual(reduceOverlappingSources(['/home/al/Documents', '/home/al', '/home/alice']), {
    sources: ['/home/al', '/home/alice'],
    notes: [
      '/home/al/Documents is inside /home/al, which is backed up already: not added separately',
    ],
  });
  assert.deepEqual(reduceOverlappingSources(['/srv', '/']).sources, ['/']);
});
