import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { knownHostsLine } from '../../core/ssh/hostkey-pin.js';
import type { OneShotLauncher } from '../../core/handoff/oneshot-launcher.js';
import { descendantsOf } from '../../core/process-tree.js';

/*
 * A hostile backup host for tests: stock rsync 3.5.0 as the receiver, with an ssh that holds
 * back its protocol bytes, against the client's real one-shot (a launcher's), from 127.0.0.3 to
 * 127.0.0.2; and a local account (uid 65534) racing a directory it owns inside a tree.
 */
export const CLIENT_IP = '127.0.0.2';
export const BACKUP_HOST_IP = '127.0.0.3';
export const ATTACKER = 65534;

/** The receiver's ssh: holds back stdin for $PULL_DELAY seconds and ends with ssh (a shell
 * pipeline through cat would wait for rsync, which waits for it). */
export function writeDelaySsh(dir: string): string {
  const path = join(dir, 'delay-ssh.mjs');
  writeFileSync(
    path,
    `#!${process.execPath}
import { spawn } from 'node:child_process';
const ssh = spawn('ssh', process.argv.slice(2), { stdio: ['pipe', 'inherit', 'inherit'] });
ssh.stdin.on('error', () => {});
setTimeout(() => process.stdin.pipe(ssh.stdin), Number(process.env.PULL_DELAY ?? 0) * 1000);
ssh.on('exit', (code) => process.exit(code ?? 255));
`,
    { mode: 0o755 },
  );
  return path;
}

/** The attacker's directory m/ (uid 65534) inside the tree, with d/ in it. */
export function attackerDir(parent: string): { m: string; d: string } {
  const m = join(parent, 'm');
  const d = join(m, 'd');
  rmSync(m, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'inner.txt'), 'inner\n');
  for (const path of [m, d, join(d, 'inner.txt')]) chownSync(path, ATTACKER, ATTACKER);
  return { m, d };
}

