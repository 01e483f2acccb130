import { isEventName } from '../../shared/contract';
import { invalidField } from '../../shared/errors';
import type { DebugService } from '../profiles/debug';
import { DEV_PROFILE } from '../profiles/debug';
import type { ProfileService } from '../profiles/service';
import type { EventBus } from '../events';
import type { SessionRegistry } from '../sessions';
import type { Handlers } from './dispatch';

type AppMethod =
  | 'profiles.list' | 'profiles.create' | 'profiles.login' | 'profiles.logout' | 'profiles.changePassword' | 'profiles.delete'
  | 'session.current' | 'settings.get' | 'settings.update' | 'debug.get' | 'debug.set' | 'events.subscribe' | 'events.unsubscribe';

/** Cleans up what the database cascade cannot reach (keys in the SecretStore, cached clients). */
export interface ProfileDeletionHook {
  prepareProfileDeletion(profileId: string): Promise<() => Promise<void>>;
}

export interface AppHandlerDeps {
  profiles: ProfileService;
  onProfileDeletion?: ProfileDeletionHook[];
  debug: DebugService;
  sessions: SessionRegistry;
  bus: EventBus;
}

export function appHandlers({ profiles, debug, sessions, bus, onProfileDeletion = [] }: AppHandlerDeps): Pick<Handlers, AppMethod> {
  return {
    'profiles.list': () => profiles.list(),
    'profiles.create': ({ name, password }) => profiles.create(name, password),
    'profiles.login': async ({ name, password }, { session }) => {
      const profile = await profiles.login(name, password, session.connectionId);
      session.profile = profile;
      return { profile };
    },
    'profiles.logout': async (_i, { session }) => {
      session.profile = null;
      return { ok: true as const };
    },
    'profiles.changePassword': async ({ currentPassword, newPassword }, { profile, session }) => {
      await profiles.changePassword(profile.id, currentPassword, newPassword, session.connectionId);
      return { ok: true as const };
    },
    'profiles.delete': async ({ name, password }, { session }) => {
      const row = await profiles.verify(name, password, session.connectionId);
      const cleanups = await Promise.all(onProfileDeletion.map((h) => h.prepareProfileDeletion(row.id)));
      const id = await profiles.deleteVerified(row);
      for (const c of cleanups) await c();
      // Tell the profile's other windows first (events are scoped to the logged-in profile), then log them out.
      bus.emit('session.changed', null, { profileId: id });
      sessions.logoutProfile(id);
      return { ok: true as const };
    },
    'session.current': async (_i, { session }) => (session.profile ? { profile: session.profile } : null),
    'settings.get': (_i, { profile }) => profiles.getSettings(profile.id),
    'settings.update': async (patch, { profile }) => {
      const s = await profiles.updateSettings(profile.id, patch);
      bus.emit('settings.changed', s, { profileId: profile.id });
      return s;
    },
    'debug.get': () => debug.get(),
    'debug.set': async ({ enabled }, { session }) => {
      const state = await debug.set(enabled);
      if (enabled) session.profile = await profiles.idOf(DEV_PROFILE.name);
      bus.emit('debug.changed', state);
      return { ...state, session: session.profile ? { profile: session.profile } : null };
    },
    'events.subscribe': async ({ events }, { session }) => {
      const unknown = events.filter((e) => !isEventName(e));
      if (unknown.length) throw invalidField('events', 'errors.api.unknownEvent', { unknown: unknown.join(', ') });
      for (const e of events) session.subscriptions.add(e);
      return { events: [...session.subscriptions] };
    },
    'events.unsubscribe': async ({ events }, { session }) => {
      for (const e of events) session.subscriptions.delete(e);
      return { events: [...session.subscriptions] };
    },
  };
}
