import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pullbackCommand } from '../../core/self-command.js';
import { writeClientConfig } from '../../core/config/client-store.js';
import { fingerprint } from '../../core/ssh/keys.js';
import { REACH_FILE } from '../../core/tunnel/reach-memory.js';
import {
  startBackupHost,
  makeTestClient,
  type BackupHost,
  type TestClient,
} from '../support/backup-host.js';
import {
  CLIENT_ADDRESS,
  HOST_ADDRESS,
  ROUTER_WAN_ADDRESS,
  makeNatNetwork,
  type NatNetwork,
} from '../support/nat-namespaces.js';
import { inNetns, listeningTcp, mustRunInNetns, whyNoNamespaces } from '../support/netns.js';
import { assertTreesIdentical, restoreSnapshot } from '../support/tree-compare.js';
import { snapshotsOf, waitUntil } from '../integration/agent-harness.js';

/*
 * Issue 13's laptop behind NAT, in network namespaces this test makes: the client behind a
 * router namespace that masquerades it (nftables), the backup host (real sshd + `pullback
 * serve`) beyond the router with no route back into the client's subnet. Everything on the
 * client runs through the real CLI (`pullback backup`, `pullback agent`) inside the client
 * namespace.
 */
const why = whyNoNamespaces();
let net: NatNetwork | undefined;
let host: BackupHost | undefined;
const agents: { pid: number; exited: Promise<void> }[] = [];

