import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { watchNetwork } from '../../core/agent/network-watcher.js';

/** A network change (here: a loopback address coming and going) reaches the agent promptly. */
test('the network watcher reports an address change within seconds, once per burst', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root: adds and removes a loopback address to make a network change');
    return;
  }
  const address = `127.${(process.pid % 200) + 20}.77.${(process.pid % 250) + 1}/32`;
  let changes = 0;
  const problems: string[] = [];
  const watcher = watchNetwork({
    debounceMs: 300,
    onChange: () => changes++,
    onProblem: (m) => problems.push(m),
  });
  try {
    await new Promise((r) => setTimeout(r, 500)); // let `ip monitor` subscribe
    assert.equal(changes, 0);
    const add = spawnSync('ip', ['addr', 'add', address, 'dev', 'lo'], { encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
    spawnSync('ip', ['addr', 'del', address, 'dev', 'lo']);
    const start = Date.now();
    while (changes === 0 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(changes, 1, `one change reported (problems: ${problems.join('; ')})`);
  } finally {
    watcher.stop();
    spawnSync('ip', ['addr', 'del', address, 'dev', 'lo']);
  }
});
