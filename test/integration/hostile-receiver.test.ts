import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import {
  ATTACKER,
  attackerDir,
  hostilePull as pullWith,
  type HostilePull,
  normalised,
  swapForSymlink as swapTo,
  treeText,
  writeDelaySsh,
} from '../support/hostile-receiver.js';

/*
 * A hostile backup host, as it would attack for real: stock rsync 3.5.0 as the receiver,
 * against the real gate behind the real one-shot sshd (user mode, this process's user), from
 * 127.0.0.3 to 127.0.0.2. A local account (uid 65534, "nobody") owns a directory inside the
 * tree and races it. Nothing outside the configured trees may arrive, and nothing the sender
 * says may tell whether a path outside them exists.
 */
const IS_ROOT = process.getuid?.() === 0;
const NEEDS_ROOT = 'needs root: another account (uid 65534) must own a directory in the tree';
const SECRET = 'SECRET-CONTENT-4f1c';
const WORDS_SECRET = 'alpha beta'; // names of files in the tree: excluded if the sender read it

let work: string;
let tree: string;
let secretDir: string;
let delaySsh: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pullback-hostile-'));
  chmodSync(work, 0o755); // the attacker must reach its own directory
  tree = join(work, 'tree');
  mkdirSync(tree);
  for (const name of ['alpha', 'beta', 'gamma']) writeFileSync(join(tree, name), `${name}\n`);
  // a root-only directory outside the tree, holding a file of the same name as one inside
  secretDir = join(work, 'secret');
  mkdirSync(secretDir, { mode: 0o700 });
  writeFileSync(join(secretDir, 'inner.txt'), `${SECRET}\n`, { mode: 0o600 });
  // root-only filter files: rules for `merge`, one pattern a line for `merge,-`
  writeFileSync(join(secretDir, 'rules'), '- alpha\n- beta\n', { mode: 0o600 });
  writeFileSync(join(secretDir, 'words'), 'alpha\nbeta\n', { mode: 0o600 });
  // an ancestor's file, as /home/alice/.netrc is for the tree /home/alice/Documents
  writeFileSync(join(work, '.netrc'), `machine x login ${WORDS_SECRET}\n`, { mode: 0o600 });
  delaySsh = writeDelaySsh(work);
});
after(() => rmSync(work, { recursive: true, force: true }));

let tunnel = false;
const hostilePull = (o: Omit<Parameters<typeof pullWith>[0], 'launcher' | 'work' | 'delaySsh'>) =>
  pullWith({ ...o, launcher: launchUserOneShot, work, delaySsh, tunnel });
const swapForSymlink = (m: string) => swapTo(m, secretDir);

