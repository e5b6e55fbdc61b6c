import { statSync } from 'node:fs';
import type { ClientConfig } from '../config/client-schema.js';
import { parseClientConfig, readClientConfig, updateClientConfig } from '../config/client-store.js';
import { clientConfigFile, clientStateDir } from '../config/paths.js';
import { PullbackError, asPullbackError } from '../errors.js';
import { asSentence } from '../format.js';
import { launcherFor as defaultLauncherFor } from '../handoff/launchers.js';
import type { OneShotLauncher } from '../handoff/oneshot-launcher.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { newRunningBackup, performBackup } from './backup-run.js';
import { blockingConditions, type ConditionFacts } from './conditions.js';
import { readHistory } from './history.js';
import { deriveHostStatus } from './host-status.js';
import { readNetworkFacts } from '../network/network-manager.js';
import { watchNetwork, type NetworkWatcher } from './network-watcher.js';
import { checkOverdue } from './overdue.js';
import { DEFAULT_POWER_SUPPLY_DIR, readPowerSource } from './power.js';
import { DEFAULT_REACHABILITY_TIMEOUT_MS, checkReachability } from './reachability.js';
import { isDue, isPaused, scheduleBlockers } from './schedule.js';
import {
  forgetReachability,
  reachabilityError,
  reachabilityReason,
  sameEndpoint,
  type HostRuntime,
  type RunningBackup,
} from './host-runtime.js';
import { RecordBook } from './record-book.js';
import {
  describeRun,
  recordRunFinished,
  recordRunStarted,
  runningElsewhere,
  type RunOutcome,
} from './run-records.js';
import type { HostRecord } from './status-store.js';
import type { AgentController, AgentEvent, AgentState, HistoryEntry } from './types.js';

/**
 * The controller shared by the tray and the headless `pullback agent`: watches each backup host,
 * starts a backup when one is due and nothing stands in the way, and tells listeners about it.
 */
export interface AgentOptions {
  env?: NodeJS.ProcessEnv;
  /** "now" for schedule, overdue and back-off decisions (tests move it forward) */
  clock?: () => number;
  powerSupplyDir?: string;
  /** how often due hosts are checked (reachability, conditions); default 60 s */
  checkIntervalMs?: number;
  /** how often a host that is not due has its reachability refreshed; default 15 × check interval */
  idleCheckIntervalMs?: number;
  backoff?: BackoffPolicy;
  launcherFor?: (mode: 'user' | 'system') => OneShotLauncher;
  /** follow `ip monitor` (and `nmcli monitor`) to re-check promptly; default true */
  networkWatcher?: boolean;
  networkDebounceMs?: number;
  reachabilityTimeoutMs?: number;
}

export interface Agent extends AgentController {
  /** re-reads a changed config and checks every host now; resolves when the checks are done */
  checkNow(): Promise<void>;
  /** resolves once no backup is running */
  whenIdle(): Promise<void>;
}

const PROGRESS_PUBLISH_MS = 250;
const FACTS_CACHE_MS = 2000;

const iso = (ms: number) => new Date(ms).toISOString();

class AgentImpl implements Agent {
  private readonly env: NodeJS.ProcessEnv;
  private readonly clock: () => number;
  private readonly stateDir: string;
  private readonly powerSupplyDir: string;
  private readonly checkIntervalMs: number;
  private readonly idleCheckIntervalMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly launcherFor: (mode: 'user' | 'system') => OneShotLauncher;
  private readonly useNetworkWatcher: boolean;
  private readonly networkDebounceMs: number;
  private readonly reachabilityTimeoutMs: number;

