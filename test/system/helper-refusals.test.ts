import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { encodeHelperInput } from '../../core/system/helper-stdin.js';
import { encodeFileList } from '../../core/change-index/compare.js';
import { HELPER_WRAPPER, SETPRIV } from '../../core/system/paths.js';
import { descendantsOf } from '../../core/system/proc.js';
import {
  installSystemModeForTests,
  IS_ROOT,
  NEEDS_ROOT,
  oneShotDirs,
  runHelper,
  type SystemModeSession,
} from './system-mode-fixture.js';

let session: SystemModeSession | undefined;
before(async () => {
  if (IS_ROOT) session = await installSystemModeForTests();
});
after(() => session?.restore());

const K = generateKeyPair('pullback-test-k');
const H = generateKeyPair('pullback-test-h');
const KEY = K.publicKey.split(' ').slice(0, 2).join(' ');

/** A valid invocation, so that each case below differs from it in exactly one way. */
function valid(source: string, overrides: Record<string, string[]> = {}): string[] {
  const flags: Record<string, string[]> = {
    '--bind': ['127.0.0.2'],
    '--allow-from': ['127.0.0.3'],
    '--client-key': [KEY],
    '--deadline': ['60'],
    '--source': [source],
    ...overrides,
  };
  return [
    'oneshot',
    ...Object.entries(flags).flatMap(([flag, values]) => values.flatMap((v) => [flag, v])),
  ];
}

