import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  autostartDesktopEntry,
  autostartFile,
  desktopExecArg,
  setStartOnLogin,
} from '../../main/autostart.js';

test('start on login: the desktop entry runs the app, with reserved characters quoted', () => {
  const entry = autostartDesktopEntry(['/opt/Pullback/pullback', '--hidden']);
  assert.match(entry, /^\[Desktop Entry\]\n/);
  assert.match(entry, /^Type=Application$/m);
  assert.match(entry, /^Name=Pullback$/m);
  assert.match(entry, /^Exec=\/opt\/Pullback\/pullback --hidden$/m);
  assert.match(entry, /^X-GNOME-Autostart-enabled=true$/m);
  assert.equal(desktopExecArg('/home/a b/Pullback.AppImage'), '"/home/a b/Pullback.AppImage"');
  assert.equal(desktopExecArg('say "$HOME"'), '"say \\\\"\\\\$HOME\\\\""');
});

test('start on login: writes ~/.config/autostart/pullback.desktop when on and removes it when off', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'pullback-autostart-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const env = { XDG_CONFIG_HOME: join(home, '.config') };
  const file = autostartFile(env);
  assert.equal(file, join(home, '.config', 'autostart', 'pullback.desktop'));
  assert.equal(setStartOnLogin(true, ['/usr/bin/pullback-tray'], env), file);
  assert.match(readFileSync(file, 'utf8'), /^Exec=\/usr\/bin\/pullback-tray$/m);
  assert.equal(statSync(file).mode & 0o777, 0o644);
  setStartOnLogin(false, [], env);
  assert.equal(existsSync(file), false);
  setStartOnLogin(false, [], env); // already off: no error
});
