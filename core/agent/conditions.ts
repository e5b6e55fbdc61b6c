import type { ScheduleConfig } from '../config/client-schema.js';
import type { NetworkFacts } from '../network/network-manager.js';
import type { PowerSource } from './power.js';

/** What the machine is like right now, as far as automatic backups care. */
export interface ConditionFacts {
  power: PowerSource;
  network: NetworkFacts;
}

/**
 * Why an automatic backup may not start under these conditions, one reason each, empty when
 * nothing stands in the way. Manual backups ignore all of these.
 */
export function blockingConditions(
  schedule: Pick<ScheduleConfig, 'runOnBattery' | 'runOnMetered' | 'networks'>,
  facts: ConditionFacts,
): string[] {
  const reasons: string[] = [];
  if (!schedule.runOnBattery && facts.power === 'battery') {
    reasons.push('on battery power (automatic backups wait for the charger)');
  }
  if (!schedule.runOnMetered && facts.network.metered) {
    reasons.push('on a metered connection');
  }
  if (schedule.networks.length > 0) {
    if (!facts.network.networkManager) {
      reasons.push(
        'only allowed on certain networks, but NetworkManager is not running here to name the current one',
      );
    } else if (!facts.network.activeConnections.some((n) => schedule.networks.includes(n))) {
      const current = facts.network.activeConnections.join(', ') || 'none';
      reasons.push(
        `not on an allowed network (allowed: ${schedule.networks.join(', ')}; current: ${current})`,
      );
    }
  }
  return reasons;
}
