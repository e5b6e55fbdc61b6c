#!/usr/bin/env node
// Builds the Electron app's parts into dist/: main (Node ESM), the sandboxed preload (CommonJS,
// dist/preload/preload.cjs), the renderer pages (browser ES modules) plus their HTML and CSS,
// and the tray icons. `npm run build` runs it after the core build.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', '.bin', 'tsc');

for (const config of [
  'tsconfig.electron.json',
  'tsconfig.preload.json',
  'tsconfig.renderer.json',
]) {
  const r = spawnSync(tsc, ['-p', join(root, config)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build-ui: tsc -p ${config} failed`);
    process.exit(1);
  }
}

function copyMatching(from, to, pattern) {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (pattern.test(name)) copyFileSync(join(from, name), join(to, name));
  }
}
copyMatching(join(root, 'renderer'), join(root, 'dist', 'renderer'), /\.(html|css)$/);

// The pure core modules the pages share with the CLI (one implementation, no twin in renderer/).
// A page's `import '../core/format.js'` resolves, on the pullback://app/ origin, to
// /core/format.js: that is dist/renderer/core/format.js, so the module is copied there.
const SHARED_WITH_RENDERER = ['core/format.js', 'core/safe-text.js'];
for (const file of SHARED_WITH_RENDERER) {
  mkdirSync(dirname(join(root, 'dist', 'renderer', file)), { recursive: true });
  copyFileSync(join(root, 'dist', file), join(root, 'dist', 'renderer', file));
}
copyMatching(join(root, 'main', 'icons'), join(root, 'dist', 'main', 'icons'), /\.png$/);