// S3 holds whatever carries the pull: each attack runs direct and through a tunnel
for (const mode of ['', ' (tunnel)']) {
  describe(`hostile receiver${mode}`, () => {
    before(() => (tunnel = mode !== ''));
    test(`S3${mode}: a directory swapped for a symlink while the backup host holds back its bytes leaks nothing (pinned before rsync opens it)`, async (t) => {
      if (!IS_ROOT) return t.skip(NEEDS_ROOT);
      const { m, d } = attackerDir(tree);
      const r = await hostilePull({
        sources: [d],
        path: `${d}/`,
        delaySeconds: 3,
        during: () => swapForSymlink(m),
      });
      const got = treeText(r.dest);
      assert.doesNotMatch(
        got,
        new RegExp(SECRET),
        'the secret directory arrived on the backup host',
      );
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
      // the pinned directory itself (now named d.orig) is what was served
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(join(r.dest, 'inner.txt'), 'utf8'), 'inner\n');
    });

    test(`S3${mode}: a tree reached through a symlink another account planted is refused, and nothing is sent`, async (t) => {
      if (!IS_ROOT) return t.skip(NEEDS_ROOT);
      const { m, d } = attackerDir(tree);
      swapForSymlink(m);
      const r = await hostilePull({ sources: [d], path: `${d}/` });
      assert.notEqual(r.code, 0);
      assert.equal(treeText(r.dest), '');
      assert.match(r.refusals.join('\n'), /symlink owned by uid 65534/);
    });

    test(`S3${mode}: a directory swapped during the transfer (after the file list, before the file is opened) leaks nothing`, async (t) => {
      if (!IS_ROOT) return t.skip(NEEDS_ROOT);
      const { m } = attackerDir(tree);
      // a big file sent first and slowly, so the swap lands between the file list and m/d's open
      writeFileSync(join(tree, '0-big.bin'), Buffer.alloc(2 * 1024 * 1024, 1));
      try {
        const r = await hostilePull({
          sources: [tree],
          path: `${tree}/`,
          args: ['-v', '--progress', '--bwlimit=512'],
          when: /0-big\.bin/,
          during: () => swapForSymlink(m),
        });
        const got = treeText(r.dest);
        assert.doesNotMatch(got, new RegExp(SECRET), 'rsync followed the swapped directory');
        assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
        // rsync 3.5.0 opens each component O_NOFOLLOW beneath the transfer root: the file is
        // reported as not sent (exit 23), never read through the link
        assert.equal(existsSync(join(r.dest, 'm', 'd', 'inner.txt')), false);
        assert.equal(r.code, 23, r.stderr);
      } finally {
        rmSync(join(tree, '0-big.bin'), { force: true });
      }
    });

    test(`S3${mode}: an ancestor dir-merge from the backup host reads nothing outside the tree, and tells no existing from a missing file`, async (t) => {
      if (!IS_ROOT) return t.skip(NEEDS_ROOT);
      const runs: HostilePull[] = [];
      for (const file of ['.netrc', '.missing']) {
        const r = await hostilePull({
          sources: [tree],
          path: `${tree}/`,
          args: [`--filter=:-ws ${join(work, file)}`, '-vvvv'],
        });
        assert.equal(r.code, 0, r.stderr);
        for (const name of ['alpha', 'beta', 'gamma'])
          assert.ok(
            existsSync(join(r.dest, name)),
            `${name} was excluded: the sender read ${file}`,
          );
        assert.doesNotMatch(r.stdout + r.stderr, /login|machine x/);
        runs.push(r);
      }
      assert.equal(normalised(runs[0]!, '.netrc'), normalised(runs[1]!, '.missing'));
    });

    test(`S3${mode}: merge and exclude-only merge of files outside the tree read nothing, and the outcome is the same for a missing file`, async (t) => {
      if (!IS_ROOT) return t.skip(NEEDS_ROOT);
      // Stock rsync reads a receiver's own `merge` rules itself; a backup host gets a merge to the
      // sender through a per-directory file. The local account plants one in the directory it owns.
      const { m } = attackerDir(tree);
      for (const name of ['alpha', 'beta']) {
        writeFileSync(join(m, name), `${name}\n`);
        chownSync(join(m, name), ATTACKER, ATTACKER);
      }
      const outcomes: string[] = [];
      for (const rule of [
        `merge ${join(secretDir, 'rules')}`,
        `merge,- ${join(secretDir, 'words')}`,
        `merge,- ${join(secretDir, 'missing')}`,
      ]) {
        writeFileSync(join(m, '.rules'), `${rule}\n`);
        chownSync(join(m, '.rules'), ATTACKER, ATTACKER);
        const r = await hostilePull({
          sources: [tree],
          path: `${tree}/`,
          args: ['--filter=: .rules', '-vvvv'],
        });
        assert.doesNotMatch(r.stdout + r.stderr, /alpha beta/, `${rule}: the words were echoed`);
        // nothing in m/ was excluded by words the sender should not have read
        for (const name of ['alpha', 'beta'])
          assert.ok(
            !existsSync(join(r.dest, 'm')) || existsSync(join(r.dest, 'm', name)),
            `${rule}: m/${name} went missing: the sender read the outside file`,
          );
        outcomes.push(`${r.code} ${normalised(r, rule.split(' ')[1]!)}`);
      }
      assert.equal(
        outcomes[1],
        outcomes[2],
        'an existing and a missing outside file look the same',
      );
    });

    test(`S3${mode}: a refused command tells the backup host only REFUSED; the reason stays in the client log`, async (t) => {
      if (!IS_ROOT) return t.skip(NEEDS_ROOT);
      for (const path of [`${tree}/gamma`, `${join(work, 'no-such-dir')}/`, `${secretDir}/`]) {
        const r = await hostilePull({ sources: [tree], path });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /^REFUSED$/m);
        assert.doesNotMatch(r.stderr, /REFUSED:/);
        assert.ok(!r.stderr.includes(work), `a path reached the backup host: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /exist|resolves|allowed|symlink|tree/);
        assert.match(r.refusals.join('\n'), /not one of the allowed trees/);
      }
    });

    test(`S3${mode}: the real pull still works when the gate refuses everything but the configured trees`, async (t) => {
      if (!IS_ROOT) return t.skip(NEEDS_ROOT);
      const r = await hostilePull({ sources: [tree], path: `${tree}/` });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(join(r.dest, 'gamma'), 'utf8'), 'gamma\n');
      assert.deepEqual(r.refusals, []);
    });
  });
}
