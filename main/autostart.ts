import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Start on login: an XDG autostart entry, ~/.config/autostart/pullback.desktop. */

export function autostartFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'autostart', 'pullback.desktop');
}

/** Quotes one Exec argument as the Desktop Entry spec asks (reserved characters → "…"). */
export function desktopExecArg(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  const escaped = arg.replace(/["`$\\]/g, (c) => `\\${c}`);
  // In a desktop file, a backslash itself is escaped once more (string-value escaping).
  return `"${escaped.replace(/\\/g, '\\\\')}"`;
}

export function autostartDesktopEntry(exec: string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Pullback',
    'Comment=Backs up this machine to your backup host',
    `Exec=${exec.map(desktopExecArg).join(' ')}`,
    'Icon=pullback',
    'Terminal=false',
    'Categories=Utility;',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** Writes or removes the entry; returns the file's path. */
export function setStartOnLogin(
  enabled: boolean,
  exec: string[],
  env: NodeJS.ProcessEnv = process.env,
): string {
  const file = autostartFile(env);
  if (enabled) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, autostartDesktopEntry(exec), { mode: 0o644 });
  } else if (existsSync(file)) {
    rmSync(file);
  }
  return file;
}
