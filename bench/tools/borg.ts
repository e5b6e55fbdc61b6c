import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execTool } from '../exec.js';
import { startPeerLogin, type PeerLogin } from '../peer-login.js';
import { readRestored } from './read-restored.js';
import { RepositorySize } from './repository-size.js';
import type { BenchTool } from './types.js';

const BORG = '/usr/bin/borg';

/**
 * borg (Debian's package) pushing to an ssh repository (`borg serve` on the backup host's
 * address), over the same ssh options as Pullback, `--encryption none`, default compression (lz4).
 */
export class BorgTool implements BenchTool {
  readonly id = 'borg';
  readonly label = 'borg (ssh, no encryption)';
  private login: PeerLogin | undefined;
  private repo = '';
  private base = '';
  private archives = 0;
  private readonly size = new RepositorySize(() => this.repo);

  constructor(private readonly o: { source: string; work: string }) {}

  async setup(): Promise<string | undefined> {
    if (!existsSync(BORG)) return `${BORG} is missing (npm run setup installs it)`;
    this.login = await startPeerLogin(this.o.work, 'borg', '127.0.0.3', '127.0.0.2');
    return undefined;
  }

  private borg(args: string[], cwd?: string) {
    const { user, host } = this.login!.remote;
    return execTool(BORG, args, {
      env: {
        ...process.env,
        // the port is in the ssh words (-p), so not in the URL
        BORG_RSH: this.login!.sshWords.join(' '),
        BORG_REPO: `ssh://${user}@${host}${this.repo}`,
        BORG_BASE_DIR: this.base,
        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
        BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
      },
      cwd,
    });
  }

  async freshRepository(run: number): Promise<void> {
    this.removeRepository();
    this.repo = join(this.o.work, `borg-repo-r${run}`);
    this.base = join(this.o.work, `borg-base-r${run}`);
    this.archives = 0;
    await this.borg(['init', '--encryption', 'none']);
    await this.size.reset();
  }

  async backup(onProgress: (detail: string) => void): Promise<void> {
    onProgress('borg create');
    this.archives++;
    await this.borg(['create', `::archive-${this.archives}`, this.o.source]);
  }

  readLatest(relativePath: string): Promise<Buffer> {
    // borg stores paths without the leading slash and extracts into the working directory
    const path = join(this.o.source, relativePath).replace(/^\/+/, '');
    return readRestored(this.o.work, async (dir) => {
      await this.borg(['extract', `::archive-${this.archives}`, path], dir);
      return join(dir, path);
    });
  }

  measureAdded(): Promise<number> {
    return this.size.added();
  }

  private removeRepository(): void {
    for (const dir of [this.repo, this.base])
      if (dir) rmSync(dir, { recursive: true, force: true });
  }

  async teardown(): Promise<void> {
    this.removeRepository();
    await this.login?.sshd.stop();
  }
}
