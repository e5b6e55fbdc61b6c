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

const HELP = `Usage: pullback pair USER@HOST[:PORT] [--name NAME] [--fingerprint SHA256:…] [--yes] [--wait SECONDS] [--replace-host-key]

Pairs this machine with a backup host: shows the host key's fingerprint and pins it (compare it
with "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" on the backup host), prints the one line
to run on the backup host, then checks that the backup host lets us in.

  --name NAME             what to call this backup host here (default: the host name)
  --fingerprint SHA256:…  pin only if the key has this fingerprint (no question asked)
  --yes                   accept the fingerprint shown without asking (scripts; you check it)
  --wait SECONDS          keep checking this long for the backup host to accept us (default 0);
                          exit 5 when it still does not at the end
  --replace-host-key      pair again with a backup host whose key changed (reinstalled): the
                          old and new fingerprints are shown; needed even with --yes
  --local-address IP      connect from this address (multi-homed machines, tests)

Exit: 0 paired (or pinned and not added on the backup host yet, without --wait), 1 not
confirmed, 2 bad usage, 4 unreachable, 5 host key changed or still not added after --wait.`;

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
      'replace-host-key': { type: 'boolean' },
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
  const name = values.name ?? target.address.replace(/[^A-Za-z0-9._-]/g, '-');
  const pinned = config.hosts.find(
    (h) => h.name === name || (h.address === target.address && h.port === target.port),
  );
  if (pinned && fingerprint(pinned.hostKey) !== shown) {
    // S6: a changed key is an impostor until the user says the host was reinstalled; --yes
    // only accepts a first contact, it never replaces a pin.
    console.log(`backup host "${pinned.name}" was pinned with ${fingerprint(pinned.hostKey)}`);
    if (!values['replace-host-key'])
      throw new PullbackError(
        'HOST_KEY_MISMATCH',
        `the host key of "${pinned.name}" changed: pinned ${fingerprint(pinned.hostKey)}, now ${shown}; if the backup host was reinstalled, check the new key there and run pair again with --replace-host-key`,
      );
    console.log(`replacing it with ${shown} (--replace-host-key)`);
  }
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
    name,
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
    hosts: [...c.hosts.filter((h) => h.name !== host.name && h !== pinned), host],
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
      // AUTH_FAILED is sshd refusing our key: the add-client line has not been run there yet.
      // Anything else (unreachable, a refusal of `pullback serve`) is another story, told as is.
      if (!(err instanceof PullbackError) || err.code !== 'AUTH_FAILED') throw err;
      if (waitSeconds === 0) {
        console.log(
          'not added on the backup host yet: run the line above there, then "pullback pair --wait 60 …" to check (or just "pullback backup")',
        );
        return 0;
      }
      if (Date.now() >= deadline)
        throw new PullbackError(
          'AUTH_FAILED',
          `not added on the backup host yet: it still refuses our key after ${waitSeconds} s; run the line above there as ${target.user}`,
        );
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
