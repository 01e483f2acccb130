import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { exchangeUrlOverride, pointExchangeAt } from '../../../electron/exchanges/urls';
import { AppError } from '../../../shared/errors';

/** electron/exchanges/urls.ts: pointing CCXT at the simulator (or any other base URL). */

const BASE = 'http://127.0.0.1:7700';
const api = (ex: { urls: { api: unknown } }) => ex.urls.api as Record<string, string>;

describe('pointExchangeAt', () => {
  it('rewrites every Binance REST URL to the base, keeping the path, and limits loadMarkets to spot', () => {
    const ex = new ccxt.binance();
    pointExchangeAt(ex, `${BASE}/`);
    expect(api(ex)['public']).toBe(`${BASE}/api/v3`);
    expect(api(ex)['private']).toBe(`${BASE}/api/v3`);
    expect(api(ex)['v1']).toBe(`${BASE}/api/v1`);
    expect(api(ex)['sapi']).toBe(`${BASE}/sapi/v1`);
    expect(api(ex)['fapiPublic']).toBe(`${BASE}/fapi/v1`);
    expect(api(ex)['dapiData']).toBe(`${BASE}/futures/data`);
    expect(Object.values(api(ex)).every((u) => u.startsWith(`${BASE}/`))).toBe(true);
    expect((ex.urls.test as Record<string, string>)['public']).toBe(`${BASE}/api/v3`);
    expect(ex.urls['www']).toBe('https://www.binance.com'); // not an API URL: untouched
    expect(ex.options['fetchMarkets']).toEqual({ types: ['spot'], loadAllOptions: false });
    expect(ex.options['fetchCurrencies']).toBe(false);
    expect(ex.options['fetchMargins']).toBe(false);
  });

  it('works after sandbox mode: the testnet map is redirected and gets the APIs it lacks (sapi)', () => {
    const ex = new ccxt.binance();
    ex.setSandboxMode(true);
    expect(api(ex)['sapi']).toBeUndefined();
    pointExchangeAt(ex, BASE);
    expect(api(ex)['public']).toBe(`${BASE}/api/v3`);
    expect(api(ex)['sapi']).toBe(`${BASE}/sapi/v1`);
  });

  it('keeps CCXT spot error mapping behind the new origin', () => {
    const ex = new ccxt.binance();
    pointExchangeAt(ex, BASE);
    const byUrl = (ex as unknown as { getExceptionsByUrl(url: string, kind: string): Record<string, unknown> }).getExceptionsByUrl;
    const spotExact = byUrl.call(ex, `${BASE}/api/v3/order/cancelReplace`, 'exact');
    expect(spotExact['-2022']).toBe(ccxt.BadResponse);
    const linearExact = byUrl.call(ex, `${BASE}/fapi/v1/order`, 'exact');
    expect(linearExact).not.toBe(spotExact);
    expect(Object.keys(linearExact).length).toBeGreaterThan(0);
    expect(byUrl.call(ex, 'https://example.com/x', 'exact')).toEqual({});
  });

  it('points any other exchange entirely at the base', () => {
    const ex = new ccxt.kraken();
    pointExchangeAt(ex, `${BASE}/prefix`);
    expect(api(ex)['public']).toBe(`${BASE}/prefix`);
    expect(api(ex)['private']).toBe(`${BASE}/prefix`);
    expect(ex.options['fetchMarkets']).not.toEqual({ types: ['spot'], loadAllOptions: false });
  });

  it('refuses a base that is not an http(s) URL', () => {
    expect(() => pointExchangeAt(new ccxt.binance(), 'ftp://127.0.0.1')).toThrow(AppError);
    expect(() => pointExchangeAt(new ccxt.binance(), 'localhost:7700')).toThrow(/http\(s\) URL/);
  });
});

describe('exchangeUrlOverride', () => {
  it('reads ARISTOBOT_EXCHANGE_URL_<id> (or its upper-case form), normalized', () => {
    expect(exchangeUrlOverride('binance', { ARISTOBOT_EXCHANGE_URL_binance: 'http://127.0.0.1:7700/' })).toBe(BASE);
    expect(exchangeUrlOverride('binance', { ARISTOBOT_EXCHANGE_URL_BINANCE: ' http://127.0.0.1:7700 ' })).toBe(BASE);
    expect(exchangeUrlOverride('kraken', { ARISTOBOT_EXCHANGE_URL_binance: BASE })).toBeUndefined();
    expect(exchangeUrlOverride('binance', {})).toBeUndefined();
    expect(exchangeUrlOverride('binance', { ARISTOBOT_EXCHANGE_URL_binance: '' })).toBeUndefined();
  });

  it('names the variable when its value is not a URL', () => {
    let err: unknown;
    try {
      exchangeUrlOverride('binance', { ARISTOBOT_EXCHANGE_URL_binance: 'nope' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('invalid_input');
    expect((err as AppError).message).toContain('ARISTOBOT_EXCHANGE_URL_binance');
  });
});
