import { mkdtempSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent, type Agent, type AgentOptions } from '../../core/agent/controller.js';
import type { AgentEvent, HostStatus } from '../../core/agent/types.js';

/** Shared by the agent integration tests: an agent with fast checks, and patient waiting. */
export interface AgentHarness {
  agent: Agent;
  events: AgentEvent[];
  host(name?: string): HostStatus;
  count(type: AgentEvent['type']): number;
}

export function startTestAgent(
  env: NodeJS.ProcessEnv,
  options: Partial<AgentOptions> = {},
): AgentHarness {
  const events: AgentEvent[] = [];
  const agent = createAgent({
    env,
    checkIntervalMs: 1000,
    networkWatcher: false,
    reachabilityTimeoutMs: 2000,
    backoff: { initialMs: 2000, maxMs: 8000 },
    powerSupplyDir: join(tmpdir(), 'pullback-test-no-power-supplies'),
    ...options,
  });
  agent.subscribe((e) => events.push(e));
  return {
    agent,
    events,
    host(name = 'home') {
      const status = agent.getState().hosts.find((h) => h.host === name);
      if (!status) throw new Error(`no host ${name} in the agent state`);
      return status;
    },
    count: (type) => events.filter((e) => e.type === type).length,
  };
}

export async function waitUntil(
  check: () => boolean,
  timeoutMs: number,
  what: string,
  describe: () => string = () => '',
): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what} ${describe()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - start;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small source tree; `bigBytes` adds one random file, for transfers slow enough to interrupt. */
export function makeSource(bigBytes = 0): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-agent-src-'));
  writeFileSync(join(dir, 'notes.txt'), 'remember the milk\n'.repeat(100));
  mkdirSync(join(dir, 'photos'));
  writeFileSync(join(dir, 'photos', 'cat.jpg'), Buffer.alloc(50_000, 7));
  if (bigBytes > 0) writeFileSync(join(dir, 'big.bin'), randomBytes(bigBytes));
  return dir;
}

/** The complete snapshots of one client on the backup host (ids, no metadata files). */
export function snapshotsOf(storage: string, client: string): string[] {
  try {
    return readdirSync(join(storage, client, 'snapshots')).filter((n) => !n.endsWith('.json'));
  } catch {
    return [];
  }
}

/** A fake /sys/class/power_supply: an AC adapter and one battery. */
export function fakePowerSupply(acOnline: boolean): { dir: string; plug(online: boolean): void } {
  const dir = mkdtempSync(join(tmpdir(), 'pullback-power-supply-'));
  mkdirSync(join(dir, 'AC'));
  writeFileSync(join(dir, 'AC', 'type'), 'Mains\n');
  mkdirSync(join(dir, 'BAT0'));
  writeFileSync(join(dir, 'BAT0', 'type'), 'Battery\n');
  const plug = (online: boolean) => {
    writeFileSync(join(dir, 'AC', 'online'), online ? '1\n' : '0\n');
    writeFileSync(join(dir, 'BAT0', 'status'), online ? 'Charging\n' : 'Discharging\n');
  };
  plug(acOnline);
  return { dir, plug };
}
