import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPullArgv, type PullArgvOptions } from '../core/pull/rsync-argv.js';
import { generateKeyPair } from '../core/ssh/keys.js';
import { startPeerSshd, type PeerSshd } from './peer-sshd.js';

/** A peer sshd plus what a tool needs to log in to it: a key and a known_hosts file pinning it. */
export interface PeerLogin {
  sshd: PeerSshd;
  remote: PullArgvOptions['remote'];
  /** the ssh command line, as words, for restic's sftp.command and borg's BORG_RSH */
  sshWords: string[];
}

/**
 * Starts a peer sshd on `address` and writes its credentials into `dir`. The ssh command is
 * taken from buildPullArgv's own `-e`, so peers log in with exactly the options Pullback's pull
 * uses (one ssh command builder, not two).
 */
export async function startPeerLogin(
  dir: string,
  name: string,
  address: string,
  bindAddress: string,
): Promise<PeerLogin> {
  const key = generateKeyPair(`pullback-bench-${name}`);
  const sshd = await startPeerSshd(address, key.publicKey);
  const identityFile = join(dir, `${name}_key`);
  writeFileSync(identityFile, key.privateKey + '\n', { mode: 0o600 });
  const knownHostsFile = join(dir, `${name}_known_hosts`);
  writeFileSync(knownHostsFile, sshd.knownHostsLine + '\n', { mode: 0o600 });
  const remote = {
    user: sshd.user,
    host: address,
    port: sshd.port,
    identityFile,
    knownHostsFile,
    bindAddress,
  };
  const argv = buildPullArgv({ remote, source: '/', excludes: [], dest: '/nowhere/' });
  const sshCommand = argv[argv.indexOf('-e') + 1]!;
  return { sshd, remote, sshWords: sshCommand.split(' ') };
}
