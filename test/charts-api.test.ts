import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodOutput } from '../shared/contract';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { startTestHost, type TestHost, type WsClient } from './support/host';

/**
 * `markets.candles` (the Manual trading chart's candles) through the real transport and core: the
 * heartbeat's stored candles for a watched market of a broker on the heartbeat's exchange, the
 * broker's exchange through CCXT fetchOHLCV (the Binance REST simulator) for any other, each bad
 * input refused with invalid_input (no request reaches the exchange), an unknown broker not_found,
 * an unreachable or failing exchange its exchange error code.
 */

type Result = MethodOutput<'markets.candles'>;
const KEY = 'ChartsApiTestKey000000000000000000000000000000000000000000000001';
const SECRET = 'ChartsApiTestSecret00000000000000000000000000000000000000000001';
const MIN = 60_000;

let sim: ExchangeSim;
let h: TestHost;
let c: WsClient;
let binance: string;
let offline: string;

beforeAll(async () => {
  sim = await startExchangeSim({ accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '1000' } }] });
  process.env.ARISTOBOT_EXCHANGE_URL_binance = sim.url;
  // binanceus: a closed port (nothing listens on the discard port here)
  process.env.ARISTOBOT_EXCHANGE_URL_binanceus = 'http://127.0.0.1:9';
  process.env.ARISTOBOT_BINANCE_REST_URL = sim.url;
  h = await startTestHost({ ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'charts-api-passphrase' });
  c = await h.client();
  await c.call('profiles.create', { name: 'Charts', password: 'pw-12345' });
  await c.call('profiles.login', { name: 'Charts', password: 'pw-12345' });
  binance = (await c.call<{ id: string }>('brokers.create', { name: 'Sim', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } })).id;
  offline = (await c.call<{ id: string }>('brokers.create', { name: 'US', exchange: 'binanceus', credentials: { apiKey: KEY, secret: SECRET } })).id;
}, 60_000);
afterAll(async () => {
  c?.close();
  await h?.close();
  await sim?.close();
  delete process.env.ARISTOBOT_EXCHANGE_URL_binance;
  delete process.env.ARISTOBOT_EXCHANGE_URL_binanceus;
  delete process.env.ARISTOBOT_BINANCE_REST_URL;
});

const err = (p: Promise<unknown>) => p.then(() => null, (e: Error & { code?: string; details?: { issues?: { path: string }[] } }) => ({ code: e.code, message: e.message, paths: e.details?.issues?.map((i) => i.path) ?? [] }));
const klines = () => sim.requestLog.filter((r) => r.method === 'GET' && r.path === '/api/v3/klines').length;

