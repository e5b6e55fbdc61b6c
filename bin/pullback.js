#!/usr/bin/env node
// Entry point for `npx pullback` / the installed binary: runs the compiled CLI.
import '../dist/cli/main.js';
