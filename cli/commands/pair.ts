import { createInterface } from 'node:readline/promises';
import { parseCommandArgs, parseIntegerOption } from '../args.js';
import { readIdentityKey } from '../../core/config/identity.js';
import { readClientConfig, updateClientConfig } from '../../core/config/client-store.js';
import { hostSchema, type HostConfig } from '../../core/config/client-schema.js';
import { fetchHostKey, parseUserAtHost, serverAddClientLine } from '../../core/handoff/pairing.js';
import { helloBackupHost } from '../../core/handoff/backup-client.js';
import { fingerprint } from '../../core/ssh/keys.js';
import { PullbackError } from '../../core/errors.js';
import { zodToPullbackError } from '../../core/config/zod-error.js';

const HELP = `Usage: pullback pair USER@HOST[:PORT] [--name NAME] [--fingerprint SHA256:…] [--yes] [--wait SECONDS]

Pairs this machine with a backup host: shows the host key's fingerprint and pins it (compare it
with "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" on the backup host), prints the one line
to run on the backup host, then checks that the backup host lets us in.

  --name NAME             what to call this backup host here (default: the host name)
  --fingerprint SHA256:…  pin only if the key has this fingerprint (no question asked)
  --yes                   accept the fingerprint shown without asking (scripts; you check it)
  --wait SECONDS          keep checking this long for the backup host to accept us (default 0)
  --local-address IP      connect from this address (multi-homed machines, tests)`;

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function pairCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      name: { type: 'string' },
      fingerprint: { type: 'string' },
      yes: { type: 'boolean' },
      wait: { type: 'string' },
      'local-address': { type: 'string' },
    },
    { command: 'pair', positionals: [0, 1] },
  );
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const waitSeconds = parseIntegerOption(values.wait, '--wait', 0, 3600) ?? 0;
  const target = parseUserAtHost(positionals[0]!);
  const identity = readIdentityKey();
  const config = readClientConfig();
  const hostKey = await fetchHostKey({ ...target, localAddress: values['local-address'] });
  const shown = fingerprint(hostKey);
  console.log(`backup host ${target.address} has host key ${shown}`);
  if (values.fingerprint) {
    if (values.fingerprint !== shown) {
      throw new PullbackError(
        'HOST_KEY_MISMATCH',
        `expected ${values.fingerprint}, the backup host shows ${shown}; not pairing`,
      );
    }
  } else if (!values.yes) {
    if (!process.stdin.isTTY)
      throw new PullbackError(
        'BAD_ARGS',
        'pair: not a terminal; pass --fingerprint SHA256:… or --yes',
      );
    if (!(await confirm("Does this match the backup host's key? [y/N] "))) {
      console.error('not paired');
      return 1;
    }
  }
  const parsed = hostSchema.safeParse({
    name: values.name ?? target.address.replace(/[^A-Za-z0-9._-]/g, '-'),
    user: target.user,
    address: target.address,
    port: target.port,
    hostKey,
    ...(values['local-address'] ? { localAddress: values['local-address'] } : {}),
  });
  if (!parsed.success) throw zodToPullbackError('BAD_ARGS', 'pair', parsed.error);
  const host: HostConfig = parsed.data;
  updateClientConfig((c) => ({
    ...c,
    hosts: [...c.hosts.filter((h) => h.name !== host.name), host],
  }));
  console.log(
    `pinned; now run this on the backup host (as ${target.user}):\n\n  ${serverAddClientLine(config.name, identity.publicKey)}\n`,
  );
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    try {
      const welcome = await helloBackupHost(host, identity.privateKey);
      console.log(
        `paired: the backup host knows us as "${welcome.client}" (${welcome.snapshots} snapshots so far)`,
      );
      return 0;
    } catch (err) {
      if (!(err instanceof PullbackError) || err.code !== 'AUTH_FAILED' || Date.now() >= deadline) {
        if (err instanceof PullbackError && err.code === 'AUTH_FAILED') {
          console.log(
            'the backup host does not accept us yet; after running the line above, check with "pullback pair --wait 60 …" or just run "pullback backup"',
          );
          return 0;
        }
        throw err;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
