import { parseArgs } from 'node:util';
import { PullbackError } from '../core/errors.js';

export interface BenchOptions {
  /** the tree sizes, in order: one tree and one round of every tool per size */
  files: number[];
  bigFiles: number;
  bigFileBytes: number;
  appendBytes: number;
  runs: number;
  handoffSamples: number;
  /** full backups per mode in the tunnel-vs-direct comparison (bench/tunnel.ts); 0: none */
  tunnelRuns: number;
  seed: number;
  quick: boolean;
  /** where the Markdown results go; undefined: bench/results/<date>.md (not with --quick) */
  out: string | undefined;
  /** also write the results as JSON here (the smoke test reads it) */
  json: string | undefined;
  /** only these tool ids (default: all) */
  tools: string[] | undefined;
  /** where the trees and repositories go (default: a new directory in the system's tmpdir) */
  work: string | undefined;
}

const MiB = 1024 * 1024;

export const USAGE = `usage: npm run bench -- [--quick] [--files N[,N…]] [--runs N] [--handoff-samples N]
                          [--seed N] [--out FILE.md] [--json FILE.json] [--tools a,b] [--work DIR]
                          [--tunnel-runs N]
  --quick   smoke run: 300 files + one 2 MiB file, 1 run, 3 handoff samples, tunnel vs direct
            on the 2 MiB file only (results not saved unless --out is given)
  --files   small files in the tree; several sizes (10000,50000,200000) run one after the
            other in one invocation, and the results show how each tool's time grows
  --work    put the trees and repositories below DIR (e.g. a tmpfs, to take the disk out)
  --tunnel-runs  full backups per mode in the tunnel-vs-direct rows (default: --runs; 0: none)
  tools: pullback-hardlink, pullback-btrfs, rsync, rsync-minimal, restic, borg`;

function count(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new PullbackError('BAD_ARGS', `--${name} must be a whole number ≥ ${min}, got ${value}`);
  }
  return n;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        files: { type: 'string' },
        runs: { type: 'string' },
        'handoff-samples': { type: 'string' },
        'tunnel-runs': { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'string' },
        tools: { type: 'string' },
        work: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new PullbackError('BAD_ARGS', `${(err as Error).message}\n${USAGE}`);
  }
  if (parsed.help) throw new PullbackError('BAD_ARGS', USAGE);
  const quick = parsed.quick === true;
  const runs = count(parsed.runs, 'runs', quick ? 1 : 3);
  return {
    quick,
    files: (parsed.files ?? (quick ? '300' : '50000'))
      .split(',')
      .map((n) => count(n.trim(), 'files', 0)),
    bigFiles: quick ? 1 : 4,
    bigFileBytes: quick ? 2 * MiB : 32 * MiB,
    appendBytes: quick ? 64 * 1024 : MiB,
    runs,
    tunnelRuns: count(parsed['tunnel-runs'], 'tunnel-runs', runs, 0),
    handoffSamples: count(parsed['handoff-samples'], 'handoff-samples', quick ? 3 : 20),
    seed: count(parsed.seed, 'seed', 1, 0),
    out: parsed.out,
    json: parsed.json,
    tools: parsed.tools?.split(',').map((t) => t.trim()),
    work: parsed.work,
  };
}
