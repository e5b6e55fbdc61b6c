import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startBackupHost,
  makeTestClient,
  type BackupHost,
  type TestClient,
} from '../support/backup-host.js';
import { renderClientEntry } from '../../core/server/authorized-clients.js';
import { PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';

/**
 * S10 / "the peer reads every word": a hostile backup host answers the handoff with terminal
 * escapes in every string it controls. The real CLI prints none of them: its output holds no
 * control character but the newline.
 */
const OSC_TITLE = '\x1b]0;owned\x07';
const CLEAR = '\x1b[2J\x1b[H';
const C1_CSI = '\u009b31m';
const BIDI = '\u202e';
const EVIL = `${OSC_TITLE}${CLEAR}${C1_CSI}${BIDI}\r\nFAKE: all good`;

let host: BackupHost;
let client: TestClient;
let dir: string;
let modeFile: string;

/** The forced command: a small script that answers whatever it is asked with hostile text. */
const HOSTILE_SERVE = `
const fs = require('node:fs');
const mode = fs.readFileSync(process.argv[2], 'utf8');
const evil = ${JSON.stringify(EVIL)};
const send = (o) => process.stdout.write(JSON.stringify({ v: 1, ...o }) + '\\n');
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  if (!buf.includes('\\n')) return;
  const request = JSON.parse(buf.split('\\n')[0]);
  if (mode === 'error') send({ type: 'error', code: 'BUSY', message: 'busy ' + evil });
  else if (mode === 'stderr') { process.stderr.write('died: ' + evil.replace(/\\r\\n/g, ' ') + '\\n'); process.exit(1); }
  else if (mode === 'not-json') process.stdout.write('garbage ' + evil + '\\n');
  else if (mode === 'strings') {
    if (request.type === 'hello')
      send({ type: 'welcome', client: 'vm' + evil, serverVersion: '1' + evil, snapshots: 1, lastSnapshot: 'x' + evil });
    if (request.type === 'list')
      send({ type: 'snapshots', snapshots: [{ id: evil, startedAt: evil, finishedAt: evil, durationMs: 1, warnings: [evil] }] });
    if (request.type === 'backup') {
      send({ type: 'accepted', resumed: false, connectTo: evil });
      send({ type: 'done', snapshot: '2026-01-01T000000Z' + evil, stats: { durationMs: 1 }, warnings: [evil] });
    }
  } else if (mode === 'warnings') {
    if (request.type === 'hello')
      send({ type: 'welcome', client: 'vm', serverVersion: '1.0.0', snapshots: 0 });
    if (request.type === 'list')
      send({ type: 'snapshots', snapshots: [{ id: '2026-01-01T000000Z', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z', durationMs: 1, warnings: [evil] }] });
    if (request.type === 'backup') {
      send({ type: 'accepted', resumed: false, connectTo: '127.0.0.2' });
      send({ type: 'done', snapshot: '2026-01-01T000000Z', stats: { durationMs: 1 }, warnings: [evil, 'second ' + evil] });
    }
  }
  setTimeout(() => process.exit(0), 50);
});
`;

before(async () => {
  host = await startBackupHost();
  dir = mkdtempSync(join(tmpdir(), 'pullback-hostile-'));
  const source = join(dir, 'src');
  spawnSync('mkdir', [source]);
  writeFileSync(join(source, 'a.txt'), 'a');
  client = await makeTestClient(host, { sources: [source], name: 'victim' });
  const script = join(dir, 'hostile-serve.cjs');
  writeFileSync(script, HOSTILE_SERVE);
  modeFile = join(dir, 'mode');
  writeFileSync(
    host.authorizedKeys,
    renderClientEntry('victim', client.publicKey, [process.execPath, script, modeFile]) + '\n',
    {
      mode: 0o600,
    },
  );
});
after(async () => {
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function pullback(...args: string[]) {
  return spawnSync(process.execPath, [PULLBACK_CLI_SCRIPT, ...args], {
    env: client.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** Every control character but the newline, C1 included, and the bidi/line-separator tricks. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function assertClean(what: string, r: ReturnType<typeof pullback>): string {
  const out = r.stdout + r.stderr;
  const found = CONTROL.exec(out);
  assert.equal(
    found,
    null,
    `${what}: printed ${JSON.stringify(found?.[0])} in ${JSON.stringify(out)}`,
  );
  assert.ok(!out.includes('\nFAKE'), `${what}: the peer cannot start a line of its own`);
  return out;
}

const CASES: [mode: string, args: string[], expect: RegExp][] = [
  ['error', ['snapshots'], /BUSY: busy \\x1b\]0;owned\\x07/],
  ['error', ['backup'], /BUSY: busy \\x1b/],
  ['error', ['backup', '--json'], /BUSY/],
  ['error', ['pair', '--yes'], /BUSY: busy/],
  ['stderr', ['snapshots'], /closed the handoff without an answer: died: \\x1b\]0;owned/],
  ['stderr', ['backup'], /without an answer/],
  ['not-json', ['snapshots'], /not JSON: garbage \\x1b/],
  ['strings', ['snapshots'], /PROTOCOL: unexpected message/],
  ['strings', ['backup'], /PROTOCOL: unexpected message/],
  ['strings', ['pair', '--yes'], /PROTOCOL: unexpected message/],
  ['warnings', ['snapshots', '--json'], /"warnings":\["\\\\x1b\]0;owned/],
  ['warnings', ['backup'], /warning: \\x1b\]0;owned\\x07\\x1b\[2J/],
];

for (const [mode, args, expect] of CASES) {
  test(`S10: a hostile backup host's ${mode} reaches "pullback ${args.join(' ')}" without a control character`, () => {
    writeFileSync(modeFile, mode);
    const argv =
      args[0] === 'pair'
        ? [
            'pair',
            `${host.user}@${host.address}:${host.port}`,
            '--name',
            'home',
            '--local-address',
            '127.0.0.2',
            ...args.slice(1),
          ]
        : args;
    const r = pullback(...argv);
    const out = assertClean(argv.join(' '), r);
    assert.match(out, expect, 'the message still says what happened, escaped');
  });
}

test("S10: the backup host's answers are validated strictly (a snapshot id must be a snapshot id)", () => {
  writeFileSync(modeFile, 'strings');
  const r = pullback('snapshots', '--json');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^PROTOCOL: unexpected message from the backup host/);
  assertClean('snapshots --json', r);
});
