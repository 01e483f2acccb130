import { z } from 'zod';
import { method, NoInput, Ok } from './define';

export const ProfileName = z.string().trim().min(1, 'name is required').max(40, 'name is at most 40 characters').regex(/^[\p{L}\p{N} _.-]+$/u, 'name may contain letters, digits, spaces, _ . -');
export const Password = z.string().min(4, 'password must be at least 4 characters').max(200, 'password is at most 200 characters');

export const ProfileSummary = z.object({ name: z.string(), createdAt: z.string(), lastLoginAt: z.string().nullable() });
export const Session = z.object({ profile: z.object({ id: z.string(), name: z.string() }) }).nullable();
export const Settings = z.object({
  theme: z.enum(['dark', 'light']),
  timezone: z.enum(['UTC', 'local']),
  defaultBrokerId: z.string().nullable(),
  /** 'en' | 'fr'; null follows the system's language */
  language: z.enum(['en', 'fr']).nullable(),
});
export const AppStatus = z.object({
  version: z.string(),
  state: z.enum(['starting', 'ready', 'failed']),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  database: z.object({ mode: z.enum(['bundled', 'external']), url: z.string() }),
  dataDir: z.string(),
  uptimeSeconds: z.number(),
  startedAt: z.string(),
  debugAvailable: z.boolean(),
  debugEnabled: z.boolean(),
  /** `message` in English; `key`/`params` word it in the reader's language (absent when there is no message). */
  secrets: z.object({ backend: z.enum(['keychain', 'vault', 'none']), message: z.string(), key: z.string().optional(), params: z.record(z.string(), z.unknown()).optional() }),
  shell: z.enum(['electron', 'headless']),
});

export const appMethods = {
  'profiles.list': method({ input: NoInput, output: z.array(ProfileSummary), auth: 'none', description: 'Profiles on this machine (names only).' }),
  'profiles.create': method({ input: z.object({ name: ProfileName, password: Password }).strict(), output: ProfileSummary, auth: 'none', description: 'Create a local profile.' }),
  'profiles.login': method({ input: z.object({ name: ProfileName, password: z.string().max(200) }).strict(), output: Session.unwrap(), auth: 'none', description: 'Log this connection in to a profile.' }),
  'profiles.logout': method({ input: NoInput, output: Ok, auth: 'none', description: 'Log this connection out.' }),
  'profiles.changePassword': method({ input: z.object({ currentPassword: z.string().max(200), newPassword: Password }).strict(), output: Ok, auth: 'profile', description: "Change the logged-in profile's password." }),
  'profiles.delete': method({ input: z.object({ name: ProfileName, password: z.string().max(200) }).strict(), output: Ok, auth: 'none', description: 'Delete a profile and everything it owns (needs its password).' }),
  'session.current': method({ input: NoInput, output: Session, auth: 'none', description: 'The logged-in profile of this connection, or null.' }),
  'settings.get': method({ input: NoInput, output: Settings, auth: 'profile', description: "The profile's preferences." }),
  'settings.update': method({
    input: z.object({ theme: z.enum(['dark', 'light']).optional(), timezone: z.enum(['UTC', 'local']).optional(), defaultBrokerId: z.string().uuid().nullable().optional(), language: z.enum(['en', 'fr']).nullable().optional() }).strict(),
    output: Settings,
    auth: 'profile',
    description: "Change the profile's preferences.",
  }),
  'debug.get': method({ input: NoInput, output: z.object({ available: z.boolean(), enabled: z.boolean() }), auth: 'none', description: 'Development mode (only with ARISTOBOT_DEBUG=1).' }),
  'debug.set': method({ input: z.object({ enabled: z.boolean() }).strict(), output: z.object({ available: z.boolean(), enabled: z.boolean(), session: Session }), auth: 'none', description: 'Switch development mode; on logs in the profile `dev`.' }),
  'events.subscribe': method({ input: z.object({ events: z.array(z.string().min(1).max(100)).max(100) }).strict(), output: z.object({ events: z.array(z.string()) }), auth: 'none', description: 'Receive these events on this connection.' }),
  'events.unsubscribe': method({ input: z.object({ events: z.array(z.string().min(1).max(100)).max(100) }).strict(), output: z.object({ events: z.array(z.string()) }), auth: 'none', description: 'Stop receiving these events.' }),
  'app.retry': method({ input: NoInput, output: AppStatus, auth: 'none', description: 'Try starting the core again (after a database failure).' }),
  'app.status': method({ input: NoInput, output: AppStatus, auth: 'none', description: 'Version, database mode, data folder, uptime.' }),
} as const;

export const appEvents = {
  'session.changed': Session,
  'settings.changed': Settings,
  'debug.changed': z.object({ available: z.boolean(), enabled: z.boolean() }),
} as const;
