import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../events';
import { desktopLocale, desktopNotificationFor, showDesktopNotification } from './desktop';

const note = (channels: string[], profileId = 'p1', keyed = false): BusEvent =>
  ({
    event: 'notifications.new',
    profileId,
    data: {
      id: 'n',
      kind: 'order_filled',
      level: 'success',
      title: 'Order filled: BTC/USDT',
      body: 'Buy 0.01 BTC/USDT at 60000 (market, manual).',
      titleText: keyed ? { key: 'core.notify.orderFilled', params: { symbol: 'BTC/USDT' } } : null,
      bodyText: keyed ? { key: 'core.notify.filledBuy', params: { amount: '0.01', symbol: 'BTC/USDT', price: '60000', type: 'market', source: 'manual' } } : null,
      ref: null,
      channels,
      createdAt: '',
      read: false,
      telegram: null,
    },
  }) as BusEvent;

describe('the Electron shell desktop notification', () => {
  it('shows a notification routed to the desktop, for the window’s profile only', () => {
    expect(desktopNotificationFor(note(['in_app', 'desktop']), 'p1')).toEqual({ title: 'Order filled: BTC/USDT', body: 'Buy 0.01 BTC/USDT at 60000 (market, manual).' });
    expect(desktopNotificationFor(note(['in_app', 'telegram']), 'p1')).toBeNull();
    expect(desktopNotificationFor(note(['desktop'], 'p2'), 'p1')).toBeNull();
    expect(desktopNotificationFor(note(['desktop']), null)).toBeNull();
    expect(desktopNotificationFor({ event: 'engine.changed', profileId: 'p1', data: { running: true, live: 0, note: '' } } as BusEvent, 'p1')).toBeNull();
  });

  it('is worded from its keys in the language asked; a notification without keys keeps its English', () => {
    expect(desktopNotificationFor(note(['desktop'], 'p1', true), 'p1', 'fr')).toEqual({ title: 'Ordre exécuté : BTC/USDT', body: 'Achat de 0,01 BTC/USDT à 60\u202f000 (market, manual).' });
    expect(desktopNotificationFor(note(['desktop'], 'p1', true), 'p1', 'en')).toEqual({ title: 'Order filled: BTC/USDT', body: 'Buy 0.01 BTC/USDT at 60000 (market, manual).' });
    expect(desktopNotificationFor(note(['desktop'], 'p1', false), 'p1', 'fr')).toEqual({ title: 'Order filled: BTC/USDT', body: 'Buy 0.01 BTC/USDT at 60000 (market, manual).' });
  });

  it('the language: the profile’s choice, else the system’s', () => {
    expect(desktopLocale('fr', 'en-US')).toBe('fr');
    expect(desktopLocale('en', 'fr-FR')).toBe('en');
    expect(desktopLocale(null, 'fr-CA')).toBe('fr');
    expect(desktopLocale(undefined, 'de-DE')).toBe('en');
  });

  it('shows it through the shell in the profile’s language; a language that cannot be read falls back to the system’s', async () => {
    const shown: { title: string; body: string }[] = [];
    const shell = (language: () => Promise<string | null>, system: string) => ({ language, systemLocale: () => system, show: (n: { title: string; body: string }) => shown.push(n) });
    expect(await showDesktopNotification(note(['desktop'], 'p1', true), 'p1', shell(async () => 'fr', 'en-US'))).toBe(true);
    expect(await showDesktopNotification(note(['desktop'], 'p1', true), 'p1', shell(async () => null, 'fr-FR'))).toBe(true);
    expect(await showDesktopNotification(note(['desktop'], 'p1', true), 'p1', shell(() => Promise.reject(new Error('no database')), 'en-GB'))).toBe(true);
    // another profile's notification: no language read, nothing shown
    let asked = false;
    expect(await showDesktopNotification(note(['desktop'], 'p2', true), 'p1', shell(async () => ((asked = true), 'fr'), 'fr-FR'))).toBe(false);
    expect(asked).toBe(false);
    expect(shown.map((n) => n.title)).toEqual(['Ordre exécuté : BTC/USDT', 'Ordre exécuté : BTC/USDT', 'Order filled: BTC/USDT']);
  });
});
