import type { BusEvent } from '../events';

/**
 * What the Electron shell shows as a desktop notification for a bus event: a `notifications.new`
 * routed to the desktop channel, for the profile logged in to the window (never another
 * profile's). Pure, so it is tested without Electron; `electron/main.ts` hands the result to
 * Electron's `Notification`.
 */
export function desktopNotificationFor(ev: BusEvent, windowProfileId: string | null | undefined): { title: string; body: string } | null {
  if (ev.event !== 'notifications.new' || !windowProfileId || ev.profileId !== windowProfileId) return null;
  const n = ev.data as { title: string; body: string; channels: string[] };
  if (!n.channels.includes('desktop')) return null;
  return { title: n.title.slice(0, 120), body: n.body.slice(0, 400) };
}
