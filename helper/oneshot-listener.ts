/**
 * The one-shot listener of system mode. The helper starts it through setpriv as pullback-reader
 * (never root, no effective capability), with the path of the spec it wrote. It starts the
 * one-shot sshd, says its port on stdout as one JSON line, and exits when the one-shot is over.
 * In tunnel mode it listens nowhere and says port 0: its stdin and stdout, after that line, are
 * the pull's one SSH connection (the helper relays them from and to the client).
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { asPullbackError, PullbackError } from '../core/errors.js';
import { startOneShotSshd, type OneShotSpec } from '../core/ssh/oneshot.js';
import { GATE_REFUSED_PREFIX } from '../core/gate/refusal-log.js';

async function main(): Promise<number> {
  if (process.getuid?.() === 0)
    throw new PullbackError('HELPER_FAILED', 'the one-shot listener must not run as root');
  const specPath = process.argv[2];
  if (!specPath || process.argv.length !== 3)
    throw new PullbackError('BAD_ARGS', 'usage: oneshot-listener.js SPEC_FILE');
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as OneShotSpec;
  unlinkSync(specPath); // it holds H; startOneShotSshd keeps its own 0600 copy for sshd
  const oneShot = await startOneShotSshd(spec);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
    process.on(signal, () => void oneShot.kill(`got ${signal}`));
  process.stdout.write(`${JSON.stringify({ port: oneShot.port })}\n`);
  if (spec.tunnel)
    oneShot.attach(Duplex.from({ readable: process.stdin, writable: process.stdout }));
  const outcome = await oneShot.done;
  // the helper relays our stderr to the client, which keeps these in its own log
  for (const reason of outcome.gateRefusals ?? [])
    process.stderr.write(`${GATE_REFUSED_PREFIX}${reason}\n`);
  if (outcome.reason === 'error' || outcome.reason === 'deadline') {
    process.stderr.write(`HELPER_FAILED: one-shot ended: ${outcome.detail ?? outcome.reason}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${asPullbackError(err, 'HELPER_FAILED').toLine()}\n`);
    process.exit(1);
  },
);
