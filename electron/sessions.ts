import { randomUUID } from 'node:crypto';
import type { Session } from './api/dispatch';

/** Every open connection's session (an Electron window, a WebSocket). Lives on the core side only. */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();

  open(): Session {
    const s: Session = { connectionId: randomUUID(), profile: null, subscriptions: new Set() };
    this.sessions.set(s.connectionId, s);
    return s;
  }

  close(s: Session): void {
    this.sessions.delete(s.connectionId);
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }

  /** Log out every connection of a profile (after it is deleted); returns them. */
  logoutProfile(profileId: string): Session[] {
    const out = this.all().filter((s) => s.profile?.id === profileId);
    for (const s of out) s.profile = null;
    return out;
  }
}
