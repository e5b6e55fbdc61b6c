import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The few filesystem steps crash safety rests on: a rename is atomic, and it is durable only
 * once the directory holding it has been fsynced.
 */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `file` whole or not at all: temp file in the same dir, fsync, rename, fsync dir. */
export async function writeFileAtomic(file: string, data: string, mode = 0o600): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  const handle = await open(temp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  await fsyncPath(dirname(file));
}

/** writeFileAtomic for synchronous callers (config files, authorized_keys, agent state). */
export function writeFileAtomicSync(file: string, data: string, mode = 0o600): void {
  const temp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  const fd = openSync(temp, 'w', mode);
  try {
    fchmodSync(fd, mode); // whatever the umask, or a stale temp file's mode
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Points the symlink `link` at `target` atomically: a new link under a temp name, renamed over. */
export async function replaceSymlinkAtomic(target: string, link: string): Promise<void> {
  const temp = join(dirname(link), `.${basename(link)}.tmp-${process.pid}`);
  await unlink(temp).catch(() => {});
  await symlink(target, temp);
  try {
    await rename(temp, link);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  await fsyncPath(dirname(link));
}
