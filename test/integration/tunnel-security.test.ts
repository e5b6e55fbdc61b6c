import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type BackupHost, type TestClient } from '../support/backup-host.js';
import { rejects, startHostWithClients } from '../support/host-with-clients.js';
import { connectToBackupHost, type HandoffConnection } from '../../core/handoff/connect.js';
import { exchange } from '../../core/handoff/exchange.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import { PROTOCOL_VERSION, type TunnelTicket } from '../../core/handoff/messages.js';
import { generateKeyPair } from '../../core/ssh/keys.js';
import { defaultRuntimeBase, type OneShotOutcome } from '../../core/ssh/oneshot.js';
import { carryPullThroughTunnel, openTunnel } from '../../core/tunnel/client-tunnel.js';
import { PULL_SOCKET, TUNNEL_SOCKET } from '../../core/tunnel/relay.js';

/*
 * Tunnel mode's promises, attacked the way a hostile client would: with its own requests over
 * its own authenticated connection, against the real serve behind the real sshd (whose
 * forwarding is off), and a real one-shot sshd -i behind the tunnel.
 */
let host: BackupHost;
let source: string;
let alice: TestClient;
let bob: TestClient;

before(async () => {
  ({
    host,
    source,
    clients: [alice, bob],
  } = await startHostWithClients(['alice', 'bob'], {
    // 3 MiB at 1 MiB/s: a few seconds of pull to look at
    fill: (s) => writeFileSync(join(s, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7)),
  }));
});
after(async () => {
  await host?.stop();
});

const connectAs = (c: TestClient) => connectToBackupHost(c.config.hosts[0]!, c.identityKey);

/** Where the backup host's serve keeps its one-time directories (sshd gives it no XDG_RUNTIME_DIR). */
const serveRunDir = (ticket: TunnelTicket) =>
  join(defaultRuntimeBase({ HOME: homedir() }), ticket.id);

function snapshotsOf(name: string): string[] {
  const dir = join(host.storage, name, 'snapshots');
  return existsSync(dir) ? readdirSync(dir).filter((n) => !n.endsWith('.json')) : [];
}

/**
 * A tunnelled backup of `client`, driven step by step: `beforeJoin` runs once the backup host
 * has named the tunnel and before our channel joins it, `onProgress` at the first progress.
 */
async function tunnelledBackup(
  client: TestClient,
  hooks: {
    beforeJoin?: (ticket: TunnelTicket, conn: HandoffConnection) => Promise<void>;
    onProgress?: (ticket: TunnelTicket, conn: HandoffConnection) => Promise<void>;
  } = {},
) {
  const conn = await connectAs(client);
  const K = generateKeyPair('K');
  const H = generateKeyPair('H');
  const shot = await launchUserOneShot({
    bindAddress: conn.localAddress,
    allowFrom: conn.remoteAddress,
    clientPublicKey: K.publicKey,
    hostPrivateKey: H.privateKey,
    sources: [source],
    deadlineMs: 60_000,
    tunnel: true,
  });
  assert.equal(shot.port, 0, 'a tunnel one-shot listens on no port');
  let ticket: TunnelTicket | undefined;
  const steps: Promise<void>[] = [];
  let progressSeen = false;
  try {
    const final = await exchange(
      conn,
      {
        v: PROTOCOL_VERSION,
        type: 'backup',
        tunnel: true,
        privateKey: K.privateKey,
        hostKey: H.publicKey,
        user: shot.user,
        sources: [source],
        excludes: [],
        options: { bwlimitKiB: 1024 },
        clientVersion: 'test',
      },
      (r) => {
        if (r.type === 'accepted') {
          ticket = r.tunnel;
          steps.push(
            (async () => {
              await hooks.beforeJoin?.(r.tunnel!, conn);
              await carryPullThroughTunnel(conn, r.tunnel, shot);
            })(),
          );
        }
        if (r.type === 'progress' && !progressSeen) {
          progressSeen = true;
          if (hooks.onProgress) steps.push(hooks.onProgress(ticket!, conn));
        }
      },
    );
    await Promise.all(steps);
    const outcome = (await shot.done) as OneShotOutcome;
    return { final, ticket: ticket!, outcome };
  } finally {
    await shot.stop();
    conn.close();
  }
}

