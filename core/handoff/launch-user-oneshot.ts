import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { PullbackError } from '../errors.js';
import { join } from 'node:path';
import { forcedCommandLine } from '../ssh/forced-command.js';
import { gateArgs } from '../gate/run.js';
import { ONESHOT_FILES } from '../ssh/sshd-config.js';
import {
  cleanStaleOneShotDirs,
  defaultRuntimeBase,
  makeOneShotDir,
  startOneShotSshd,
  writeSecretFile,
} from '../ssh/oneshot.js';
import { pullbackCommand } from '../self-command.js';
import { listFileName } from '../change-index/list-file.js';
import type { OneShotLauncher } from './oneshot-launcher.js';

/** User mode: the one-shot sshd runs as the user and the gate lets it read what the user can. */
export const launchUserOneShot: OneShotLauncher = async (request) => {
  for (const source of request.sources) {
    if (!existsSync(source)) {
      throw new PullbackError(
        'BAD_CONFIG',
        `source ${source} does not exist (unmounted disk?); fix the sources or mount it`,
      );
    }
  }
  const base = defaultRuntimeBase();
  cleanStaleOneShotDirs(base);
  const user = userInfo().username;
  const dir = makeOneShotDir(base);
  const gateCommand = forcedCommandLine(
    pullbackCommand(
      ...gateArgs(request.sources, {
        refusalLog: join(dir, ONESHOT_FILES.refusals),
        listDir: dir,
      }),
    ),
  );
  const oneShot = await startOneShotSshd({
    dir,
    bindAddress: request.bindAddress,
    port: 0,
    allowFrom: request.allowFrom,
    user,
    clientPublicKey: request.clientPublicKey,
    hostPrivateKey: request.hostPrivateKey,
    gateCommand,
    deadlineMs: request.deadlineMs,
    tunnel: request.tunnel ?? false,
  });
  // the backup host connects only after our request, which waits for this
  for (const list of request.lists ?? [])
    writeSecretFile(join(dir, listFileName(list.tree)), list.data);
  return {
    port: oneShot.port,
    user,
    listsWritten: request.lists !== undefined,
    done: oneShot.done,
    gateRefusals: async () => (await oneShot.done).gateRefusals ?? [],
    stop: async () => {
      await oneShot.kill('the handoff ended');
      await oneShot.done;
    },
    ...(request.tunnel ? { attachTunnel: oneShot.attach } : {}),
  };
};