/** As the attacker: replace `<m>/d` by a symlink to `target`. */
export function swapForSymlink(m: string, target: string): void {
  const r = spawnSync(
    'setpriv',
    [
      `--reuid=${ATTACKER}`,
      `--regid=${ATTACKER}`,
      '--clear-groups',
      '--',
      'sh',
      '-c',
      `cd '${m}' && mv d d.orig && ln -s '${target}' d`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `the swap failed: ${r.stderr}`);
}

function senderRunning(): boolean {
  return descendantsOf([process.pid]).some((p) => {
    try {
      const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
      return /(^|\/)rsync$/.test(argv[0] ?? '') && argv.includes('--sender');
    } catch {
      return false;
    }
  });
}

export async function waitFor(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface HostilePull {
  code: number | null;
  stdout: string;
  stderr: string;
  dest: string;
  /** what the client keeps for its own log */
  refusals: string[];
}

/**
 * One hostile pull: the client's real one-shot (gate allowing `sources`), and stock rsync
 * pulling `path` with `args`. `during` runs once the receiver's stdout matches `when` (or, with
 * no `when`, once the gate has started the sender); not at all if rsync ended first (refused).
 */
export async function hostilePull(o: {
  launcher: OneShotLauncher;
  /** scratch space of the backup host */
  work: string;
  delaySsh: string;
  sources: string[];
  path: string;
  args?: string[];
  delaySeconds?: number;
  when?: RegExp;
  during?: () => void;
  /** change lists the client wrote into its one-shot (incrementals) */
  lists?: { tree: string; data: Buffer }[];
  /** tunnel mode: the receiver's ssh reaches the one-shot's `sshd -i` through attachTunnel */
  tunnel?: boolean;
}): Promise<HostilePull> {
  const K = generateKeyPair('hostile-K');
  const H = generateKeyPair('hostile-H');
  const shot = await o.launcher({
    bindAddress: CLIENT_IP,
    allowFrom: BACKUP_HOST_IP,
    clientPublicKey: K.publicKey,
    hostPrivateKey: H.privateKey,
    sources: o.sources,
    deadlineMs: 60_000,
    ...(o.lists ? { lists: o.lists } : {}),
    ...(o.tunnel ? { tunnel: true as const } : {}),
  });
  const dir = mkdtempSync(join(o.work, 'host-'));
  const tunnel = o.tunnel ? await tunnelSocket(dir, shot) : undefined;
  const port = tunnel ? 22 : shot.port;
  const key = join(dir, 'K');
  writeFileSync(key, K.privateKey, { mode: 0o600 });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, knownHostsLine(CLIENT_IP, port, H.publicKey) + '\n');
  const dest = join(dir, 'dest');
  const ssh = [
    o.delaySsh,
    '-F /dev/null',
    `-i ${key}`,
    `-p ${port}`,
    ...(tunnel ? [`-o ProxyCommand="${process.execPath} ${tunnel.proxy} ${tunnel.path}"`] : []),
    `-o UserKnownHostsFile=${knownHosts}`,
    '-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes',
    '-o IdentitiesOnly=yes -o BatchMode=yes',
    `-b ${BACKUP_HOST_IP}`,
  ].join(' ');
  const child = spawn(
    'rsync',
    [
      '-a',
      '--no-inc-recursive',
      ...(o.args ?? []),
      '-e',
      ssh,
      `${shot.user}@${CLIENT_IP}:${o.path}`,
      `${dest}/`,
    ],
    {
      env: { ...process.env, PULL_DELAY: String(o.delaySeconds ?? 0), LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let ended = false;
  const code = new Promise<number | null>((resolve) =>
    child.on('close', (c) => {
      ended = true;
      resolve(c);
    }),
  );
  try {
    if (o.during) {
      const when = o.when;
      await waitFor(
        when ? `receiver output ${when}` : 'the gate to start the sender',
        () => ended || (when ? when.test(stdout) : senderRunning()),
      );
      if (!ended) o.during();
    }
    const exit = await code;
    await shot.stop();
    return { code: exit, stdout, stderr, dest, refusals: await shot.gateRefusals() };
  } finally {
    tunnel?.server.close();
    await shot.stop();
  }
}

/**
 * Tunnel mode's far end, as `pullback serve` would give it: every connection to a socket in
 * `dir` is handed to the one-shot's attachTunnel (a second one is refused there), and the
 * receiver's ssh reaches it through a ProxyCommand that joins its stdio to that socket.
 */
async function tunnelSocket(
  dir: string,
  shot: Awaited<ReturnType<OneShotLauncher>>,
): Promise<{ server: Server; path: string; proxy: string }> {
  const path = join(dir, 'tunnel.sock');
  const proxy = join(dir, 'proxy.mjs');
  writeFileSync(
    proxy,
    `import { connect } from 'node:net';
const sock = connect(process.argv[2]);
process.stdin.pipe(sock).pipe(process.stdout);
sock.on('close', () => process.exit(0));
`,
  );
  const server = createServer((socket) => {
    try {
      shot.attachTunnel!(socket);
    } catch {
      socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { server, path, proxy };
}

/** Every line of every file below dir. */
export function treeText(dir: string): string {
  if (!existsSync(dir)) return '';
  const r = spawnSync('grep', ['-r', '-a', '-h', '', dir], { encoding: 'utf8' });
  return r.stdout;
}

/**
 * The receiver's own view, with what differs between two runs anyway blanked: numbers, its
 * own scratch directory, the rule's file name, and the order in which stdout and stderr mix.
 */
export function normalised(r: HostilePull, name: string): string {
  return (
    (r.stdout + r.stderr)
      .replaceAll(name, '<merge-file>')
      .replace(/\/host-[^/\s]+/g, '/host-X')
      .replace(/(^|[ /])\.([^ /]+)\.[A-Za-z0-9]{6}(?=[ \n]|$)/gm, '$1.$2.XXXXXX') // rsync's temp names
      .split('\n')
      // rates, and which side's exit trace got out before the connection closed: timing, not content
      .filter((l) => !/bytes\/sec|speedup|^total:|_exit_cleanup\(/.test(l))
      .map((l) => l.replace(/\d+/g, '#'))
      .sort()
      .join('\n')
  );
}
