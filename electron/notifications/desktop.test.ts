import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../events';
import { desktopNotificationFor } from './desktop';

const note = (channels: string[], profileId = 'p1'): BusEvent =>
  ({ event: 'notifications.new', profileId, data: { id: 'n', kind: 'order_filled', level: 'success', title: 'Order filled: BTC/USDT', body: 'Buy 0.01 BTC/USDT at 60000', ref: null, channels, createdAt: '', read: false, telegram: null } }) as BusEvent;

describe('the Electron shell desktop notification', () => {
  it('shows a notification routed to the desktop, for the window’s profile only', () => {
    expect(desktopNotificationFor(note(['in_app', 'desktop']), 'p1')).toEqual({ title: 'Order filled: BTC/USDT', body: 'Buy 0.01 BTC/USDT at 60000' });
    expect(desktopNotificationFor(note(['in_app', 'telegram']), 'p1')).toBeNull();
    expect(desktopNotificationFor(note(['desktop'], 'p2'), 'p1')).toBeNull();
    expect(desktopNotificationFor(note(['desktop']), null)).toBeNull();
    expect(desktopNotificationFor({ event: 'engine.changed', profileId: 'p1', data: { running: true, live: 0, note: '' } } as BusEvent, 'p1')).toBeNull();
  });
});