test('S10: the helper refuses bad invocations with one clear line, a non-zero exit, and creates nothing', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = mkdtempSync(join(tmpdir(), 'pullback-refusal-src-'));
  const link = join(tmpdir(), `pullback-refusal-link-${process.pid}`);
  symlinkSync(source, link);
  const linkedParent = join(tmpdir(), `pullback-refusal-parent-${process.pid}`);
  symlinkSync(tmpdir(), linkedParent);
  const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
  const cases: [string, string[], string?][] = [
    ['no operation', []],
    ['another operation', ['shell', '-c', 'id']],
    ['a relative source', valid('tmp')],
    ['a symlinked source', valid(link)],
    ['a source below a symlinked directory', valid(join(linkedParent, source.split('/').pop()!))],
    ['a source with ".."', valid(`${source}/../${source.split('/').pop()}`)],
    ['a source that does not exist', valid(`${source}-missing`)],
    ['a source with a newline', valid(`${source}\n/etc`)],
    ['an option where a source belongs', valid('--rsh=sh')],
    ['port 0', [...valid(source), '--port', '0']],
    ['port 65536', [...valid(source), '--port', '65536']],
    ['a port that is not a number', [...valid(source), '--port', '22x']],
    [
      'option injection --port=1 -oProxyCommand',
      [...valid(source), '--port=1', '-oProxyCommand=sh -c id'],
    ],
    [
      'a private key where the public one belongs',
      valid(source, { '--client-key': [K.privateKey] }),
    ],
    [
      'an RSA public key',
      valid(source, { '--client-key': [rsa.public.split(' ').slice(0, 2).join(' ')] }),
    ],
    [
      'a key with authorized_keys options',
      valid(source, { '--client-key': [`command="sh" ${KEY}`] }),
    ],
    ['a host name instead of an IP', valid(source, { '--bind': ['localhost'] })],
    ['shell metacharacters in an address', valid(source, { '--allow-from': ['127.0.0.3;id'] })],
    ['deadline 0', valid(source, { '--deadline': ['0'] })],
    ['a flag given twice', valid(source, { '--bind': ['127.0.0.2', '127.0.0.5'] })],
    ['a missing flag', valid(source, { '--client-key': [] })],
    ['an extra argument', [...valid(source), 'extra']],
    ['a program path from the caller', [...valid(source), '--sshd', '/tmp/evil-sshd']],
    ['a public key on stdin instead of H', valid(source), `${H.publicKey}\n`],
    ['an RSA private key on stdin', valid(source), rsa.private],
    ['nothing on stdin', valid(source), ''],
  ];
  assert.ok(cases.length >= 15);
  const before = oneShotDirs();
  for (const [name, args, stdin = H.privateKey] of cases) {
    const result = runHelper(args, stdin);
    assert.notEqual(result.status, 0, `${name}: refused`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${name}: one line, got ${JSON.stringify(result.stderr)}`);
    assert.match(lines[0]!, /^BAD_ARGS: helper: \S/, `${name}: a clear reason`);
    assert.equal(result.stdout, '', `${name}: nothing on stdout`);
  }
  assert.deepEqual(oneShotDirs(), before, 'no one-shot directory was created');
  assert.deepEqual(
    descendantsOf(process.pid).filter((p) => p.cmdline.includes('oneshot')),
    [],
    'no helper or listener left running',
  );
});

test('S10: the helper refuses change lists for a tree that is not a source, oversized or garbled ones, with one line, and starts nothing', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = mkdtempSync(join(tmpdir(), 'pullback-refusal-src-'));
  const other = mkdtempSync(join(tmpdir(), 'pullback-refusal-other-'));
  const key = H.privateKey.endsWith('\n') ? H.privateKey : `${H.privateKey}\n`;
  const list = (tree: string, ...names: string[]) =>
    encodeHelperInput(H.privateKey, [{ tree, data: encodeFileList(names) }]);
  const frame = (header: unknown, body = '') =>
    Buffer.from(`${key}${typeof header === 'string' ? header : JSON.stringify(header)}\n${body}`);
  const cases: [string, Buffer, RegExp][] = [
    ['a list for an approved tree that is not a --source', list(other, 'a'), /not a --source/],
    ['a list for /etc', list('/etc', 'shadow'), /not a --source/],
    ['a list for a tree below the source', list(join(source, 'sub'), 'a'), /not a --source/],
    [
      'more lists than sources',
      frame({ lists: [source, source].map((tree) => ({ tree, bytes: 2 })) }),
      /2 change lists for 1/,
    ],
    ['a list over 1 MiB', frame({ lists: [{ tree: source, bytes: 64 * 1024 * 1024 }] }), /bytes/],
    ['a header that is not JSON', frame('{"lists":[{"tree":'), /not JSON/],
    ['a header with more in it', frame({ lists: [], port: 2222 }), /must be/],
    ['a list naming ../', list(source, '../../etc/shadow'), /change list of/],
    ['a list naming an absolute path', list(source, '/etc/shadow'), /change list of/],
    ['a list cut short', frame({ lists: [{ tree: source, bytes: 4096 }] }, 'a\0'), /closed before/],
    ['H without the header', Buffer.from(key), /closed before the change lists/],
  ];
  const before = oneShotDirs();
  for (const [name, stdin, reason] of cases) {
    const result = runHelper(valid(source), stdin);
    assert.notEqual(result.status, 0, `${name}: refused`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${name}: one line, got ${JSON.stringify(result.stderr)}`);
    assert.match(lines[0]!, /^BAD_ARGS: helper: \S/, `${name}: a clear reason`);
    assert.match(lines[0]!, reason, name);
    assert.equal(result.stdout, '', `${name}: nothing on stdout`);
  }
  assert.deepEqual(oneShotDirs(), before, 'no one-shot directory was created');
  assert.deepEqual(
    descendantsOf(process.pid).filter((p) => p.cmdline.includes('oneshot')),
    [],
    'no helper or listener left running',
  );
});

test('S10: the helper refuses to run when not root', (t) => {
  if (!IS_ROOT) return t.skip(NEEDS_ROOT);
  const source = mkdtempSync(join(tmpdir(), 'pullback-refusal-src-'));
  chmodSync(source, 0o755);
  const result = spawnSync(
    SETPRIV,
    ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', HELPER_WRAPPER, ...valid(source)],
    {
      encoding: 'utf8',
      input: H.privateKey,
    },
  );
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /^HELPER_FAILED: the helper must run as root/);
});
