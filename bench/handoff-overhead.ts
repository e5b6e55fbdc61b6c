import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPullArgv } from '../core/pull/rsync-argv.js';
import { runPull } from '../core/pull/run-pull.js';
import { makeTestClient, type BackupHost } from '../test/support/backup-host.js';
import { userInfo } from 'node:os';
import { PULLBACK_CLI_SCRIPT } from '../core/self-command.js';
import { gateArgs } from '../core/gate/run.js';
import { execTool, median, timed } from './exec.js';
import type { PeerLogin } from './peer-login.js';
import { backupOnce } from './tools/pullback.js';

/** Medians, in seconds from the start of runBackup, of when each step of a handoff was reached. */
export interface HandoffTimings {
  samples: number;
  /** SSH connection to the backup host up, `pullback serve` running (stage starting-oneshot) */
  connected: number;
  /** one-shot sshd listening (stage requesting) */
  oneShotReady: number;
  /** the backup host accepted the request: lock taken, run prepared (stage transferring) */
  accepted: number;
  /** rsync's first progress line reached the client: the handoff overhead */
  firstByte: number;
  /** the whole run, promotion included */
  done: number;
  /** a bare rsync pull of the same one-file tree over a plain sshd, for comparison */
  bareRsync: number;
  /** the account's shell as a plain sshd starts it (`$SHELL -c true`, SSH_CLIENT set): bash reads ~/.bashrc */
  shellWithRc: number;
  /** the same with SHLVL=1, as the one-shot sshd starts the gate: bash skips ~/.bashrc */
  shellWithoutRc: number;
  /** `node <pullback cli> --version`: Node plus the CLI's dispatcher */
  cliStart: number;
  /** `pullback gate --check` on a valid sender command: Node, the gate's modules, validation, pinning */
  gateStart: number;
  /** an OpenSSH login to the bench's plain sshd running `true`: handshake, auth, one session */
  sshLogin: number;
  /** `node -e 0`: Node alone */
  nodeStart: number;
}

async function medianRun(command: string, args: string[], env: NodeJS.ProcessEnv, times = 5) {
  const seconds: number[] = [];
  for (let i = 0; i < times; i++)
    seconds.push((await timed(() => execTool(command, args, { env }))).seconds);
  return median(seconds);
}

/**
 * The fixed start-up costs inside a handoff, measured alone. sshd runs every command through the
 * account's shell (`$SHELL -c …`), and Debian's bash reads ~/.bashrc when it sees SSH_CLIENT
 * and is a top-level shell (SHLVL, after its own +1, below 2).
 */
async function startupCosts(peer: PeerLogin, tree: string) {
  const shell = userInfo().shell || '/bin/sh';
  const { SHLVL: _ignored, ...env } = process.env;
  const sshEnv = { ...env, SSH_CLIENT: '127.0.0.3 40000 22' };
  const senderCommand = `rsync --server --sender -lHogDtpAXrSe.LsfxCIvu --numeric-ids . ${tree}/`;
  const { user, host } = peer.remote;
  const [ssh = 'ssh', ...sshArgs] = peer.sshWords;
  return {
    shellWithRc: await medianRun(shell, ['-c', 'true'], sshEnv),
    shellWithoutRc: await medianRun(shell, ['-c', 'true'], { ...sshEnv, SHLVL: '1' }),
    cliStart: await medianRun(process.execPath, [PULLBACK_CLI_SCRIPT, '--version'], process.env),
    gateStart: await medianRun(
      process.execPath,
      [PULLBACK_CLI_SCRIPT, ...gateArgs([tree]), '--check'],
      { ...process.env, SSH_ORIGINAL_COMMAND: senderCommand },
    ),
    sshLogin: await medianRun(ssh, [...sshArgs, `${user}@${host}`, 'true'], process.env),
    nodeStart: await medianRun(process.execPath, ['-e', '0'], process.env),
  };
}

/**
 * The handoff overhead: from the request (runBackup called) to rsync's first byte (its first
 * progress line at the client), on a one-file tree whose file changes before every sample so
 * each pull transfers something. One warm-up run is not counted.
 */
export async function measureHandoff(
  host: BackupHost,
  peer: PeerLogin,
  work: string,
  samples: number,
  onSample: (i: number) => void,
): Promise<HandoffTimings> {
  const source = join(work, 'handoff-source');
  mkdirSync(source, { recursive: true });
  const client = await makeTestClient(host, { sources: [source], name: 'bench-handoff' });
  const marks: Record<'connected' | 'oneShotReady' | 'accepted' | 'firstByte' | 'done', number[]> =
    { connected: [], oneShotReady: [], accepted: [], firstByte: [], done: [] };
  const STAGE_MARK = {
    'starting-oneshot': 'connected',
    requesting: 'oneShotReady',
    transferring: 'accepted',
  } as const;
  try {
    for (let i = 0; i <= samples; i++) {
      writeFileSync(join(source, 'one-file.txt'), `sample ${i}\n`.repeat(i + 1));
      if (i > 0) onSample(i);
      const start = process.hrtime.bigint();
      const at = () => Number(process.hrtime.bigint() - start) / 1e9;
      const seen: Partial<Record<keyof typeof marks, number>> = {};
      await backupOnce(client, {
        onStage: (stage) => {
          if (stage !== 'connecting') seen[STAGE_MARK[stage]] ??= at();
        },
        onProgress: () => {
          seen.firstByte ??= at();
        },
      });
      seen.done = at();
      if (i === 0) continue;
      for (const key of Object.keys(marks) as (keyof typeof marks)[]) {
        // no progress line at all would mean rsync sent nothing before it ended
        marks[key].push(seen[key] ?? seen.done);
      }
    }
    const bare: number[] = [];
    const repo = join(work, 'handoff-rsync');
    mkdirSync(repo, { recursive: true });
    for (let i = 0; i <= samples; i++) {
      writeFileSync(join(source, 'one-file.txt'), `bare ${i}\n`.repeat(i + 1));
      const argv = buildPullArgv({
        remote: peer.remote,
        source,
        excludes: [],
        dest: join(repo, `snap-${i}`) + '/',
        ...(i > 0 ? { linkDest: join(repo, `snap-${i - 1}`) } : {}),
      });
      const { seconds, value } = await timed(() => runPull(argv));
      if (value.error) throw value.error;
      if (i > 0) bare.push(seconds);
    }
    rmSync(repo, { recursive: true, force: true });
    return {
      samples,
      connected: median(marks.connected),
      oneShotReady: median(marks.oneShotReady),
      accepted: median(marks.accepted),
      firstByte: median(marks.firstByte),
      done: median(marks.done),
      bareRsync: median(bare),
      ...(await startupCosts(peer, source)),
    };
  } finally {
    rmSync(join(host.storage, client.name), { recursive: true, force: true });
    rmSync(client.dir, { recursive: true, force: true });
  }
}
