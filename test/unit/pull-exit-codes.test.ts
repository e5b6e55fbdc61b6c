import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpretRsyncExit } from '../../core/pull/exit-codes.js';

// stderr captured from real rsync 3.5.0 / OpenSSH 9.2 runs.
const TAIL_255 = [
  'rsync: connection unexpectedly closed (0 bytes received so far) [Receiver]',
  'rsync error: unexplained error (code 255) at io.c(285) [Receiver=3.5.0]',
];
const HOST_KEY_CHANGED = [
  '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
  '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
  '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
  'Host key for [127.0.0.2]:41365 has changed and you have requested strict checking.',
  'Host key verification failed.',
  ...TAIL_255,
];

function verdict(exitCode: number | null, stderrLines: string[], cancelled = false) {
  return interpretRsyncExit({
    exitCode,
    stderrLines,
    cancelled,
    signal: exitCode === null ? 'SIGKILL' : null,
  });
}

test('exit 0 is ok', () => {
  assert.deepEqual(verdict(0, []), { meaning: 'ok', warnings: [] });
});

test('exit 24 (files vanished while copying) is a success with a warning naming them', () => {
  const v = verdict(24, [
    'file has vanished: "/tmp/exp/v/zz-gone"',
    'rsync warning: some files vanished before they could be transferred (code 24) at main.c(1394) [sender=3.5.0]',
  ]);
  assert.equal(v.meaning, 'vanished');
  assert.equal(v.error, undefined);
  assert.deepEqual(v.warnings, [
    'some files vanished while they were being copied',
    'file has vanished: "/tmp/exp/v/zz-gone"',
  ]);
});

test('exit 23 (some files unreadable) is a success with the errors as warnings', () => {
  const v = verdict(23, [
    'rsync: [sender] send_files failed to open "/home/u/locked": Permission denied (13)',
    'rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1956) [Receiver=3.5.0]',
  ]);
  assert.equal(v.meaning, 'partial');
  assert.equal(v.error, undefined);
  assert.equal(v.warnings.length, 2);
  assert.match(v.warnings[1]!, /locked.*Permission denied/);
});

test('thousands of unreadable files make a bounded warning list', () => {
  const lines = Array.from(
    { length: 5000 },
    (_, i) => `rsync: [sender] send_files failed to open "/f${i}": Permission denied (13)`,
  );
  const v = verdict(23, lines);
  assert.equal(v.warnings.length, 51); // the summary line, 50 files, the rest counted
  assert.equal(v.warnings.at(-1), '… and 4951 more');
});

test('exit 20, or our own cancel, is CANCELLED', () => {
  assert.equal(
    verdict(20, ['rsync error: received SIGINT, SIGTERM, or SIGHUP (code 20) at rsync.c(713)'])
      .error?.code,
    'CANCELLED',
  );
  assert.equal(verdict(null, [], true).error?.code, 'CANCELLED');
  assert.equal(
    verdict(0, [], true).meaning,
    'ok',
    'a run that finished before the cancel arrived is complete',
  );
});

test('exit 30 and 35 are TIMEOUT', () => {
  const v = verdict(30, [
    '[Receiver] io timeout after 300 seconds -- exiting',
    'rsync error: timeout in data send/receive (code 30) at io.c(197)',
  ]);
  assert.equal(v.error?.code, 'TIMEOUT');
  assert.match(v.error!.message, /io timeout after 300 seconds/);
  assert.equal(verdict(35, []).error?.code, 'TIMEOUT');
});

test('a full disk is NO_SPACE, whatever the exit code', () => {
  const v = verdict(11, [
    'rsync: [receiver] write failed on "/tmp/exp/tiny/x/d1/big1": No space left on device (28)',
    'rsync error: error in file IO (code 11) at receiver.c(657) [receiver=3.5.0]',
    'rsync: [sender] write error: Broken pipe (32)',
  ]);
  assert.equal(v.error?.code, 'NO_SPACE');
  assert.match(v.error!.message, /No space left on device/);
  assert.equal(
    verdict(12, ['rsync: write failed on "/x": No space left on device (28)']).error?.code,
    'NO_SPACE',
  );
});