before(async () => {
  if (why) return;
  net = makeNatNetwork();
  host = await startBackupHost({ address: HOST_ADDRESS, netns: net.host });
});
after(async () => {
  for (const a of agents) {
    try {
      process.kill(a.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([a.exited, new Promise((r) => setTimeout(r, 10_000))]);
  }
  await host?.stop();
  net?.destroy();
});

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `pullback ARGS` inside the client namespace, as the client; `onLine` sees each stdout line. */
function pullbackOnClient(
  client: TestClient,
  args: string[],
  onLine?: (line: string) => void,
): { pid: number; done: Promise<CliRun> } {
  const [cmd, ...rest] = inNetns(net!.client, pullbackCommand(...args));
  const started = Date.now();
  const child = spawn(cmd!, rest, { env: client.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine?.(line);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) =>
    child.once('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - started })),
  );
  return { pid: child.pid!, done };
}

/** A source tree: a note and `files` random files of `size` bytes each. */
function makeTree(files: number, size: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-nat-src-'));
  writeFileSync(join(dir, 'notes.txt'), 'behind the NAT\n');
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `data-${i}.bin`), randomBytes(size));
  return dir;
}

async function natClient(name: string, source: string, bwlimitKiB?: number): Promise<TestClient> {
  const client = await makeTestClient(host!, {
    name,
    sources: [source],
    localAddress: CLIENT_ADDRESS,
  });
  if (bwlimitKiB) {
    client.config = {
      ...client.config,
      hosts: [{ ...client.config.hosts[0]!, bwlimitKiB }],
    };
    writeClientConfig(client.config, client.env);
  }
  return client;
}

function assertNewestSnapshotMatches(client: TestClient, source: string): void {
  const snapshots = snapshotsOf(host!.storage, client.name).sort();
  assert.ok(snapshots.length > 0, `no snapshot of ${client.name}`);
  const snap = join(host!.storage, client.name, 'snapshots', snapshots.at(-1)!);
  const restored = mkdtempSync(join(tmpdir(), 'pullback-nat-restore-'));
  restoreSnapshot(join(snap, source), restored);
  assertTreesIdentical(source, restored);
}

/** The handoff connections this client made, as the backup host's sshd logged them. */
function handoffsOf(client: TestClient): string[] {
  const key = fingerprint(client.publicKey);
  return host!
    .sshdLog()
    .split('\n')
    .filter((l) => l.includes('Accepted publickey') && l.includes(key));
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim().length > 0);
const skipped = (t: { skip(message: string): void }) => {
  if (why) t.skip(`SKIPPED LOUDLY: ${why}`);
  return why !== undefined;
};

test('behind NAT, --reach direct fails with one line that names the cause and suggests --reach tunnel', async (t) => {
  if (skipped(t)) return;
  const source = makeTree(1, 4096);
  const client = await natClient('nat-direct', source);
  const run = await pullbackOnClient(client, ['backup', '--reach', 'direct']).done;
  assert.equal(run.status, 4, `exit code 4 (unreachable): ${run.stderr}`);
  const errors = lines(run.stderr);
  assert.equal(errors.length, 1, `one line: ${run.stderr}`);
  assert.match(errors[0]!, /^home: UNREACHABLE: /);
  assert.match(errors[0]!, /could not connect back to this machine/);
  // the cause: the backup host saw the router's address (masquerade) and nobody listens there
  assert.match(errors[0]!, new RegExp(`${ROUTER_WAN_ADDRESS.replace(/\./g, '\\.')}.*refused`, 'i'));
  assert.match(errors[0]!, /--reach tunnel/);
  assert.ok(
    handoffsOf(client).every((l) => l.includes(`from ${ROUTER_WAN_ADDRESS} `)),
    'the backup host sees only the router',
  );
  assert.deepEqual(snapshotsOf(host!.storage, client.name), [], 'no snapshot');
  t.diagnostic(errors[0]!);
});

test('behind NAT, --reach tunnel backs up through the real CLI and the one-shot listens on nothing in the client namespace', async (t) => {
  if (skipped(t)) return;
  // 4 MiB at 1 MiB/s: seconds of transfer to look at
  const source = makeTree(4, 1024 * 1024);
  const client = await natClient('nat-tunnel', source, 1024);
  const before = listeningTcp(net!.client);
  let during: string[] | undefined;
  let established = '';
  const run = await pullbackOnClient(client, ['backup', '--reach', 'tunnel', '--json'], (line) => {
    if (during || !line.startsWith('{')) return;
    const event = JSON.parse(line) as { type?: string; bytes?: number };
    if (event.type !== 'progress' || !(event.bytes && event.bytes > 0)) return;
    during = listeningTcp(net!.client);
    established = mustRunInNetns(net!.client, ['ss', '-tnH', 'state', 'established']);
  }).done;
  assert.equal(run.status, 0, run.stderr);
  assert.ok(during, `the transfer was seen under way: ${run.stdout}`);
  // the control: ss in the client namespace does see the client's sockets (the handoff)
  assert.match(established, new RegExp(`${HOST_ADDRESS.replace(/\./g, '\\.')}:${host!.port}`));
  assert.deepEqual(during, before, 'no listening socket appeared during the tunnelled backup');
  assert.deepEqual(before, [], 'the client namespace listens on nothing');
  assertNewestSnapshotMatches(client, source);
});

test('behind NAT, --reach auto finds the tunnel, remembers it for this network, and the next run goes straight to the tunnel', async (t) => {
  if (skipped(t)) return;
  const source = makeTree(2, 64 * 1024);
  const client = await natClient('nat-auto', source);
  // as on a network just joined: the router's MAC, which names the network, is not known yet
  net!.forgetNeighbours();
  const first = await pullbackOnClient(client, ['backup']).done;
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /host=home cannot connect back on this network: using the tunnel/);
  assertNewestSnapshotMatches(client, source);
  assert.equal(handoffsOf(client).length, 2, 'the first run tried direct, then the tunnel');
  const memory = JSON.parse(
    readFileSync(join(client.env.PULLBACK_STATE_DIR!, REACH_FILE), 'utf8'),
  ) as { hosts: Record<string, Record<string, { reach: string }>> };
  const learnt = Object.entries(memory.hosts.home ?? {});
  assert.equal(learnt.length, 1, JSON.stringify(memory));
  assert.equal(learnt[0]![1].reach, 'tunnel');
  assert.match(learnt[0]![0], /^gw:([0-9a-f]{2}:){5}[0-9a-f]{2}$/, "named by the router's MAC");

  writeFileSync(join(source, 'notes.txt'), 'behind the NAT, changed\n');
  const second = await pullbackOnClient(client, ['backup']).done;
  assert.equal(second.status, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /cannot connect back/);
  assert.equal(handoffsOf(client).length, 3, 'the second run made one connection: no direct try');
  assertNewestSnapshotMatches(client, source);
  t.diagnostic(`first run ${first.ms} ms (direct tried first), second ${second.ms} ms`);
});

