import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildPullArgv,
  buildSshMasterArgv,
  type PullArgvOptions,
} from '../../core/pull/rsync-argv.js';
import { PullbackError } from '../../core/errors.js';

const base: PullArgvOptions = {
  remote: {
    user: 'pullback-reader',
    host: '127.0.0.2',
    port: 40022,
    identityFile: '/run/pullback/oneshot-serve-x/key',
    knownHostsFile: '/run/pullback/oneshot-serve-x/known_hosts',
  },
  source: '/home/u/docs',
  excludes: [],
  dest: '/srv/pullback/laptop/.incomplete/home/u/docs/',
};

const SSH =
  'ssh -F /dev/null -i /run/pullback/oneshot-serve-x/key -p 40022 -o IdentitiesOnly=yes -o IdentityAgent=none ' +
  '-o PreferredAuthentications=publickey -o UserKnownHostsFile=/run/pullback/oneshot-serve-x/known_hosts ' +
  '-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o HostKeyAlgorithms=ssh-ed25519 ' +
  '-o Ciphers=aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes256-ctr ' +
  '-o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=15 -o ClearAllForwardings=yes -o ForwardAgent=no ' +
  '-o RequestTTY=no';

function rejects(o: PullArgvOptions, pattern: RegExp) {
  assert.throws(
    () => buildPullArgv(o),
    (err: unknown) =>
      err instanceof PullbackError && err.code === 'BAD_REQUEST' && pattern.test(err.message),
  );
}

test('the pull argv of one tree is exactly the documented rsync command, program first', () => {
  assert.deepEqual(buildPullArgv(base), [
    'rsync',
    '-aHAXS',
    '--numeric-ids',
    '--fake-super',
    '--modify-window=-1',
    '--delete',
    '--delete-excluded',
    '--partial',
    '--no-inc-recursive',
    '--info=progress2',
    '--stats',
    '--timeout=300',
    '-e',
    SSH,
    '--',
    'pullback-reader@127.0.0.2:/home/u/docs/',
    '/srv/pullback/laptop/.incomplete/home/u/docs/',
  ]);
});

test('S1: every tree runs its session through the one ssh master connection', () => {
  const argv = buildPullArgv({ ...base, controlPath: '/run/pullback/oneshot-serve-x/ssh-control' });
  const e = argv[argv.indexOf('-e') + 1]!;
  assert.ok(e.startsWith(`${SSH} `));
  assert.ok(e.endsWith(' -S /run/pullback/oneshot-serve-x/ssh-control -o ControlMaster=no'));
  assert.deepEqual(buildSshMasterArgv(base.remote, '/run/pullback/oneshot-serve-x/ssh-control'), [
    ...SSH.split(' '),
    '-M',
    '-S',
    '/run/pullback/oneshot-serve-x/ssh-control',
    '-o',
    'ControlPersist=no',
    '-N',
    '-T',
    'pullback-reader@127.0.0.2',
  ]);
});

test('a tree is always asked for by its contents, normalised: "/" and "/etc/" alike', () => {
  assert.ok(buildPullArgv({ ...base, source: '/' }).includes('pullback-reader@127.0.0.2:/'));
  assert.ok(
    buildPullArgv({ ...base, source: '/etc/' }).includes('pullback-reader@127.0.0.2:/etc/'),
  );
});

test('the hardlink backend adds --link-dest to the previous snapshot', () => {
  const argv = buildPullArgv({
    ...base,
    linkDest: '/srv/pullback/laptop/snapshots/2026-11-26T180102Z',
  });
  assert.ok(argv.includes('--link-dest=/srv/pullback/laptop/snapshots/2026-11-26T180102Z'));
  assert.ok(!argv.includes('--inplace'));
});

test('the btrfs backend writes --inplace and never combines it with --link-dest', () => {
  const argv = buildPullArgv({ ...base, inplace: true });
  assert.ok(argv.includes('--inplace'));
  assert.ok(!argv.some((a) => a.startsWith('--link-dest')));
  rejects({ ...base, inplace: true, linkDest: '/srv/x' }, /exclude each other/);
});

test('bwlimit, rsync path, ssh path and bind address go where rsync and ssh expect them', () => {
  const argv = buildPullArgv({
    ...base,
    bwlimitKiB: 2048,
    rsyncPath: '/usr/local/bin/rsync',
    sshPath: '/usr/bin/ssh',
    remote: { ...base.remote, bindAddress: '127.0.0.3' },
  });
  assert.equal(argv[0], '/usr/local/bin/rsync');
  assert.ok(argv.includes('--bwlimit=2048'));
  const e = argv[argv.indexOf('-e') + 1]!;
  assert.ok(e.startsWith('/usr/bin/ssh -F /dev/null '));
  assert.ok(e.endsWith(' -b 127.0.0.3'));
  assert.ok(
    !buildPullArgv({ ...base, bwlimitKiB: 0 }).some((a) => a.startsWith('--bwlimit')),
    '0 means no limit',
  );
});

test('each exclude is one literal "- " filter rule, even one that starts like a rule prefix', () => {
  const argv = buildPullArgv({ ...base, excludes: ['*.tmp', '/home/u/.cache', '+ keep me'] });
  assert.deepEqual(
    argv.filter((a) => a.startsWith('--filter=')),
    ['--filter=- *.tmp', '--filter=- /home/u/.cache', '--filter=- + keep me'],
  );
  rejects({ ...base, excludes: ['a\nb'] }, /one non-empty line/);
});

test('an IPv6 client address is bracketed in the remote sources', () => {
  const argv = buildPullArgv({ ...base, remote: { ...base.remote, host: '::1' } });
  assert.ok(argv.includes('pullback-reader@[::1]:/home/u/docs/'));
});

test('a space or quote in a path inside the -e command is refused', () => {
  rejects(
    { ...base, remote: { ...base.remote, identityFile: '/tmp/my keys/k' } },
    /identity file.*no spaces or quotes/,
  );
  rejects({ ...base, remote: { ...base.remote, knownHostsFile: "/tmp/it's" } }, /known_hosts/);
  rejects({ ...base, sshPath: 'ssh -o ProxyCommand=evil' }, /ssh program/);
  rejects({ ...base, remote: { ...base.remote, identityFile: 'relative/key' } }, /absolute/);
});

test('the client is named by IP address only, and everything else is checked too', () => {
  rejects({ ...base, remote: { ...base.remote, host: 'laptop.example' } }, /IP address/);
  rejects({ ...base, remote: { ...base.remote, bindAddress: 'eth0' } }, /bind address/);
  rejects({ ...base, remote: { ...base.remote, user: '-oProxyCommand=x' } }, /Unix user name/);
  rejects({ ...base, remote: { ...base.remote, port: 0 } }, /port/);
  rejects({ ...base, source: 'relative/path' }, /absolute/);
  rejects({ ...base, source: '/home/../etc' }, /\.\./);
  rejects({ ...base, source: '/home//etc' }, /normalised/);
  rejects({ ...base, dest: '/srv/x' }, /ending with/);
  rejects({ ...base, linkDest: 'snapshots/x' }, /absolute/);
});
