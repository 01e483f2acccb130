import type { Handlers } from '../api/dispatch';
import type { EventBus } from '../events';
import type { NotificationService } from './service';

type NotificationMethod = 'notifications.list' | 'notifications.markRead' | 'notifications.settings.get' | 'notifications.settings.update' | 'notifications.test';

/** Handlers of the notifications contract (shared/contract/notifications.ts). */
export function notificationHandlers(d: { notifications: NotificationService; bus: EventBus }): Pick<Handlers, NotificationMethod> {
  const n = d.notifications;
  return {
    'notifications.list': (input, { profile }) => n.list(profile.id, input ?? {}),
    'notifications.markRead': (input, { profile }) => n.markRead(profile.id, input),
    'notifications.settings.get': (_i, { profile }) => n.getSettings(profile.id),
    'notifications.settings.update': (patch, { profile }) => n.updateSettings(profile.id, patch),
    'notifications.test': (input, { profile }) => n.test(profile.id, input),
  };
}
