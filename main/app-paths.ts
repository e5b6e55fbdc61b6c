import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the built pieces sit, relative to this file (dist/main/app-paths.js). */
const distMain = dirname(fileURLToPath(import.meta.url));

export const RENDERER_DIR = join(distMain, '..', 'renderer');
export const PRELOAD_FILE = join(distMain, '..', 'preload', 'preload.cjs');
export const TRAY_ICONS_DIR = join(distMain, 'icons');
