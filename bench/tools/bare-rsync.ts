import { mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPullArgv } from '../../core/pull/rsync-argv.js';
import { runPull } from '../../core/pull/run-pull.js';
import { startPeerLogin, type PeerLogin } from '../peer-login.js';
import { RepositorySize } from './repository-size.js';
import type { BenchTool, StageMarks } from './types.js';
import { StageClock } from '../stage-clock.js';

/**
 * The physical floor of the approach: the backup host's rsync pulls from a plain sshd on the
 * client address with exactly Pullback's flags (buildPullArgv) and --link-dest to the previous
 * snapshot, with no handoff, no one-shot sshd, no gate and no promotion.
 */
export class BareRsyncTool implements BenchTool {
  readonly id: string;
  readonly label: string;
  private login: PeerLogin | undefined;
  private repo = '';
  private snapshots = 0;
  private stages: StageMarks | undefined;
  private readonly size = new RepositorySize(() => this.repo);

  /**
   * `flags: 'minimal'` runs `rsync -a --delete` instead (same ssh, same --link-dest): what
   * Pullback's flags (-HAXS, --fake-super, --numeric-ids, --no-inc-recursive, …) cost on their own.
   */
  constructor(
    private readonly o: { source: string; work: string; flags?: 'pullback' | 'minimal' },
  ) {
    this.id = o.flags === 'minimal' ? 'rsync-minimal' : 'rsync';
    this.label =
      o.flags === 'minimal'
        ? 'rsync -a (minimal flags, --link-dest)'
        : 'bare rsync (same flags, --link-dest)';
  }

  async setup(): Promise<string | undefined> {
    this.login = await startPeerLogin(this.o.work, `${this.id}-client`, '127.0.0.2', '127.0.0.3');
    return undefined;
  }

  async freshRepository(run: number): Promise<void> {
    if (this.repo) rmSync(this.repo, { recursive: true, force: true });
    this.repo = join(this.o.work, `${this.id}-repo-r${run}`);
    this.snapshots = 0;
    mkdirSync(this.repo, { recursive: true });
    await this.size.reset();
  }

  async backup(onProgress: (detail: string) => void): Promise<void> {
    const previous = this.snapshots > 0 ? join(this.repo, `snap-${this.snapshots}`) : undefined;
    this.snapshots++;
    const argv = buildPullArgv({
      remote: this.login!.remote,
      source: this.o.source,
      excludes: [],
      dest: join(this.repo, `snap-${this.snapshots}`) + '/',
      ...(previous ? { linkDest: previous } : {}),
    });
    const clock = new StageClock();
    const outcome = await runPull(this.o.flags === 'minimal' ? minimalFlags(argv) : argv, {
      onProgress: (p) => {
        clock.progress();
        onProgress(`${p.percent.toFixed(0)} %`);
      },
    });
    this.stages = clock.end();
    if (outcome.error) throw outcome.error;
  }

  lastStages(): StageMarks | undefined {
    return this.stages;
  }

  readLatest(relativePath: string): Promise<Buffer> {
    return readFile(join(this.repo, `snap-${this.snapshots}`, relativePath));
  }

  measureAdded(): Promise<number> {
    return this.size.added();
  }

  async teardown(): Promise<void> {
    if (this.repo) rmSync(this.repo, { recursive: true, force: true });
    await this.login?.sshd.stop();
  }

  /** The peer login, for timing a bare pull of the handoff-overhead tree. */
  peer(): PeerLogin | undefined {
    return this.login;
  }
}

/** The same pull with `rsync -a --delete` (and progress, for the stage times) as its only flags. */
function minimalFlags(argv: string[]): string[] {
  const linkDest = argv.filter((a) => a.startsWith('--link-dest='));
  const ssh = argv.slice(argv.indexOf('-e'), argv.indexOf('-e') + 2);
  const endpoints = argv.slice(argv.indexOf('--'));
  return [argv[0]!, '-a', '--delete', '--info=progress2', ...linkDest, ...ssh, ...endpoints];
}
