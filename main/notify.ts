import { Notification } from 'electron';
import type { AgentEvent } from '../core/agent/types.js';
import type { SettingsStore } from './settings-store.js';
import { notificationFor, type NotificationText } from './notification-text.js';

/** Desktop notifications for agent events, as the user's preferences allow. */
export function notifyAgentEvent(
  event: AgentEvent,
  settings: SettingsStore,
  onClick: () => void,
): NotificationText | undefined {
  let prefs;
  try {
    prefs = settings.read().notifications;
  } catch {
    prefs = { finished: true, failed: true, overdue: true };
  }
  const text = notificationFor(event, prefs, new Date());
  if (!text || !Notification.isSupported()) return text;
  const n = new Notification({ title: text.title, body: text.body, urgency: text.urgency });
  n.on('click', onClick);
  n.show();
  return text;
}