test('S8 (tunnel): neither another client nor another connection of the same client can join a tunnel, and their tries do not use it up', async () => {
  const before = snapshotsOf('alice').length;
  const tries: string[] = [];
  const { final } = await tunnelledBackup(alice, {
    beforeJoin: async (ticket, own) => {
      const bobs = await connectAs(bob);
      const second = await connectAs(alice);
      try {
        await rejects(openTunnel(bobs, ticket), 'REFUSED');
        tries.push("bob with alice's ticket");
        await rejects(openTunnel(second, ticket), 'REFUSED');
        tries.push('alice on another connection');
        const wrong = {
          ...ticket,
          token: ticket.token.replace(/^./, (c) => (c === '0' ? '1' : '0')),
        };
        await rejects(openTunnel(own, wrong), 'REFUSED');
        tries.push('a wrong token on the same connection');
      } finally {
        bobs.close();
        second.close();
      }
    },
  });
  assert.equal(tries.length, 3);
  assert.equal(final.type, 'done');
  assert.equal(snapshotsOf('alice').length, before + 1, 'the real join still got its pull');
  assert.equal(snapshotsOf('bob').length, 0, 'nothing for bob');
});

test('S1 (tunnel): a second connection through the tunnel is refused: the join and the pull socket each take one', async () => {
  let checked = false;
  const { final } = await tunnelledBackup(alice, {
    onProgress: async (ticket, own) => {
      const dir = serveRunDir(ticket);
      assert.ok(existsSync(dir), `the run's one-time directory ${dir} is there during the pull`);
      // both sockets are gone once taken: nothing can connect to them again
      for (const name of [TUNNEL_SOCKET, PULL_SOCKET]) {
        assert.equal(existsSync(join(dir, name)), false, `${name} is still there`);
        const refused = await new Promise<boolean>((resolve) => {
          const s = connect({ path: join(dir, name) });
          s.once('connect', () => {
            s.destroy();
            resolve(false);
          });
          s.once('error', () => resolve(true));
        });
        assert.ok(refused, `a second connection to ${name} was accepted`);
      }
      // and the same ticket, on the very connection that holds it, cannot join again
      await rejects(openTunnel(own, ticket), 'REFUSED');
      checked = true;
    },
  });
  assert.ok(checked, 'the pull was seen in progress');
  assert.equal(final.type, 'done');
});

test('S2 (tunnel): the tunnel carries nothing but the one pull: when it ends, the one-shot has ended and nothing is left listening', async () => {
  const { final, ticket, outcome } = await tunnelledBackup(alice);
  assert.equal(final.type, 'done');
  assert.equal(outcome.reason, 'session-ended', `${outcome.detail}: ${outcome.sshdLog}`);
  assert.equal(existsSync(serveRunDir(ticket)), false, 'the one-time directory is gone (S9)');
});

test('S10 (tunnel): a backup naming both a port and the tunnel, or neither, and a tunnel ticket that is a path, are BAD_REQUEST; nothing is written', async () => {
  const conn = await connectAs(bob);
  try {
    const base = {
      v: PROTOCOL_VERSION,
      type: 'backup' as const,
      privateKey: generateKeyPair('k').privateKey,
      hostKey: generateKeyPair('h').publicKey,
      user: 'root',
      sources: [source],
      excludes: [],
      options: {},
      clientVersion: 'test',
    };
    for (const extra of [{ port: 2222, tunnel: true as const }, {}]) {
      const request = { ...base, ...extra } as Parameters<typeof exchange>[1];
      const err = await rejects(exchange(conn, request), 'BAD_REQUEST');
      assert.match(err.message, /port.*tunnel/);
    }
    const ticket = { id: '../../../tmp/x', token: 'a'.repeat(64) };
    await rejects(exchange(conn, { v: PROTOCOL_VERSION, type: 'tunnel', ticket }), 'BAD_REQUEST');
  } finally {
    conn.close();
  }
  assert.ok(!existsSync(join(host.storage, 'bob', '.incomplete')), 'nothing written for bob');
});