  private config: ClientConfig;
  private configError?: PullbackError;
  private configStamp = '';
  private readonly records: RecordBook;
  private readonly hosts = new Map<string, HostRuntime>();
  private readonly listeners = new Set<(event: AgentEvent) => void>();
  private readonly pending = new Set<Promise<unknown>>();
  private timer?: ReturnType<typeof setInterval>;
  private watcher?: NetworkWatcher;
  private started = false;
  /** start() was refused for a broken config: a reload that fixes it starts the agent */
  private startRequested = false;
  private stopped = false;
  private lastPublished = '';
  private lastProgressPublish = 0;
  private factsCache?: { at: number; facts: Promise<ConditionFacts> };

  constructor(options: AgentOptions) {
    this.env = options.env ?? process.env;
    this.clock = options.clock ?? Date.now;
    this.stateDir = clientStateDir(this.env);
    this.powerSupplyDir = options.powerSupplyDir ?? DEFAULT_POWER_SUPPLY_DIR;
    this.checkIntervalMs = options.checkIntervalMs ?? 60_000;
    this.idleCheckIntervalMs = options.idleCheckIntervalMs ?? 15 * this.checkIntervalMs;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.launcherFor = options.launcherFor ?? defaultLauncherFor;
    this.useNetworkWatcher = options.networkWatcher ?? true;
    this.networkDebounceMs = options.networkDebounceMs ?? 1000;
    this.reachabilityTimeoutMs = options.reachabilityTimeoutMs ?? DEFAULT_REACHABILITY_TIMEOUT_MS;
    this.config = parseClientConfig({});
    try {
      this.config = readClientConfig(this.env);
      this.configStamp = this.readConfigStamp();
    } catch (err) {
      this.configError = asPullbackError(err, 'BAD_CONFIG');
    }
    this.records = new RecordBook(this.stateDir, this.clock, (m) => this.log(m));
    this.syncHosts();
  }

  // ── public API ────────────────────────────────────────────────────────────────

  async start(): Promise<void> {
    if (this.started) return;
    this.startRequested = true;
    if (this.configError) throw this.configError;
    this.started = true;
    this.stopped = false;
    this.timer = setInterval(() => this.track(this.tick()), this.checkIntervalMs);
    if (this.useNetworkWatcher) {
      this.watcher = watchNetwork({
        env: this.env,
        debounceMs: this.networkDebounceMs,
        onChange: () => this.track(this.evaluateAll(true)),
        onProblem: (message) => this.log(`network watch: ${message}`),
      });
    }
    this.publish();
    this.track(this.evaluateAll(true));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.stop();
    for (const h of this.hosts.values()) h.run?.abort.abort();
    while (this.pending.size > 0 || this.runs().length > 0) {
      await Promise.allSettled([...this.pending, ...this.runs().map((r) => r.done)]);
    }
  }

  getState(): AgentState {
    this.records.refresh();
    const now = this.clock();
    const state: AgentState = {
      hosts: this.config.hosts.map((host) => {
        const h = this.hosts.get(host.name);
        return deriveHostStatus(
          host,
          this.records.get(host.name),
          {
            reachable: h?.reachable ?? 'unknown',
            reachabilityDetail: h?.reachabilityDetail,
            presentedKey: h?.presentedKey,
            waitingFor: h?.waitingFor,
            progress: h?.run?.progress,
          },
          this.config.schedule,
          now,
        );
      }),
      mode: this.config.mode,
      needsPairing: this.config.hosts.length === 0,
    };
    if (isPaused(this.config.schedule.pausedUntil, now)) {
      state.pausedUntil = this.config.schedule.pausedUntil;
    }
    return state;
  }

  getHistory(host?: string, limit?: number): Promise<HistoryEntry[]> {
    return readHistory(this.stateDir, { host, limit });
  }