describe('markets.candles', () => {
  it('needs a logged-in profile', async () => {
    const anon = await h.client();
    expect(await err(anon.call('markets.candles', { brokerId: binance, symbol: 'BTC/USDT', timeframe: '1m' }))).toMatchObject({ code: 'unauthenticated' });
    anon.close();
  });

  it("a watched market on the heartbeat's exchange: the heartbeat's stored candles, oldest first", async () => {
    const last = Math.floor(Date.now() / MIN) * MIN - MIN;
    const rows = [3, 2, 1, 0].map((k) => ({ t: last - k * 5 * MIN, o: `${100 + k}.5`, h: `${110 + k}`, l: `${90 + k}`, c: `${105 + k}.25`, v: `${k}.125` }));
    for (const r of rows) {
      await h.db.db.query("INSERT INTO candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume) VALUES ('binance', 'BTC/USDT', '5m', to_timestamp($1::double precision / 1000), $2, $3, $4, $5, $6)", [r.t, r.o, r.h, r.l, r.c, r.v]);
    }
    const before = klines();
    const got = await c.call<Result>('markets.candles', { brokerId: binance, symbol: 'BTC/USDT', timeframe: '5m', limit: 3 });
    expect(got).toMatchObject({ source: 'heartbeat', exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' });
    expect(got.candles).toEqual(rows.slice(1).map((r) => ({ openTime: r.t, open: r.o, high: r.h, low: r.l, close: r.c, volume: r.v })));
    expect(klines()).toBe(before); // nothing asked of the exchange
  });

  it("any other market: the broker's exchange through CCXT fetchOHLCV, closed candles only, the same as the exchange gives", async () => {
    const got = await c.call<Result>('markets.candles', { brokerId: binance, symbol: 'ETH/USDT', timeframe: '1m', limit: 20 });
    expect(got).toMatchObject({ source: 'exchange', exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1m' });
    expect(got.candles).toHaveLength(20);
    const now = Date.now();
    const lastClosed = Math.floor(now / MIN) * MIN - MIN;
    // the last closed minute (or the one before, when the minute turned during the call)
    expect(lastClosed - got.candles.at(-1)!.openTime).toBeLessThanOrEqual(MIN);
    expect(got.candles.every((x, i) => i === 0 || x.openTime - got.candles[i - 1]!.openTime === MIN)).toBe(true);
    // the exchange's own answer (Binance's klines, read directly): the same candles
    const res = await fetch(`${sim.url}/api/v3/klines?symbol=ETHUSDT&interval=1m&startTime=${got.candles[0]!.openTime}&limit=20`);
    const direct = ((await res.json()) as string[][]).map((k) => [Number(k[0]), Number(k[1]), Number(k[2]), Number(k[3]), Number(k[4]), Number(k[5])]);
    expect(got.candles.map((x) => [x.openTime, Number(x.open), Number(x.high), Number(x.low), Number(x.close), Number(x.volume)])).toEqual(direct);
    // read again: from the cache, only what is new is requested
    const n = klines();
    const again = await c.call<Result>('markets.candles', { brokerId: binance, symbol: 'ETH/USDT', timeframe: '1m', limit: 20 });
    expect(again.candles.at(-1)!.openTime).toBeGreaterThanOrEqual(got.candles.at(-1)!.openTime);
    expect(klines() - n).toBeLessThanOrEqual(1);
  });

  it('refuses each bad input with invalid_input and the reason; nothing reaches the exchange', async () => {
    const ok = { brokerId: binance, symbol: 'ETH/USDT', timeframe: '5m', limit: 10 };
    const cases: [string, Record<string, unknown>, string][] = [
      ['no broker', { brokerId: undefined }, 'brokerId'],
      ['a broker id that is not an id', { brokerId: 'nope' }, 'brokerId'],
      ['a symbol without a quote', { symbol: 'ETHUSDT' }, 'symbol'],
      ['an empty symbol', { symbol: '' }, 'symbol'],
      ['a timeframe the app does not chart', { timeframe: '1d' }, 'timeframe'],
      ['limit 0', { limit: 0 }, 'limit'],
      ['limit above 1000', { limit: 1001 }, 'limit'],
      ['a fractional limit', { limit: 2.5 }, 'limit'],
      ['an unknown field', { extra: 1 }, ''],
    ];
    const before = klines();
    for (const [name, change, path] of cases) {
      const e = await err(c.call('markets.candles', { ...ok, ...change }));
      expect(e, name).toMatchObject({ code: 'invalid_input' });
      if (path) expect(e!.paths.join(), name).toContain(path);
    }
    // refused by what the exchange lists: a market it does not have, a timeframe it has no candles of
    expect(await err(c.call('markets.candles', { ...ok, symbol: 'NOPE/USDT' }))).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('NOPE/USDT is not a market of binance') });
    expect(await err(c.call('markets.candles', { ...ok, timeframe: '10m' }))).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('no 10m candles') });
    expect(klines()).toBe(before);
    expect(await err(c.call('markets.candles', { ...ok, brokerId: '00000000-0000-4000-8000-000000000000' }))).toMatchObject({ code: 'not_found' });
  });

  it('an unreachable exchange answers exchange_network; an exchange failing the request, its exchange code', async () => {
    expect(await err(c.call('markets.candles', { brokerId: offline, symbol: 'BTC/USDT', timeframe: '1m' }))).toMatchObject({ code: 'exchange_network', message: expect.stringContaining('Could not reach binanceus') });
    sim.failNext('/api/v3/klines', { status: 429, code: -1003, msg: 'Too many requests.' });
    expect(await err(c.call('markets.candles', { brokerId: binance, symbol: 'BNB/USDT', timeframe: '15m' }))).toMatchObject({ code: 'exchange_rate_limit' });
    sim.failNext('/api/v3/klines', { status: 503, code: -1001, msg: 'Internal error; unable to process your request. Please try again.' });
    expect((await err(c.call('markets.candles', { brokerId: binance, symbol: 'BNB/USDT', timeframe: '15m' })))?.code).toMatch(/^exchange_(down|error|network)$/);
    // the exchange answers again: the candles come
    expect((await c.call<Result>('markets.candles', { brokerId: binance, symbol: 'BNB/USDT', timeframe: '15m', limit: 5 })).candles).toHaveLength(5);
  });
});
