import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Restores into a scratch directory below `work` with `restore(dir)` (which returns where the
 * file landed), reads the file and removes the directory again.
 */
export async function readRestored(
  work: string,
  restore: (dir: string) => Promise<string>,
): Promise<Buffer> {
  const dir = mkdtempSync(join(work, 'restored-'));
  try {
    return await readFile(await restore(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
