import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { assertTreesIdentical } from '../support/tree-compare.js';
import { runBackup } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { restorePaths } from '../../core/restore/client.js';
import { IS_ROOT, makeThrowawayUser, type ThrowawayUser } from '../support/throwaway-user.js';

// A restore never hands a person files they could not read on the client: a snapshot made
// as root holds root-only files (as /etc/shadow in system mode); a normal user restoring it
// gets everything else and is told how many were skipped; root gets all, owners included.
let account: ThrowawayUser | undefined;
let host: BackupHost | undefined;

before(async () => {
  if (!IS_ROOT) return;
  account = makeThrowawayUser('pbrest');
  host = await startBackupHost();
});

after(async () => {
  await host?.stop();
  account?.remove();
});

test('a normal user restoring a root-made snapshot skips what they could not read (count said); root restores everything', async (t) => {
  if (!IS_ROOT) return t.skip('needs root: to make root-only files and a second account');
  if (account!.cannotRun) return t.skip(account!.cannotRun);
  const { name: user, home, uid } = account!;
  const asUser = (args: string[], env: NodeJS.ProcessEnv) => account!.cli(args, env);
  const source = mkdtempSync(join(tmpdir(), 'pullback-sys-'));
  chmodSync(source, 0o755);
  writeFileSync(join(source, 'motd'), 'welcome\n', { mode: 0o644 });
  chmodSync(join(source, 'motd'), 0o644);
  // system-mode /etc/shadow: 0640 root:shadow (gid 42 on Debian), the user is in neither
  writeFileSync(join(source, 'shadow'), 'root:$y$secret:::\n');
  chownSync(join(source, 'shadow'), 0, 42);
  chmodSync(join(source, 'shadow'), 0o640);
  mkdirSync(join(source, 'root-only'), { mode: 0o700 });
  writeFileSync(join(source, 'root-only', 'a'), 'a\n', { mode: 0o644 });
  writeFileSync(join(source, 'root-only', 'b'), 'b\n', { mode: 0o644 });
  writeFileSync(join(source, 'theirs.txt'), 'the user owns this\n', { mode: 0o600 });
  chownSync(join(source, 'theirs.txt'), uid, uid);
  const client = await makeTestClient(host!, { sources: [source] });
  await runBackup({
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher: launchUserOneShot,
  });

  // The user runs the CLI with a copy of the client's config and key, their own.
  const config = join(home, 'pullback-config');
  cpSync(client.env.PULLBACK_CONFIG_DIR!, config, { recursive: true });
  const state = join(home, 'pullback-state');
  mkdirSync(state, { mode: 0o700 });
  const out = join(home, 'out');
  mkdirSync(out);
  spawnSync('chown', ['-R', `${user}:${user}`, config, state, out]);
  const r = asUser(['restore', source, '--to', out], {
    PULLBACK_CONFIG_DIR: config,
    PULLBACK_STATE_DIR: state,
  });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /warning: 4 entries were skipped/);
  const restored = join(out, basename(source));
  assert.deepEqual(readdirSync(restored).sort(), ['motd', 'theirs.txt']);
  assert.equal(statSync(join(restored, 'theirs.txt')).uid, uid);

  // Root gets everything back, owners and the shadow group included.
  const asRoot = mkdtempSync(join(tmpdir(), 'pullback-root-restore-'));
  const result = await restorePaths(client.config.hosts[0]!, client.identityKey, {
    select: { snapshot: 'latest' },
    paths: [source],
    to: asRoot,
  });
  assert.equal(result.skipped, 0);
  const all = join(asRoot, basename(source));
  assert.equal(existsSync(join(all, 'root-only', 'b')), true);
  assert.equal(statSync(join(all, 'shadow')).gid, 42);
  assertTreesIdentical(source, all);
});
