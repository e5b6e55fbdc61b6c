import { spawnSync } from 'node:child_process';

/**
 * `ip` for tests that wire network namespaces of their own (test/support/nat-namespaces.ts,
 * test/integration/agent-link-cut.test.ts): argument arrays, never a shell.
 */
export interface IpResult {
  ok: boolean;
  out: string;
}

export function ip(...args: string[]): IpResult {
  return run('ip', args);
}

/** `ip …` that must work: throws with its output otherwise. */
export function mustIp(...args: string[]): void {
  const r = ip(...args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.out}`);
}

/** argv run inside network namespace `ns` (`ip netns exec` execs it: the pid stays the same). */
export function inNetns(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/** Runs argv inside `ns` and waits; `input` goes to its stdin. */
export function runInNetns(ns: string, argv: string[], input?: string): IpResult {
  const [cmd, ...args] = inNetns(ns, argv);
  return run(cmd!, args, input);
}

export function mustRunInNetns(ns: string, argv: string[], input?: string): string {
  const r = runInNetns(ns, argv, input);
  if (!r.ok) throw new Error(`in ${ns}: ${argv.join(' ')}: ${r.out}`);
  return r.out;
}

/** The listening TCP sockets in `ns` (`ss -ltnH`: one line each, local address and port). */
export function listeningTcp(ns: string): string[] {
  const out = mustRunInNetns(ns, ['ss', '-ltnH']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3] ?? '')
    .filter((local) => local.length > 0)
    .sort();
}

/** Why network namespaces cannot be made here, or undefined when they can. */
export function whyNoNamespaces(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root: creates network namespaces';
  const probe = `pbprobe-${process.pid}`;
  const add = ip('netns', 'add', probe);
  if (!add.ok) return `cannot create a network namespace (ip netns add: ${add.out})`;
  ip('netns', 'del', probe);
  return undefined;
}

function run(cmd: string, args: string[], input?: string): IpResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 30_000 });
  return {
    ok: r.status === 0,
    out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`.trim(),
  };
}
