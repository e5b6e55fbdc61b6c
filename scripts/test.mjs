#!/usr/bin/env node
// `npm test`: lint, format check, type-checks, then every test file under dist/test with
// node's own test runner. Ends with the runner's summary (# pass / # fail).
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function step(title, cmd, args) {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`== ${title} failed`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

step('lint (typescript-eslint)', bin('eslint'), ['.']);
step('format (prettier --check)', bin('prettier'), ['--check', '.']);
step('type-check (core, cli, tests)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
for (const extra of ['tsconfig.electron.json', 'tsconfig.preload.json', 'tsconfig.renderer.json']) {
  if (existsSync(join(root, extra)))
    step(`type-check (${extra})`, bin('tsc'), ['-p', extra, '--noEmit']);
}

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

const only = process.argv.slice(2);
let files = testFiles(join(root, 'dist', 'test'));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
console.log(`\n== tests (${files.length} files)`);
const tap = join(root, 'dist', 'test-results.tap');
const r = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    // a hung test fails after 10 minutes instead of hanging CI
    '--test-timeout=600000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } },
);
// One plain closing line, whatever the reporter printed above it.
const summary = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
const count = (name) => Number(summary.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
const failed = count('fail') + count('cancelled');
const passed = count('pass');
console.log(`\n${passed} passed, ${failed} failed, ${count('skipped')} skipped`);
process.exit(r.status === 0 && failed === 0 ? 0 : 1);
