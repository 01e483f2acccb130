import { pickLocale, translate, type Locale, type Params } from '../../shared/i18n';
import type { BusEvent } from '../events';

interface NewNotification {
  title: string;
  body: string;
  channels: string[];
  titleText?: { key: string; params: Record<string, unknown> } | null;
  bodyText?: { key: string; params: Record<string, unknown> } | null;
}

/** The language a desktop notification is worded in: the profile's choice, else the system's. */
export function desktopLocale(language: string | null | undefined, systemLocale: string | null | undefined): Locale {
  return pickLocale(language || systemLocale || Intl.DateTimeFormat().resolvedOptions().locale);
}

/**
 * What the Electron shell shows as a desktop notification for a bus event: a `notifications.new`
 * routed to the desktop channel, for the profile logged in to the window (never another
 * profile's), worded in `locale` from its title and body keys (a notification stored before the
 * keys existed shows its English text). Pure, so it is tested without Electron; `electron/main.ts`
 * hands the result to Electron's `Notification`.
 */
export function desktopNotificationFor(ev: BusEvent, windowProfileId: string | null | undefined, locale: Locale = 'en'): { title: string; body: string } | null {
  if (ev.event !== 'notifications.new' || !windowProfileId || ev.profileId !== windowProfileId) return null;
  const n = ev.data as NewNotification;
  if (!n.channels.includes('desktop')) return null;
  const title = n.titleText ? translate(locale, n.titleText.key, n.titleText.params as Params) : n.title;
  const body = n.bodyText ? translate(locale, n.bodyText.key, n.bodyText.params as Params) : n.body;
  return { title: title.slice(0, 120), body: body.slice(0, 400) };
}

export interface DesktopShell {
  /** The window's profile language setting (`profile_settings.language`; null follows the system). */
  language(): Promise<string | null | undefined>;
  /** The system's language (Electron's `app.getLocale()`). */
  systemLocale(): string;
  show(n: { title: string; body: string }): void;
}

/**
 * Shows the event as a desktop notification when it is one for the window's profile, in the
 * profile's language. Never throws: a language that cannot be read falls back to the system's.
 */
export async function showDesktopNotification(ev: BusEvent, windowProfileId: string | null | undefined, shell: DesktopShell): Promise<boolean> {
  if (!desktopNotificationFor(ev, windowProfileId)) return false;
  const language = await shell.language().catch(() => null);
  const n = desktopNotificationFor(ev, windowProfileId, desktopLocale(language, shell.systemLocale()));
  if (!n) return false;
  shell.show(n);
  return true;
}