test('behind NAT, the link cut mid-transfer of a tunnelled backup leaves a resumable .incomplete; the next run completes it', async (t) => {
  if (skipped(t)) return;
  const fileBytes = 1024 * 1024;
  const files = 8;
  // 8 MiB at 1 MiB/s: cut after 3 MiB
  const source = makeTree(files, fileBytes);
  const client = await natClient('nat-cut', source, 1024);
  const repoDir = join(host!.storage, client.name);
  let cutAt = 0;
  const cutRun = await pullbackOnClient(
    client,
    ['backup', '--reach', 'tunnel', '--json'],
    (line) => {
      if (cutAt || !line.startsWith('{')) return;
      const event = JSON.parse(line) as { type?: string; bytes?: number };
      if (event.type === 'progress' && (event.bytes ?? 0) > 3 * fileBytes) {
        net!.cut();
        cutAt = Date.now();
      }
    },
  ).done;
  assert.ok(cutAt > 0, `the transfer was cut under way: ${cutRun.stdout} ${cutRun.stderr}`);
  assert.notEqual(cutRun.status, 0, 'the cut run failed');
  assert.equal(lines(cutRun.stderr).length, 1, `one line: ${cutRun.stderr}`);
  assert.match(
    cutRun.stderr,
    /UNREACHABLE: lost the connection to /,
    'the cause, not a protocol error',
  );
  t.diagnostic(
    `the cut run failed ${Math.round((Date.now() - cutAt) / 1000)} s after the cut: ${cutRun.stderr.trim()}`,
  );
  // the backup host's side notices on its own (ssh keepalives) and lets go of the client
  await waitUntil(
    () => !existsSync(join(repoDir, '.lock')),
    120_000,
    "the backup host's run to end",
  );
  assert.ok(existsSync(join(repoDir, '.incomplete', source)), '.incomplete kept for the next run');
  assert.deepEqual(snapshotsOf(host!.storage, client.name), [], 'nothing promoted');

  net!.mend();
  const resumed = await pullbackOnClient(client, ['backup', '--reach', 'tunnel', '--json']).done;
  assert.equal(resumed.status, 0, resumed.stderr);
  const done = lines(resumed.stdout)
    .map((l) => JSON.parse(l) as { type?: string; stats?: { bytesTransferred?: number } })
    .find((e) => e.type === 'done');
  const sent = done?.stats?.bytesTransferred ?? Infinity;
  assert.ok(
    sent < (files - 2) * fileBytes,
    `what arrived before the cut was not sent again (${sent} bytes)`,
  );
  assert.equal(existsSync(join(repoDir, '.incomplete')), false);
  assert.equal(snapshotsOf(host!.storage, client.name).length, 1);
  assertNewestSnapshotMatches(client, source);
});

test('behind NAT, the agent backs up on its own once the backup host becomes reachable', async (t) => {
  if (skipped(t)) return;
  const source = makeTree(2, 64 * 1024);
  const client = await natClient('nat-agent', source);
  net!.unplugHost();
  let plugged = false;
  try {
    const agentLines: string[] = [];
    const agent = pullbackOnClient(client, ['agent', '--check-interval', '1'], (l) =>
      agentLines.push(l),
    );
    agents.push({ pid: agent.pid, exited: agent.done.then(() => undefined) });
    const describe = () => agentLines.join('\n');
    await waitUntil(() => agentLines.length > 0, 30_000, 'the agent to start', describe);
    // a few checks while the backup host is out of reach: nothing happens
    await new Promise((r) => setTimeout(r, 4000));
    assert.deepEqual(snapshotsOf(host!.storage, client.name), [], describe());

    net!.plugHost();
    plugged = true;
    await waitUntil(
      () => agentLines.some((l) => /host=home backup finished \(automatic\)/.test(l)),
      120_000,
      'the agent to finish a backup of its own',
      describe,
    );
    assert.equal(snapshotsOf(host!.storage, client.name).length, 1, describe());
    assert.ok(
      agentLines.some((l) => l.includes('cannot connect back on this network: using the tunnel')),
      `auto chose the tunnel: ${describe()}`,
    );
    process.kill(agent.pid, 'SIGTERM');
    const exit = await agent.done;
    assert.equal(exit.status, 0, `${exit.stdout}\n${exit.stderr}`);
    assertNewestSnapshotMatches(client, source);
    t.diagnostic(describe());
  } finally {
    if (!plugged) net!.plugHost();
  }
});
