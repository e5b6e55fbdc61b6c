import type { ClientConfig, HostConfig } from '../config/client-schema.js';
import { readIdentityKey } from '../config/identity.js';
import { PullbackError } from '../errors.js';
import type { BackupRunResult } from '../handoff/backup-client.js';
import { changeIndexFile } from '../change-index/index-file.js';
import { clientStateDir } from '../config/paths.js';
import { runBackupWithReach } from '../tunnel/reach.js';
import type { OneShotLauncher } from '../handoff/oneshot-launcher.js';
import type { RunningBackup } from './host-runtime.js';
import { NO_PROGRESS, transferProgress } from '../pull/progress.js';

/** One backup run as the controller starts it: what it tracks, and the run itself. */
export function newRunningBackup(trigger: RunningBackup['trigger'], now: number): RunningBackup {
  return {
    trigger,
    startedAt: now,
    startedReal: Date.now(),
    abort: new AbortController(),
    progress: { stage: 'connecting', ...NO_PROGRESS },
    done: Promise.resolve(),
  };
}

/**
 * Runs the backup of `run` to `host`, keeping `run.progress` current and calling `onChange`
 * after each change. A cancel before the transfer starts stops the run at its next stage (and
 * the one-shot sshd with it); during the transfer the abort signal stops rsync.
 */
export function performBackup(options: {
  env: NodeJS.ProcessEnv;
  config: ClientConfig;
  host: HostConfig;
  launcher: OneShotLauncher;
  run: RunningBackup;
  onChange(kind: 'stage' | 'progress'): void;
  /** a line for the agent's log (the tunnel chosen for a network, say) */
  log?: (line: string) => void;
}): Promise<BackupRunResult> {
  const { run, onChange } = options;
  const { signal } = run.abort;
  return runBackupWithReach(
    {
      config: options.config,
      host: options.host,
      identityKey: readIdentityKey(options.env).privateKey,
      launcher: options.launcher,
      indexFile: changeIndexFile(options.host.name, options.env),
      signal,
      onStage: (stage) => {
        if (signal.aborted && stage !== 'transferring') {
          throw new PullbackError('CANCELLED', 'cancelled by the user');
        }
        run.progress = { ...run.progress, stage };
        onChange('stage');
      },
      onProgress: (p) => {
        run.progress = { stage: 'transferring', ...transferProgress(p) };
        onChange('progress');
      },
    },
    { reach: options.host.reach, stateDir: clientStateDir(options.env), log: options.log },
  );
}
