import { describe, expect, it } from 'vitest';
import { defaultSymbol, dismissKey, freeName, guideCovers, guideVisible, marketsStep, validStartingBalance } from '../renderer/src/stores/firstrun-logic';

/** The first-run guide's rules (renderer/src/stores/firstrun-logic.ts); the e2e is test/e2e/firstrun.e2e.ts. */
describe('first-run guide: where and when it shows', () => {
  it('covers the pages that need a broker, never Account or Strategies', () => {
    for (const p of ['/heartbeat', '/trading', '/bot', '/backtest', '/webhooks', '/statistics']) expect(guideCovers(p)).toBe(true);
    for (const p of ['/account', '/strategies', '/', '/tradingx', '/heartbeatz']) expect(guideCovers(p)).toBe(false);
  });

  it('shows while the profile has no broker, and not before the brokers are known', () => {
    expect(guideVisible({ checked: false, brokerCount: 0, dismissed: false, inFlow: false })).toBe(false);
    expect(guideVisible({ checked: true, brokerCount: 0, dismissed: false, inFlow: false })).toBe(true);
  });

  it('goes away by itself once a broker exists, except while its own steps are being finished', () => {
    expect(guideVisible({ checked: true, brokerCount: 1, dismissed: false, inFlow: false })).toBe(false);
    expect(guideVisible({ checked: true, brokerCount: 1, dismissed: false, inFlow: true })).toBe(true);
  });

  it('a dismissed guide never shows, whatever the brokers', () => {
    expect(guideVisible({ checked: true, brokerCount: 0, dismissed: true, inFlow: false })).toBe(false);
    expect(guideVisible({ checked: true, brokerCount: 1, dismissed: true, inFlow: true })).toBe(false);
  });

  it('remembers the dismissal per profile', () => {
    expect(dismissKey('a')).not.toBe(dismissKey('b'));
    expect(dismissKey('p-1')).toBe('aristobot.firstrun.dismissed.p-1');
  });
});

describe('first-run guide: the markets step', () => {
  const progress = (phase: 'fetching' | 'storing' | 'done' | 'failed' | 'cancelled', extra: Partial<{ percent: number; count: number | null; message: string | null }> = {}) => ({ phase, percent: 0, count: null, message: null, ...extra });

  it('is pending without a broker, even with markets stored', () => {
    expect(marketsStep({ exchange: null, progress: null, stored: 10 }).state).toBe('pending');
  });

  it('runs with the progress percentage, then is done with the count', () => {
    expect(marketsStep({ exchange: 'binance', progress: progress('fetching', { percent: 2 }), stored: 0 })).toMatchObject({ state: 'running', percent: 2 });
    expect(marketsStep({ exchange: 'binance', progress: progress('storing', { percent: 70 }), stored: 0 })).toMatchObject({ state: 'running', percent: 70 });
    expect(marketsStep({ exchange: 'binance', progress: progress('done', { count: 4 }), stored: 0 })).toMatchObject({ state: 'done', count: 4 });
  });

  it('says failed with the core’s words even when older markets are stored', () => {
    expect(marketsStep({ exchange: 'binance', progress: progress('failed', { message: 'fetch failed' }), stored: 3 })).toMatchObject({ state: 'failed', message: 'fetch failed' });
  });

  it('is done without a run when the exchange’s markets are already stored, pending when none are', () => {
    expect(marketsStep({ exchange: 'binance', progress: null, stored: 3 })).toMatchObject({ state: 'done', count: 3 });
    expect(marketsStep({ exchange: 'binance', progress: null, stored: 0 }).state).toBe('pending');
  });

  it('a cancelled run is pending (and says so) when nothing was stored, done when older markets remain', () => {
    expect(marketsStep({ exchange: 'binance', progress: progress('cancelled'), stored: 0 })).toMatchObject({ state: 'pending', cancelled: true });
    expect(marketsStep({ exchange: 'binance', progress: progress('cancelled'), stored: 5 })).toMatchObject({ state: 'done', cancelled: false });
  });
});

describe('first-run guide: choices', () => {
  it('offers BTC/USDT first, else a USDT pair, else the first', () => {
    expect(defaultSymbol(['ETH/USDT', 'BTC/USDT'])).toBe('BTC/USDT');
    expect(defaultSymbol(['ETH/BTC', 'ETH/USDT'])).toBe('ETH/USDT');
    expect(defaultSymbol(['ETH/BTC'])).toBe('ETH/BTC');
    expect(defaultSymbol([])).toBeNull();
  });

  it('accepts a positive plain decimal starting balance only', () => {
    for (const ok of ['10000', '0.5', ' 250.25 ']) expect(validStartingBalance(ok)).toBe(true);
    for (const bad of ['0', '-5', '', 'abc', '1e5', '1,000', '10.123456789']) expect(validStartingBalance(bad)).toBe(false);
  });

  it('names the paper broker without clashing with an existing one', () => {
    expect(freeName('Paper', [])).toBe('Paper');
    expect(freeName('Paper', ['paper', 'Paper 2'])).toBe('Paper 3');
  });
});
