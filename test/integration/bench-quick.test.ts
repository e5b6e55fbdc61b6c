import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
const TOOLS = ['pullback-hardlink', 'pullback-btrfs', 'rsync', 'restic', 'borg'];
const PHASES = ['full', 'no-change', 'one-percent'] as const;

interface QuickResult {
  tools: {
    id: string;
    skipped?: string;
    seconds: Record<string, number[]>;
    added: Record<string, number[]>;
  }[];
  handoff: { firstByte?: number; skipped?: string };
  targets: { target: string; verdict: string }[];
}

test('bench --quick: every tool produces a row for every phase, plus the handoff overhead (smoke, not speed)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-bench-quick-'));
  try {
    const out = join(dir, 'results.md');
    const json = join(dir, 'results.json');
    const r = spawnSync(process.execPath, [BENCH, '--quick', '--out', out, '--json', json], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `bench --quick failed:\n${r.stderr}`);
    const result = JSON.parse(readFileSync(json, 'utf8')) as QuickResult;
    assert.deepEqual(
      result.tools.map((t) => t.id),
      TOOLS,
    );
    for (const tool of result.tools) {
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
    }
    assert.ok((result.handoff.firstByte ?? 0) > 0, 'no handoff overhead measured');
    assert.equal(result.targets.length, 8);
    const markdown = readFileSync(out, 'utf8');
    for (const label of ['Pullback (hardlink)', 'bare rsync', 'restic', 'borg', '## Targets']) {
      assert.ok(markdown.includes(label), `the results page lacks ${label}`);
    }
    assert.ok(r.stdout.includes('| tool | phase |'), 'the table is not printed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
