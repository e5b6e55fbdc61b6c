import { apparentBytes, syncDisks } from '../disk-usage.js';

/** Storage added per backup as the change in `du -sb` of the whole repository. */
export class RepositorySize {
  private last = 0;

  constructor(private readonly path: () => string) {}

  /** The size now is the baseline (an empty or freshly initialised repository). */
  async reset(): Promise<void> {
    await syncDisks();
    this.last = await apparentBytes(this.path());
  }

  async added(): Promise<number> {
    await syncDisks();
    const now = await apparentBytes(this.path());
    const added = now - this.last;
    this.last = now;
    return added;
  }
}
