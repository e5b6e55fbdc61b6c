import { test, before, after } from 'node:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBackupHost, type BackupHost } from '../support/backup-host.js';
import { makeLoopFilesystem, type LoopFilesystem } from '../support/loop-fs.js';
import { propertySettings, runChangeProperty } from '../support/change-property.js';

const isRoot = process.getuid?.() === 0;
let fs: LoopFilesystem | undefined;
let host: BackupHost | undefined;

before(async () => {
  if (!isRoot) return;
  fs = makeLoopFilesystem('btrfs', 1024);
  const storage = join(fs.mountPoint, 'storage');
  mkdirSync(storage);
  host = await startBackupHost({ storage, backend: 'btrfs', retention: '*:all' });
});
after(async () => {
  await host?.stop();
  fs?.cleanup();
});

test(
  'incrementals keep the newest snapshot identical to the source and older ones untouched (btrfs, random changes)',
  { skip: isRoot ? false : 'needs root (loop device for btrfs)' },
  async () => {
    const settings = propertySettings();
    for (const seed of settings.seeds) {
      const run = await runChangeProperty(host!, { ...settings, seed });
      console.log(`# btrfs property: ${JSON.stringify(run)}`);
    }
  },
);
