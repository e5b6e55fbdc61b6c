import { test, before, after } from 'node:test';
import { startBackupHost, type BackupHost } from '../support/backup-host.js';
import { propertySettings, runChangeProperty } from '../support/change-property.js';

let host: BackupHost;
before(async () => {
  host = await startBackupHost({ retention: '*:all' });
});
after(async () => {
  await host?.stop();
});

test('incrementals keep the newest snapshot identical to the source and older ones untouched (hardlink, random changes)', async () => {
  const settings = propertySettings();
  for (const seed of settings.seeds) {
    const run = await runChangeProperty(host, { ...settings, seed });
    console.log(`# hardlink property: ${JSON.stringify(run)}`);
  }
});
