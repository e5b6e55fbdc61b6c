import { z } from 'zod';
import type { ClientConfig } from '../core/config/client-schema.js';
import { parseClientConfig } from '../core/config/client-store.js';
import { checkSources } from '../core/config/source-checks.js';
import { zodToPullbackError } from '../core/config/zod-error.js';
import { fingerprint } from '../core/ssh/keys.js';
import type { Preferences, PreferencesChange } from '../preload/api.js';

/** The preferences page's view of the client config, and a change applied back onto it. */

export function toPreferences(config: ClientConfig): Preferences {
  const limits = config.hosts.map((h) => h.bwlimitKiB ?? 0);
  return {
    name: config.name,
    mode: config.mode,
    sources: config.sources,
    excludes: config.excludes,
    hosts: config.hosts.map((h) => ({
      name: h.name,
      user: h.user,
      address: h.address,
      port: h.port,
      fingerprint: fingerprint(h.hostKey),
    })),
    intervalHours: config.schedule.intervalHours,
    overdueDays: config.schedule.overdueDays,
    runOnBattery: config.schedule.runOnBattery,
    runOnMetered: config.schedule.runOnMetered,
    networks: config.schedule.networks,
    bandwidthLimitKiB: limits.length > 0 ? Math.max(...limits) : 0,
    notifications: config.notifications,
    startOnLogin: config.startOnLogin,
  };
}

// The renderer is the least trusted party: check the shape of what it sends before using it.
const changeSchema = z
  .object({
    name: z.string(),
    mode: z.enum(['user', 'system']),
    sources: z.array(z.string()),
    excludes: z.array(z.string()),
    intervalHours: z.number(),
    overdueDays: z.number(),
    runOnBattery: z.boolean(),
    runOnMetered: z.boolean(),
    networks: z.array(z.string()),
    bandwidthLimitKiB: z.number().int().min(0),
    notifications: z
      .object({ finished: z.boolean(), failed: z.boolean(), overdue: z.boolean() })
      .strict(),
    startOnLogin: z.boolean(),
    removeHosts: z.array(z.string()),
  })
  .partial()
  .strict();

export interface AppliedPreferences {
  config: ClientConfig;
  /** what saving changed beyond the request (overlapping sources left out), one sentence each */
  notes: string[];
}

/**
 * Returns the new config, validated by the one schema and by the same source checks as the
 * CLI (a new source must exist; one inside another is left out, with a note); throws
 * BAD_CONFIG naming the field. `exists` says whether a path exists on this machine.
 */
export function applyPreferences(
  config: ClientConfig,
  change: PreferencesChange,
  exists: (path: string) => boolean,
): AppliedPreferences {
  const parsed = changeSchema.safeParse(change);
  if (!parsed.success) throw zodToPullbackError('BAD_CONFIG', 'preferences', parsed.error);
  const c = parsed.data;
  const checked = c.sources && checkSources(c.sources, config.sources, exists);
  if (checked) c.sources = checked.sources;
  const removed = new Set(c.removeHosts ?? []);
  const hosts = config.hosts
    .filter((h) => !removed.has(h.name))
    .map((h) => {
      if (c.bandwidthLimitKiB === undefined) return h;
      const { bwlimitKiB: _old, ...rest } = h;
      return c.bandwidthLimitKiB > 0 ? { ...rest, bwlimitKiB: c.bandwidthLimitKiB } : rest;
    });
  const next = parseClientConfig(
    {
      ...config,
      ...(c.name !== undefined && { name: c.name }),
      ...(c.mode !== undefined && { mode: c.mode }),
      ...(c.sources !== undefined && { sources: c.sources }),
      ...(c.excludes !== undefined && { excludes: c.excludes }),
      ...(c.notifications !== undefined && { notifications: c.notifications }),
      ...(c.startOnLogin !== undefined && { startOnLogin: c.startOnLogin }),
      hosts,
      schedule: {
        ...config.schedule,
        ...(c.intervalHours !== undefined && { intervalHours: c.intervalHours }),
        ...(c.overdueDays !== undefined && { overdueDays: c.overdueDays }),
        ...(c.runOnBattery !== undefined && { runOnBattery: c.runOnBattery }),
        ...(c.runOnMetered !== undefined && { runOnMetered: c.runOnMetered }),
        ...(c.networks !== undefined && { networks: c.networks }),
      },
    },
    'preferences',
  );
  return { config: next, notes: checked?.notes ?? [] };
}
