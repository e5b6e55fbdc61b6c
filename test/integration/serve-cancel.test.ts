import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackupHost, makeTestClient, type BackupHost } from '../support/backup-host.js';
import { servePids, sshdSessionOf } from '../support/serve-processes.js';
import { addAuthorizedClient } from '../../core/server/authorized-clients.js';
import { parseServerConfig, writeServerConfig } from '../../core/config/server-store.js';
import { pullbackCommand, PULLBACK_CLI_SCRIPT } from '../../core/self-command.js';
import { LAST_RUN_FILE } from '../../core/server/last-run.js';
import { SLOTS_DIR } from '../../core/server/parallel-slots.js';
import type { ServerStatus } from '../../core/server/status.js';

/**
 * R: every way a run can be cut short leaves nothing behind on the backup host. serve used to
 * die of the EPIPE of its next progress line (or of SIGTERM/SIGHUP) before its cleanup ran,
 * leaving the client's lock, a run slot and the one-time key K, and no record of the run.
 */
const NAME = 'cancel-laptop';
let host: BackupHost;
let source: string;
let serveState: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  host = await startBackupHost();
  source = mkdtempSync(join(tmpdir(), 'pullback-cancel-src-'));
  for (let i = 0; i < 12; i++) writeFileSync(join(source, `f${i}.bin`), randomBytes(1024 * 1024));
  const client = await makeTestClient(host, { sources: [source], name: NAME });
  env = client.env;
  // serve's own state dir (where it writes K), so that the test sees only this host's secrets
  serveState = mkdtempSync(join(tmpdir(), 'pullback-cancel-serve-state-'));
  addAuthorizedClient(host.authorizedKeys, NAME, client.publicKey, [
    '/usr/bin/env',
    `PULLBACK_STATE_DIR=${serveState}`,
    ...pullbackCommand('serve', '--client', NAME, '--config', host.configFile),
  ]);
  // slow enough that every cancel lands in the middle of the transfer
  const config = JSON.parse(readFileSync(host.configFile, 'utf8')) as Record<string, unknown>;
  writeServerConfig(
    host.configFile,
    parseServerConfig({ ...config, clients: { [NAME]: { bwlimitKiB: 200 } } }),
  );
});
after(async () => {
  await host?.stop();
  rmSync(source, { recursive: true, force: true });
  rmSync(serveState, { recursive: true, force: true });
});

/** What a run may leave behind: the client's lock, run slots, request slots, K, a serve. */
function leftovers(): string[] {
  const left: string[] = [];
  if (existsSync(join(host.storage, NAME, '.lock'))) left.push('the client lock');
  const slots = join(host.storage, SLOTS_DIR);
  if (existsSync(slots))
    left.push(
      ...readdirSync(slots)
        .filter((f) => f.endsWith('.lock'))
        .map((f) => `slot ${f}`),
    );
  const run = join(serveState, 'run');
  if (existsSync(run))
    for (const dir of readdirSync(run))
      if (existsSync(join(run, dir, 'key'))) left.push(`the one-time key in ${dir}`);
  if (servePids(NAME).length) left.push('a serve process');
  return left;
}

async function waitClean(ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = leftovers();
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = leftovers();
  }
  return left;
}

/** `pullback backup --json` as a separate process; resolves once progress is flowing. */
async function startBackup(): Promise<{ cli: ChildProcess; exited: Promise<number | null> }> {
  const cli = spawn(process.execPath, [PULLBACK_CLI_SCRIPT, 'backup', '--json'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => cli.once('close', (code) => r(code)));
  let out = '';
  let err = '';
  cli.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no progress in 30 s: ${out} ${err}`)), 30_000);
    cli.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/"type":"progress"/.test(out) && servePids(NAME).length) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() =>
      reject(new Error(`the backup ended before any progress: ${out} ${err}`)),
    );
  });
  return { cli, exited };
}

const CANCELS: [string, (cli: ChildProcess) => void][] = [
  ['the client gets SIGTERM', (cli) => cli.kill('SIGTERM')],
  ['the client gets SIGINT (Ctrl-C)', (cli) => cli.kill('SIGINT')],
  ['the client is killed with SIGKILL', (cli) => cli.kill('SIGKILL')],
  [
    'the handoff session is dropped (its sshd is killed)',
    () => {
      const session = sshdSessionOf(servePids(NAME)[0]!);
      assert.ok(session, 'found the sshd session that runs serve');
      process.kill(session, 'SIGKILL');
    },
  ],
  ['serve gets SIGTERM', () => process.kill(servePids(NAME)[0]!, 'SIGTERM')],
  ['serve gets SIGHUP', () => process.kill(servePids(NAME)[0]!, 'SIGHUP')],
];

for (const [what, cancel] of CANCELS) {
  test(`R: when ${what}, no lock, run slot or one-time key is left within 2 s and the run is recorded as cancelled`, async () => {
    assert.deepEqual(leftovers(), [], 'clean before the run');
    rmSync(join(host.storage, NAME, LAST_RUN_FILE), { force: true });
    const { cli, exited } = await startBackup();
    assert.ok(leftovers().length > 0, 'the run holds its lock, slot and key while it runs');
    cancel(cli);
    const left = await waitClean(2000);
    assert.deepEqual(left, [], 'nothing left behind within two seconds');
    const last = JSON.parse(readFileSync(join(host.storage, NAME, LAST_RUN_FILE), 'utf8')) as {
      result: string;
      code?: string;
    };
    assert.equal(last.result, 'cancelled');
    assert.equal(last.code, 'CANCELLED');
    const status = spawnSync(
      process.execPath,
      [PULLBACK_CLI_SCRIPT, 'server', 'status', '--json', '--no-size', '--config', host.configFile],
      { encoding: 'utf8' },
    );
    const mine = (JSON.parse(status.stdout) as ServerStatus).clients.find((c) => c.client === NAME);
    assert.equal(mine?.lastResult, 'cancelled', 'server status says the last run was cancelled');
    const text = spawnSync(
      process.execPath,
      [PULLBACK_CLI_SCRIPT, 'server', 'status', '--no-size', '--config', host.configFile],
      { encoding: 'utf8' },
    ).stdout;
    assert.match(text, new RegExp(`${NAME}: .*last run cancelled`));
    cli.kill('SIGKILL');
    await exited;
  });
}
