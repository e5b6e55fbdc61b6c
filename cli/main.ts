import { main } from './dispatch.js';

// The `pullback` program: dispatch, print, exit with a documented code.
process.exitCode = await main(process.argv.slice(2));
