import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupAccount } from '../../core/system/accounts.js';
import { APP_CLI_SCRIPT, READER_USER, RSYNC_COPY, SETPRIV } from '../../core/system/paths.js';
import {
  installSystemModeForTests,
  IS_ROOT,
  NEEDS_ROOT,
  type SystemModeSession,
} from './system-mode-fixture.js';

let session: SystemModeSession | undefined;
before(async () => {
  if (IS_ROOT) session = await installSystemModeForTests();
});
after(() => session?.restore());

/** Runs argv as pullback-reader with dac_read_search inheritable: exactly how the helper starts the tree. */
function asReader(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const reader = lookupAccount(READER_USER)!;
  return spawnSync(
    SETPRIV,
    [
      `--reuid=${reader.uid}`,
      `--regid=${reader.gid}`,
      '--clear-groups',
      '--inh-caps=-all,+dac_read_search',
      '--bounding-set=-all,+dac_read_search',
      '--',
      ...argv,
    ],
    { encoding: 'utf8', cwd: '/', env: { PATH: '/usr/bin:/bin', ...env } },
  );
}

/** A root-only tree: 0700 root directory with a 0600 file. */
function rootOnlyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-readonly-'));
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, 'precious.txt'), 'keep me\n', { mode: 0o600 });
  return dir;
}

test('S3: the system-mode gate refuses a receiver-mode rsync', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const dir = rootOnlyDir();
  const gate = [
    process.execPath,
    APP_CLI_SCRIPT,
    'gate',
    '--rsync',
    RSYNC_COPY,
    '--allow',
    dir,
    '--check',
  ];
  const receiver = asReader(gate, {
    SSH_ORIGINAL_COMMAND: `rsync --server -logDtpre.iLsfxCIvu . ${dir}/`,
  });
  assert.notEqual(receiver.status, 0, 'receiver mode is refused');
  assert.match(receiver.stderr, /^REFUSED: /m);
  const sender = asReader(gate, {
    SSH_ORIGINAL_COMMAND: `rsync --server --sender -logDtpre.iLsfxCIvu . ${dir}/`,
  });
  assert.equal(sender.status, 0, `the same gate lets a sender through: ${sender.stderr}`);
  assert.ok(sender.stdout.includes(RSYNC_COPY), 'and runs the capability-carrying rsync copy');
});

test('S4: the rsync copy run as pullback-reader reads a root-only file but cannot write into a root-owned directory (EACCES)', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const dir = rootOnlyDir();
  const target = mkdtempSync(join(tmpdir(), 'pullback-readonly-target-'));
  chmodSync(target, 0o755);
  const read = asReader([RSYNC_COPY, '--list-only', join(dir, 'precious.txt')]);
  assert.equal(read.status, 0, `reading works with the capability: ${read.stderr}`);
  const write = asReader([RSYNC_COPY, join(dir, 'precious.txt'), `${target}/`]);
  assert.notEqual(write.status, 0, 'writing into a root-owned directory fails');
  assert.match(write.stderr, /Permission denied \(13\)/);
  assert.ok(!existsSync(join(target, 'precious.txt')));
});

test('S4: the rsync copy run as pullback-reader cannot delete a root-owned file (EACCES)', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const dir = rootOnlyDir();
  const empty = mkdtempSync(join(tmpdir(), 'pullback-readonly-empty-'));
  chmodSync(empty, 0o755);
  const wipe = asReader([RSYNC_COPY, '-r', '--delete', `${empty}/`, `${dir}/`]);
  assert.notEqual(wipe.status, 0, 'rsync --delete fails');
  assert.match(wipe.stderr, /Permission denied \(13\)/);
  // a destination the reader may write: the copy succeeds, unlinking the source must not
  const drop = mkdtempSync(join(tmpdir(), 'pullback-readonly-drop-'));
  const reader = lookupAccount(READER_USER)!;
  chownSync(drop, reader.uid, reader.gid);
  const remove = asReader([
    RSYNC_COPY,
    '--remove-source-files',
    join(dir, 'precious.txt'),
    `${drop}/`,
  ]);
  assert.match(
    remove.stderr,
    /Permission denied \(13\)/,
    `--remove-source-files cannot unlink the source: ${remove.stderr}`,
  );
  assert.ok(
    existsSync(join(drop, 'precious.txt')),
    'the copy itself was made (reading is allowed)',
  );
  assert.equal(
    readFileSync(join(dir, 'precious.txt'), 'utf8'),
    'keep me\n',
    'the file is untouched',
  );
});