  subscribe(listener: (event: AgentEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async backupNow(host?: string): Promise<void> {
    const targets = this.targets(host);
    const refusals: PullbackError[] = [];
    let started = 0;
    await Promise.all(
      targets.map(async (h) => {
        if (!h.run) await this.checkReach(h);
        if (h.run) {
          started++;
        } else if (h.reachable === 'reachable' && !this.stopped) {
          this.startRun(h, 'manual');
          started++;
        } else {
          refusals.push(reachabilityError(h));
        }
      }),
    );
    this.publish();
    if (started === 0 && refusals[0]) throw refusals[0];
  }

  async cancel(host?: string): Promise<void> {
    const runs = this.targets(host)
      .map((h) => h.run)
      .filter((r): r is RunningBackup => r !== undefined);
    for (const run of runs) run.abort.abort();
    await Promise.allSettled(runs.map((r) => r.done));
  }

  async pause(until: Date | null): Promise<void> {
    const pausedUntil = until ? until.toISOString() : undefined;
    this.config = updateClientConfig((c) => {
      const { pausedUntil: _previous, ...schedule } = c.schedule;
      return { ...c, schedule: pausedUntil ? { ...schedule, pausedUntil } : schedule };
    }, this.env);
    this.configStamp = this.readConfigStamp();
    this.log(
      pausedUntil ? `automatic backups paused until ${pausedUntil}` : 'automatic backups resumed',
    );
    this.publish();
    if (!pausedUntil && this.started) this.track(this.evaluateAll(false));
  }

  async reload(): Promise<void> {
    try {
      this.config = readClientConfig(this.env);
      this.configStamp = this.readConfigStamp();
      this.configError = undefined;
    } catch (err) {
      const error = asPullbackError(err, 'BAD_CONFIG');
      this.configStamp = this.readConfigStamp();
      this.log(`config: ${error.toLine()} (keeping the previous settings)`);
      return;
    }
    this.syncHosts();
    this.publish();
    if (this.startRequested && !this.started && !this.stopped) await this.start();
    else if (this.started && !this.stopped) await this.evaluateAll(false);
  }

  async checkNow(): Promise<void> {
    await this.reloadIfChanged();
    await this.evaluateAll(true);
  }

  async whenIdle(): Promise<void> {
    while (this.runs().length > 0) await Promise.allSettled(this.runs().map((r) => r.done));
  }

  // ── evaluation: is a backup due, and may it start? ──────────────────────────────

  private async tick(): Promise<void> {
    await this.reloadIfChanged();
    await this.evaluateAll(false);
  }

  private async evaluateAll(force: boolean): Promise<void> {
    if (this.stopped) return;
    this.factsCache = undefined;
    this.records.refresh();
    await Promise.all([...this.hosts.values()].map((h) => this.evaluateHost(h, force)));
  }

  /** One evaluation per host at a time; requests meanwhile fold into one follow-up. */
  private evaluateHost(h: HostRuntime, force: boolean): Promise<void> {
    if (h.queued) {
      h.queued.force ||= force;
      return h.queued.promise;
    }
    if (!h.evaluating) {
      h.evaluating = this.evaluate(h, force).finally(() => {
        h.evaluating = undefined;
      });
      return h.evaluating;
    }
    const queued = { force, promise: Promise.resolve() };
    queued.promise = h.evaluating.then(() => {
      h.queued = undefined;
      return this.evaluateHost(h, queued.force);
    });
    h.queued = queued;
    return queued.promise;
  }

  private async evaluate(h: HostRuntime, force: boolean): Promise<void> {
    if (this.stopped || this.hosts.get(h.config.name) !== h) return;
    const now = this.clock();
    const record = this.records.get(h.config.name);
    this.warnIfOverdue(h, record, now);
    if (h.run) return this.publish();
    const schedule = this.config.schedule;
    const due = isDue(record.lastSuccess, schedule.intervalHours, now);
    const stale =
      h.lastCheckAt === undefined || Date.now() - h.lastCheckAt >= this.idleCheckIntervalMs;

    const blockers = scheduleBlockers(
      this.config.sources.length,
      schedule.pausedUntil,
      record,
      now,
    );
    const elsewhere = runningElsewhere(record, Date.now());
    if (elsewhere !== undefined) {
      blockers.push(`a backup started elsewhere ("pullback backup", pid ${elsewhere}) is running`);
    }
    // Due and otherwise free to run: check every time; else only now and then (keeps sshd logs calm).
    if (force || stale || (due && blockers.length === 0)) await this.checkReach(h);
    if (!due) {
      h.waitingFor = undefined;
      return this.publish();
    }
    if (h.reachable !== 'reachable') blockers.push(reachabilityReason(h.reachable));
    blockers.push(...blockingConditions(schedule, await this.conditionFacts()));
    h.waitingFor = blockers.length > 0 ? blockers.join('; ') : undefined;
    if (!h.waitingFor && !h.run && !this.stopped && this.hosts.get(h.config.name) === h) {
      this.startRun(h, 'automatic');
    }
    this.publish();
  }

  private async checkReach(h: HostRuntime): Promise<void> {
    const host = h.config;
    const result = await checkReachability(host, this.reachabilityTimeoutMs);
    h.lastCheckAt = Date.now();
    if (this.hosts.get(host.name) !== h || !sameEndpoint(h.config, host)) return;
    const before = h.reachable;
    h.reachable = result.reachable;
    h.reachabilityDetail = result.detail;
    h.presentedKey = result.presentedKey;
    if (before === result.reachable) return;
    this.log(`host=${host.name} ${result.reachable}: ${result.detail}`);
    if (result.reachable === 'host-key-changed') {
      this.emit({ type: 'host-key-changed', host: host.name });
    }
  }

  private conditionFacts(): Promise<ConditionFacts> {
    const now = Date.now();
    if (!this.factsCache || now - this.factsCache.at > FACTS_CACHE_MS) {
      const facts = Promise.all([readPowerSource(this.powerSupplyDir), readNetworkFacts(this.env)]);
      this.factsCache = { at: now, facts: facts.then(([power, network]) => ({ power, network })) };
    }
    return this.factsCache.facts;
  }

  private warnIfOverdue(h: HostRuntime, record: HostRecord, now: number): void {
    const { overdue, days } = checkOverdue(
      record.lastSuccess,
      record.trackedSince,
      this.config.schedule.overdueDays,
      now,
    );
    if (!overdue || record.overdueWarnedAt) return;
    record.overdueWarnedAt = iso(now);
    this.records.update(h.config.name, (r) => (r.overdueWarnedAt = iso(now)));
    this.emit({ type: 'overdue', host: h.config.name, days, lastSuccess: record.lastSuccess });
  }

  // ── runs ───────────────────────────────────────────────────────────────────────

  private startRun(h: HostRuntime, trigger: 'manual' | 'automatic'): void {
    if (h.run) return;
    const now = this.clock();
    const run = newRunningBackup(trigger, now);
    h.run = run;
    h.waitingFor = undefined;
    this.records.write(() =>
      recordRunStarted(this.stateDir, { host: h.config.name, trigger, startedAt: now }),
    );
    this.emit({ type: 'backup-started', host: h.config.name, trigger });
    this.publish();
    run.done = this.perform(h, run);
  }

  private async perform(h: HostRuntime, run: RunningBackup): Promise<void> {
    try {
      const result = await performBackup({
        env: this.env,
        config: this.config,
        host: h.config,
        launcher: this.launcherFor(this.config.mode),
        run,
        log: (line) => this.log(line),
        onChange: (kind) => {
          // Progress comes many times a second: publish it a few times a second at most.
          if (kind === 'progress' && Date.now() - this.lastProgressPublish < PROGRESS_PUBLISH_MS) {
            return;
          }
          if (kind === 'progress') this.lastProgressPublish = Date.now();
          this.publish();
        },
      });
      this.finished(h, run, { result });
    } catch (err) {
      const error = asPullbackError(err);
      this.finished(h, run, { error, stoppedByAgent: error.code === 'CANCELLED' && this.stopped });
    } finally {
      h.run = undefined;
      this.publish();
    }
  }

  private finished(h: HostRuntime, run: RunningBackup, outcome: RunOutcome): void {
    const name = h.config.name;
    const start = { host: name, trigger: run.trigger, startedAt: run.startedAt };
    const [now, took] = [this.clock(), Date.now() - run.startedReal];
    // A status file we cannot write is logged (by the book); the run is still told about.
    const { entry, explained } =
      this.records.write(() =>
        recordRunFinished(this.stateDir, start, outcome, now, took, this.backoff),
      ) ?? describeRun(start, outcome, now, took);
    if ('result' in outcome) {
      h.reachable = 'reachable';
      this.emit({ type: 'backup-finished', host: name, entry });
      return;
    }
    const code = explained?.code ?? outcome.error.code;
    if (code === 'HOST_KEY_MISMATCH') {
      if (h.reachable !== 'host-key-changed') this.emit({ type: 'host-key-changed', host: name });
      h.reachable = 'host-key-changed';
      h.reachabilityDetail = outcome.error.message;
      // Look again (no login) to learn which key it presents now, for the status window.
      this.track(this.checkReach(h).then(() => this.publish()));
    } else if (code === 'UNREACHABLE' || code === 'TIMEOUT') {
      forgetReachability(h);
    }
    this.emit({
      type: 'backup-failed',
      host: name,
      entry,
      reason: explained?.message ?? asSentence(outcome.error.message),
      hint: explained?.hint ?? '',
    });
  }

  // ── bookkeeping ────────────────────────────────────────────────────────────────

  private targets(host: string | undefined): HostRuntime[] {
    if (this.hosts.size === 0) {
      throw new PullbackError('NOT_PAIRED', 'no backup host paired yet');
    }
    if (host === undefined) return [...this.hosts.values()];
    const h = this.hosts.get(host);
    if (!h) throw new PullbackError('NOT_FOUND', `no paired backup host is called "${host}"`);
    return [h];
  }

  private runs(): RunningBackup[] {
    return [...this.hosts.values()].flatMap((h) => (h.run ? [h.run] : []));
  }

  /** Hosts follow the config: new ones start unknown, changed endpoints are re-checked. */
  private syncHosts(): void {
    let created = false;
    for (const host of this.config.hosts) {
      const h = this.hosts.get(host.name);
      if (!h) {
        this.hosts.set(host.name, { config: host, reachable: 'unknown' });
      } else if (!sameEndpoint(h.config, host)) {
        h.config = host;
        forgetReachability(h);
      } else {
        h.config = host;
      }
      if (!this.records.has(host.name)) created = true;
    }
    for (const [name, h] of this.hosts) {
      if (this.config.hosts.some((host) => host.name === name)) continue;
      h.run?.abort.abort();
      this.hosts.delete(name);
    }
    if (!created) return;
    for (const host of this.config.hosts) {
      // Tracking starts now for a host never seen (the overdue clock of a never-backed-up host).
      if (!this.records.has(host.name)) this.records.update(host.name, () => {});
    }
  }

  private readConfigStamp(): string {
    try {
      const s = statSync(clientConfigFile(this.env));
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'missing';
    }
  }

  /** Settings changed by the CLI or the tray reach a running agent at its next check. */
  private async reloadIfChanged(): Promise<void> {
    if (this.readConfigStamp() !== this.configStamp) await this.reload();
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch((err) => this.log(`internal: ${asPullbackError(err).toLine()}`));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private publish(): void {
    const state = this.getState();
    const json = JSON.stringify(state);
    if (json === this.lastPublished) return;
    this.lastPublished = json;
    this.emit({ type: 'state', state });
  }

  private log(message: string): void {
    this.emit({ type: 'log', message });
  }

  private emit(event: AgentEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a broken listener must not stop the agent
      }
    }
  }
}

export function createAgent(options: AgentOptions = {}): Agent {
  return new AgentImpl(options);
}
