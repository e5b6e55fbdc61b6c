import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
const TOOLS = ['pullback-hardlink', 'pullback-btrfs', 'rsync', 'rsync-minimal', 'restic', 'borg'];
const PHASES = ['full', 'no-change', 'one-percent'] as const;

interface QuickResult {
  sizes: {
    tree: { files: number };
    tools: {
      id: string;
      skipped?: string;
      seconds: Record<string, number[]>;
      added: Record<string, number[]>;
      stages: Record<string, { end: number; firstProgress?: number }[]>;
      rewriteDetected: boolean[];
    }[];
  }[];
  handoff: { firstByte?: number; skipped?: string };
  tunnel?: { skipped?: string; rows?: { runs: Record<string, { seconds: number[] }> }[] };
  targets: { target: string; verdict: string }[];
}

test('bench --quick: every tool produces a row for every phase, the rewrite check, the handoff overhead and a tunnel-vs-direct row (smoke, not speed)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-bench-quick-'));
  try {
    const out = join(dir, 'results.md');
    const json = join(dir, 'results.json');
    const r = spawnSync(process.execPath, [BENCH, '--quick', '--out', out, '--json', json], {
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(r.status, 0, `bench --quick failed:\n${r.stderr}`);
    const result = JSON.parse(readFileSync(json, 'utf8')) as QuickResult;
    assert.equal(result.sizes.length, 1);
    const size = result.sizes[0]!;
    assert.equal(size.tree.files, 300);
    assert.deepEqual(
      size.tools.map((t) => t.id),
      TOOLS,
    );
    for (const tool of size.tools) {
      // btrfs needs root and a loop device; elsewhere it must say why it was skipped
      if (tool.id === 'pullback-btrfs' && process.getuid?.() !== 0) {
        assert.match(tool.skipped ?? '', /root/);
        continue;
      }
      assert.equal(tool.skipped, undefined, `${tool.id} did not run: ${tool.skipped}`);
      for (const phase of PHASES) {
        assert.equal(tool.seconds[phase]?.length, 1, `${tool.id} ${phase}: no time`);
        assert.ok(tool.seconds[phase]![0]! > 0, `${tool.id} ${phase}: time not positive`);
        assert.equal(tool.added[phase]?.length, 1, `${tool.id} ${phase}: no storage figure`);
      }
      assert.ok(tool.added.full![0]! > 0, `${tool.id}: the full backup added nothing`);
      assert.equal(tool.rewriteDetected.length, 1, `${tool.id}: no same-size rewrite check`);
    }
    // restic and borg compare ctimes: the same-size, same-mtime rewrite must reach them
    for (const id of ['restic', 'borg'])
      assert.deepEqual(size.tools.find((t) => t.id === id)!.rewriteDetected, [true], id);
    // where a Pullback full backup's time went: the pull's first progress line is in it
    const hardlink = size.tools.find((t) => t.id === 'pullback-hardlink')!;
    assert.ok((hardlink.stages.full?.[0]?.firstProgress ?? 0) > 0, 'no stage times');
    assert.ok((result.handoff.firstByte ?? 0) > 0, 'no handoff overhead measured');
    assert.ok(result.targets.some((t) => t.target.startsWith('handoff')));
    // one tiny tree backed up both ways: the tunnel's bench row runs in CI
    assert.equal(result.tunnel?.skipped, undefined, `tunnel row: ${result.tunnel?.skipped}`);
    assert.equal(result.tunnel?.rows?.length, 1, 'no tunnel-vs-direct row');
    for (const reach of ['direct', 'tunnel'])
      assert.ok((result.tunnel.rows[0]!.runs[reach]?.seconds[0] ?? 0) > 0, `no ${reach} time`);
    assert.ok(result.targets.some((t) => t.target.startsWith('tunnel ≥')));
    const markdown = readFileSync(out, 'utf8');
    for (const label of [
      'Pullback (hardlink)',
      'bare rsync',
      'restic',
      'borg',
      'same-size rewrite detected?',
      'Where the time goes',
      '## Tunnel mode',
      '## Targets',
    ]) {
      assert.ok(markdown.includes(label), `the results page lacks ${label}`);
    }
    assert.ok(r.stdout.includes('| tool | full |'), 'the table is not printed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
