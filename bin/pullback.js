#!/usr/bin/env node
// Entry point of the installed `pullback` (npm global bin, the .deb's /usr/bin/pullback, npx):
// a clear line on a too-old Node, then the compiled CLI.
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  console.error(
    `MISSING_TOOL: pullback needs Node.js 20 or newer, this is ${process.version} (${process.execPath}); see docs/install.md`,
  );
  process.exit(2);
}
await import('../dist/cli/main.js');
