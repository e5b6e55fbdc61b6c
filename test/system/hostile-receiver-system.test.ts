import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PullbackError } from '../../core/errors.js';
import { launcherFor } from '../../core/handoff/launchers.js';
import {
  ATTACKER,
  attackerDir,
  hostilePull as pullWith,
  normalised,
  swapForSymlink,
  treeText,
  writeDelaySsh,
} from '../support/hostile-receiver.js';
import {
  installSystemModeForTests,
  IS_ROOT,
  NEEDS_ROOT,
  type SystemModeSession,
} from './system-mode-fixture.js';

/*
 * The hostile backup host of test/integration/hostile-receiver.test.ts against system mode:
 * the gate runs as pullback-reader, the rsync copy with CAP_DAC_READ_SEARCH reads everything,
 * so a swap to /etc would hand out /etc/shadow. Run under the system-test lock.
 */
let session: SystemModeSession | undefined;
let work: string;
let tree: string;
let delaySsh: string;
const launcher = launcherFor('system');
const SHADOW = readFileSync('/etc/shadow', 'utf8').split('\n')[0]!; // root's line

before(async () => {
  if (!IS_ROOT) return;
  session = await installSystemModeForTests();
  work = mkdtempSync(join(tmpdir(), 'pullback-hostile-system-'));
  chmodSync(work, 0o755);
  tree = join(work, 'tree');
  mkdirSync(tree);
  for (const name of ['alpha', 'beta', 'gamma']) writeFileSync(join(tree, name), `${name}\n`);
  delaySsh = writeDelaySsh(work);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  session?.restore();
});

const hostilePull = (o: Omit<Parameters<typeof pullWith>[0], 'launcher' | 'work' | 'delaySsh'>) =>
  pullWith({ ...o, launcher, work, delaySsh });

function assertNoShadow(dest: string, output: string): void {
  assert.ok(!treeText(dest).includes(SHADOW), '/etc/shadow arrived on the backup host');
  assert.ok(!output.includes(SHADOW));
  // (m/d may have arrived as the symlink itself: on this shared machine it points at our own /etc)
  const d = join(dest, 'm', 'd');
  if (existsSync(d) && lstatSync(d).isDirectory())
    assert.equal(existsSync(join(d, 'shadow')), false);
}

test('S4: system mode refuses a tree below a directory a non-root account owns (it could swap the tree)', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const { d } = attackerDir(tree);
  await assert.rejects(
    hostilePull({ sources: [d], path: `${d}/` }),
    (err: unknown) =>
      err instanceof PullbackError &&
      err.code === 'HELPER_FAILED' &&
      /is owned by uid 65534, who could swap/.test(err.message),
  );
});

test('S3: system mode: a directory swapped for a symlink to /etc while the backup host holds back its bytes leaks nothing', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  // the attack asks for the directory itself (m/d/); asking for the whole tree is the other way in
  for (const ask of ['dir', 'tree'] as const) {
    const { m, d } = attackerDir(tree);
    const r = await hostilePull({
      sources: [tree],
      path: ask === 'dir' ? `${d}/` : `${tree}/`,
      delaySeconds: 3,
      during: () => swapForSymlink(m, '/etc'),
    });
    assertNoShadow(r.dest, r.stdout + r.stderr);
    if (ask === 'dir') continue; // refused: only whole trees are served
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lstatSync(join(r.dest, 'm', 'd')).isSymbolicLink(), 'the link itself was sent');
  }
});

test('S3: system mode: a directory swapped for /etc during the transfer leaks nothing', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const { m } = attackerDir(tree);
  writeFileSync(join(tree, '0-big.bin'), Buffer.alloc(2 * 1024 * 1024, 1));
  try {
    const r = await hostilePull({
      sources: [tree],
      path: `${tree}/`,
      args: ['-v', '--progress', '--bwlimit=512'],
      when: /0-big\.bin/,
      during: () => swapForSymlink(m, '/etc'),
    });
    assertNoShadow(r.dest, r.stdout + r.stderr);
    assert.equal(existsSync(join(r.dest, 'm', 'd', 'inner.txt')), false);
    assert.equal(r.code, 23, r.stderr);
  } finally {
    rmSync(join(tree, '0-big.bin'), { force: true });
  }
});

test('S3: system mode: a planted merge of /etc/shadow reads nothing and looks like a missing file', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const { m } = attackerDir(tree);
  const outcomes: string[] = [];
  for (const file of ['/etc/shadow', '/etc/no-such-file']) {
    writeFileSync(join(m, '.rules'), `merge,- ${file}\n`);
    chownSync(join(m, '.rules'), ATTACKER, ATTACKER);
    const r = await hostilePull({
      sources: [tree],
      path: `${tree}/`,
      args: ['--filter=: .rules', '-vvvv'],
    });
    assertNoShadow(r.dest, r.stdout + r.stderr);
    outcomes.push(`${r.code} ${normalised(r, file)}`);
  }
  assert.equal(outcomes[0], outcomes[1]);
});

test('S3: system mode: a refused command tells the backup host only REFUSED; the client gets the reason', async (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const { d } = attackerDir(tree);
  const r = await hostilePull({ sources: [tree], path: `${d}/` });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^REFUSED$/m);
  assert.ok(!r.stderr.includes(work), r.stderr);
  assert.match(r.refusals.join('\n'), /only a whole tree is served/);
});
