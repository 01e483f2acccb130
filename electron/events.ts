import type { EventData, EventName } from '../shared/contract';

/**
 * The in-process event bus. Services emit; transports forward to the connections that subscribed.
 * An event scoped to a profile reaches only connections logged in to that profile.
 */
export interface BusEvent<E extends EventName = EventName> {
  event: E;
  data: EventData<E>;
  profileId?: string;
}
type Listener = (e: BusEvent) => void;

export class EventBus {
  private readonly listeners = new Set<Listener>();

  emit<E extends EventName>(event: E, data: EventData<E>, scope?: { profileId: string }): void {
    const e = { event, data, profileId: scope?.profileId } as BusEvent;
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a failing listener must not stop the others
      }
    }
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