test('ssh failures are named: unreachable, refused key, wrong host key', () => {
  const refused = verdict(255, [
    'ssh: connect to host 127.0.0.2 port 1: Connection refused',
    ...TAIL_255,
  ]);
  assert.equal(refused.error?.code, 'UNREACHABLE');
  assert.match(
    refused.error!.message,
    /^ssh: connect to host 127.0.0.2 port 1: Connection refused/,
  );
  const auth = verdict(255, ['root@127.0.0.2: Permission denied (publickey).', ...TAIL_255]);
  assert.equal(auth.error?.code, 'AUTH_FAILED');
  const hostKey = verdict(255, HOST_KEY_CHANGED);
  assert.equal(hostKey.error?.code, 'HOST_KEY_MISMATCH');
  assert.match(hostKey.error!.message, /Host key verification failed/);
});

test("S3: the gate's generic refusal comes through as REFUSED, with no reason from the peer", () => {
  const v = verdict(12, [
    'REFUSED',
    'rsync: connection unexpectedly closed (0 bytes received so far) [Receiver]',
    'rsync error: error in rsync protocol data stream (code 12) at io.c(232) [Receiver=3.5.0]',
  ]);
  assert.equal(v.error?.code, 'REFUSED');
  assert.match(v.error!.message, /^the client's gate refused the command \(rsync exited with 12/);
});

test("anything else is RSYNC_FAILED with stderr's last meaningful line, not rsync's summary", () => {
  const v = verdict(12, [
    'rsync: [Receiver] failed to set times on "/srv/x": Operation not permitted (1)',
    'rsync: connection unexpectedly closed (1234 bytes received so far) [Receiver]',
    'rsync error: error in rsync protocol data stream (code 12) at io.c(232) [Receiver=3.5.0]',
  ]);
  assert.equal(v.error?.code, 'RSYNC_FAILED');
  assert.equal(
    v.error!.message,
    'rsync exited with 12 (error in rsync protocol data stream): rsync: [Receiver] failed to set times on "/srv/x": Operation not permitted (1)',
  );
  assert.match(verdict(2, []).error!.message, /^rsync exited with 2 \(protocol incompatibility\)$/);
  assert.match(verdict(null, []).error!.message, /killed by SIGKILL/);
});

test('a restore is judged by the same rules, in its own words, and serve\'s own "CODE: message" line wins', () => {
  const restore = (exitCode: number | null, stderrLines: string[], cancelled = false) =>
    interpretRsyncExit({ job: 'restore', exitCode, stderrLines, cancelled });
  assert.match(restore(20, [], true).error!.message, /^the restore was cancelled/);
  assert.deepEqual(
    restore(23, ['rsync: [generator] chown "/x" failed: Operation not permitted (1)']),
    {
      meaning: 'partial',
      warnings: [
        'some entries or attributes could not be restored',
        'rsync: [generator] chown "/x" failed: Operation not permitted (1)',
      ],
    },
  );
  const own = restore(12, [
    'NOT_FOUND: /home/u/gone is not in snapshot 2026-11-26T18-01-00Z',
    ...TAIL_255,
  ]);
  assert.equal(own.error?.code, 'NOT_FOUND');
  assert.equal(
    own.error?.message,
    'backup host: /home/u/gone is not in snapshot 2026-11-26T18-01-00Z',
  );
  const hostKey = restore(255, HOST_KEY_CHANGED).error!;
  assert.equal(hostKey.code, 'HOST_KEY_MISMATCH');
  assert.match(
    hostKey.message,
    /^the backup host did not present the host key pinned at pairing: /,
  );
  // a pull's peer (the client's gate) does not name codes: such a line is only a detail there
  assert.equal(verdict(12, ['NOT_FOUND: x', ...TAIL_255]).error?.code, 'RSYNC_FAILED');
});
