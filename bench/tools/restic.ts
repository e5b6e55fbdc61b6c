import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execTool } from '../exec.js';
import { startPeerLogin, type PeerLogin } from '../peer-login.js';
import { readRestored } from './read-restored.js';
import { RepositorySize } from './repository-size.js';
import type { BenchTool } from './types.js';

const RESTIC = '/usr/bin/restic';

/**
 * restic (Debian's package) pushing to an sftp repository on the backup host's address, over
 * the same ssh options as Pullback. restic always encrypts; compression is its default (auto).
 */
export class ResticTool implements BenchTool {
  readonly id = 'restic';
  readonly label = 'restic (sftp, encrypted)';
  private login: PeerLogin | undefined;
  private repo = '';
  private cache = '';
  private readonly size = new RepositorySize(() => this.repo);

  constructor(private readonly o: { source: string; work: string }) {}

  async setup(): Promise<string | undefined> {
    if (!existsSync(RESTIC)) return `${RESTIC} is missing (npm run setup installs it)`;
    this.login = await startPeerLogin(this.o.work, 'restic', '127.0.0.3', '127.0.0.2');
    return undefined;
  }

  private restic(args: string[]) {
    const { user, host } = this.login!.remote;
    const sftp = [...this.login!.sshWords, `${user}@${host}`, '-s', 'sftp'].join(' ');
    // restic reads -o as comma-separated values (CSV): quoted, the ssh options' commas stay
    return execTool(RESTIC, ['-o', `"sftp.command=${sftp}"`, ...args], {
      env: {
        ...process.env,
        RESTIC_REPOSITORY: `sftp:${user}@${host}:${this.repo}`,
        RESTIC_PASSWORD: 'pullback-bench',
        RESTIC_CACHE_DIR: this.cache,
      },
    });
  }

  async freshRepository(run: number): Promise<void> {
    this.removeRepository();
    this.repo = join(this.o.work, `restic-repo-r${run}`);
    this.cache = join(this.o.work, `restic-cache-r${run}`);
    await this.restic(['init', '--quiet']);
    await this.size.reset();
  }

  async backup(onProgress: (detail: string) => void): Promise<void> {
    onProgress('restic backup');
    await this.restic(['backup', '--quiet', '--host', 'bench', this.o.source]);
  }

  readLatest(relativePath: string): Promise<Buffer> {
    const path = join(this.o.source, relativePath);
    return readRestored(this.o.work, async (dir) => {
      await this.restic(['restore', 'latest', '--quiet', '--target', dir, '--include', path]);
      return join(dir, path);
    });
  }

  measureAdded(): Promise<number> {
    return this.size.added();
  }

  private removeRepository(): void {
    for (const dir of [this.repo, this.cache])
      if (dir) rmSync(dir, { recursive: true, force: true });
  }

  async teardown(): Promise<void> {
    this.removeRepository();
    await this.login?.sshd.stop();
  }
}
