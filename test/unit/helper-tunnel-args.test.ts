import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { helperArgv, parseHelperArgv } from '../../core/system/helper-args.js';
import { allowBackupHost, assertApproved, NO_APPROVALS } from '../../core/system/approvals.js';
import { PullbackError } from '../../core/errors.js';

const source = mkdtempSync(join(tmpdir(), 'pullback-tunnel-args-'));
const request = {
  bindAddress: '127.0.0.2',
  allowFrom: '127.0.0.3',
  clientPublicKey: generateKeyPair('k').publicKey,
  deadlineSeconds: 60,
  sources: [source],
};

const refused = (argv: string[], reason: RegExp) =>
  assert.throws(
    () => parseHelperArgv(argv),
    (err: unknown) =>
      err instanceof PullbackError && err.code === 'BAD_ARGS' && reason.test(err.message),
    argv.join(' '),
  );

test('helper argv: --tunnel round-trips, is the one flag without a value, and excludes --port', () => {
  const argv = helperArgv({ ...request, tunnel: true });
  assert.equal(argv.filter((a) => a === '--tunnel').length, 1);
  assert.equal(parseHelperArgv(argv).tunnel, true);
  assert.equal(parseHelperArgv(helperArgv(request)).tunnel, undefined);
  refused([...argv, '--tunnel'], /--tunnel given twice/);
  refused([...argv, '--port', '2222'], /--port and --tunnel/);
  refused([...helperArgv(request), '--tunnel=yes'], /unexpected argument/);
  refused([...helperArgv(request), '--source', '--tunnel'], /absolute path/);
});

test('approvals: a tunnel needs a host approved for it; a direct approval does not stretch to one', async () => {
  const direct = (await allowBackupHost(NO_APPROVALS, '127.0.0.3', [source])).approvals;
  assertApproved({ allowFrom: '127.0.0.3', sources: [source] }, direct);
  assert.throws(
    () => assertApproved({ allowFrom: '127.0.0.3', sources: [source], tunnel: true }, direct),
    /not approved for tunnel mode/,
  );
  const both = (await allowBackupHost(direct, '127.0.0.3', [source], { tunnel: true })).approvals;
  assertApproved({ allowFrom: '127.0.0.3', sources: [source], tunnel: true }, both);
  // approving more sources later keeps the tunnel approval
  const more = (await allowBackupHost(both, '127.0.0.3', [tmpdir()])).approvals;
  assert.equal(more.backupHosts[0]!.tunnel, true);
  assert.throws(
    () => assertApproved({ allowFrom: '127.0.0.9', sources: [source], tunnel: true }, both),
    /not approved for system mode/,
  );
});
