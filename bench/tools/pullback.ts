import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asPullbackError } from '../../core/errors.js';
import { runBackup, type BackupRunOptions } from '../../core/handoff/backup-client.js';
import { launchUserOneShot } from '../../core/handoff/launch-user-oneshot.js';
import {
  makeTestClient,
  startBackupHost,
  type BackupHost,
  type TestClient,
} from '../../test/support/backup-host.js';
import { btrfsExclusiveBytes } from '../disk-usage.js';
import { createBtrfsVolume, type BtrfsVolume } from '../btrfs-volume.js';
import { RepositorySize } from './repository-size.js';
import type { BenchTool, StageMarks } from './types.js';
import { StageClock } from '../stage-clock.js';

export interface PullbackToolOptions {
  backend: 'hardlink' | 'btrfs';
  source: string;
  work: string;
  /** btrfs: the loop device's size */
  volumeBytes: number;
}

const CHANGE_INDEX_FILE = 'change-index';

/** One backup through the whole handoff, exactly as `pullback backup` does it in user mode. */
export function backupOnce(
  client: TestClient,
  watch: Pick<BackupRunOptions, 'onStage' | 'onProgress' | 'reach'> = {},
) {
  return runBackup({
    config: client.config,
    host: client.config.hosts[0]!,
    identityKey: client.identityKey,
    launcher: launchUserOneShot,
    // as `pullback backup` and the agent run it: incrementals send what the change index says
    indexFile: join(client.dir, CHANGE_INDEX_FILE),
    ...watch,
  });
}

/**
 * Pullback on a throwaway backup host (real sshd on 127.0.0.3), client on 127.0.0.2: the whole
 * handoff (connect, one-time keys, one-shot sshd, request, pull, promotion) per backup.
 */
export class PullbackTool implements BenchTool {
  readonly id: string;
  readonly label: string;
  private host: BackupHost | undefined;
  private volume: BtrfsVolume | undefined;
  private client: TestClient | undefined;
  private lastSnapshot = '';
  private stages: StageMarks | undefined;
  private unchanged = false;
  private readonly size = new RepositorySize(() => join(this.storage(), this.client!.name));

  constructor(private readonly o: PullbackToolOptions) {
    this.id = `pullback-${o.backend}`;
    this.label = `Pullback (${o.backend})`;
  }

  private storage(): string {
    return this.host!.storage;
  }

  async setup(): Promise<string | undefined> {
    let storage = join(this.o.work, `${this.id}-storage`);
    if (this.o.backend === 'btrfs') {
      const volume = await createBtrfsVolume(this.o.work, this.o.volumeBytes);
      if (typeof volume === 'string') return volume;
      this.volume = volume;
      storage = volume.mountPoint;
    }
    mkdirSync(storage, { recursive: true });
    this.host = await startBackupHost({ storage, backend: this.o.backend });
    if (this.o.backend === 'btrfs') {
      // the backend may be missing or broken on this build: one tiny backup says so up front
      const probe = join(this.o.work, 'btrfs-probe');
      mkdirSync(probe, { recursive: true });
      writeFileSync(join(probe, 'probe.txt'), 'probe\n');
      const client = await makeTestClient(this.host, { sources: [probe], name: 'bench-probe' });
      try {
        await backupOnce(client);
      } catch (err) {
        return `the btrfs backend failed a one-file backup: ${asPullbackError(err).toLine()}`;
      } finally {
        rmSync(client.dir, { recursive: true, force: true });
      }
    }
    return undefined;
  }

  async freshRepository(run: number): Promise<void> {
    this.dropClient();
    if (this.volume) await this.volume.reformat();
    this.client = await makeTestClient(this.host!, {
      sources: [this.o.source],
      name: `bench-${this.o.backend}-r${run}`,
    });
    if (!this.volume) {
      mkdirSync(join(this.storage(), this.client.name), { recursive: true });
      await this.size.reset();
    }
  }

  async backup(onProgress: (detail: string) => void): Promise<void> {
    const clock = new StageClock();
    const result = await backupOnce(this.client!, {
      onStage: (stage) => {
        if (stage === 'transferring') clock.accepted();
        onProgress(stage);
      },
      onProgress: (p) => {
        clock.progress();
        onProgress(`${p.percent.toFixed(0)} %`);
      },
    });
    this.stages = { ...clock.end(), pass: result.pass };
    this.unchanged = result.unchanged;
    this.lastSnapshot = join(this.storage(), this.client!.name, 'snapshots', result.snapshot);
  }

  lastStages(): StageMarks | undefined {
    return this.stages;
  }

  /** A snapshot mirrors the client's absolute paths: `<snapshot>/<source>/<path>`. */
  readLatest(relativePath: string): Promise<Buffer> {
    return readFile(join(this.lastSnapshot, this.o.source, relativePath));
  }

  async measureAdded(): Promise<number> {
    // nothing changed: no new snapshot (the newest one's exclusive bytes are not this run's)
    if (this.o.backend === 'btrfs' && this.unchanged) return 0;
    // a btrfs snapshot shares extents with the previous one: du would count them again
    if (this.o.backend === 'btrfs') return btrfsExclusiveBytes(this.lastSnapshot, this.storage());
    return this.size.added();
  }

  private dropClient(): void {
    if (!this.client) return;
    if (!this.volume)
      rmSync(join(this.storage(), this.client.name), { recursive: true, force: true });
    rmSync(this.client.dir, { recursive: true, force: true });
    this.client = undefined;
  }

  async teardown(): Promise<void> {
    this.dropClient();
    await this.host?.stop();
    await this.volume?.destroy();
  }

  /** The backup host, for the handoff-overhead measurement (hardlink only). */
  backupHost(): BackupHost | undefined {
    return this.host;
  }
}
