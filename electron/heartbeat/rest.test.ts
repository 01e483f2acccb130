import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamSimulator } from '../../test/sim/stream/server';
import { BinanceRest, BinanceRestError } from './rest';

const MIN = 60_000;
const T0 = Date.UTC(2024, 6, 1, 0, 0);

describe('BinanceRest (klines) against the simulator', () => {
  let sim: StreamSimulator;
  beforeAll(async () => {
    sim = await StreamSimulator.start({ startTime: T0 + 3000 * MIN + 20_000 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('pages by 1000 and returns exactly the minutes of [from, to), oldest first', async () => {
    const rest = new BinanceRest({ baseUrl: sim.restUrl });
    const before = sim.restRequests.length;
    const got = await rest.klines('BTCUSDT', T0 + 5 * MIN, T0 + 2505 * MIN);
    const reqs = sim.restRequests.slice(before);
    expect(reqs).toHaveLength(3);
    for (const r of reqs) expect(Number(new URL(r.url, 'http://x').searchParams.get('limit'))).toBeLessThanOrEqual(1000);
    expect(got.map((c) => c.openTime)).toEqual(Array.from({ length: 2500 }, (_, i) => T0 + (5 + i) * MIN));
    const want = sim.series.candle('BTC/USDT', T0 + 5 * MIN);
    expect(got[0]!.open.eq(want.open) && got[0]!.high.eq(want.high) && got[0]!.low.eq(want.low) && got[0]!.close.eq(want.close) && got[0]!.volume.eq(want.volume)).toBe(true);
  });

  it('stops before `to`: bounded by the current minute, the open kline the server lists is left out', async () => {
    const rest = new BinanceRest({ baseUrl: sim.restUrl });
    const got = await rest.klines('BTCUSDT', T0 + 2990 * MIN, T0 + 3000 * MIN);
    expect(got.map((c) => c.openTime)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (2990 + i) * MIN));
    const url = new URL(sim.restRequests.at(-1)!.url, 'http://x');
    expect(url.searchParams.get('endTime')).toBe(String(T0 + 3000 * MIN - 1));
  });

  it('on 429 honours Retry-After: no request is sent before it has passed', async () => {
    let now = 1_000_000;
    const rest = new BinanceRest({ baseUrl: sim.restUrl, now: () => now });
    sim.failRest({ status: 429, retryAfterSec: 7 });
    const e1 = await rest.klines('BTCUSDT', T0, T0 + MIN).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(BinanceRestError);
    expect((e1 as BinanceRestError).kind).toBe('rate_limited');
    expect((e1 as BinanceRestError).retryAfterMs).toBe(7000);
    sim.failRest(null);
    const n = sim.restRequests.length;
    now += 6000;
    const e2 = await rest.klines('BTCUSDT', T0, T0 + MIN).catch((e: unknown) => e);
    expect((e2 as BinanceRestError).kind).toBe('rate_limited');
    expect((e2 as BinanceRestError).retryAfterMs).toBe(1000);
    expect(sim.restRequests.length).toBe(n);
    now += 1000;
    expect(await rest.klines('BTCUSDT', T0, T0 + MIN)).toHaveLength(1);
  });

  it('times out a request that does not answer, and reports HTTP errors with their message', async () => {
    const rest = new BinanceRest({ baseUrl: sim.restUrl, timeoutMs: 200 });
    sim.failRest('hang');
    const e = await rest.klines('BTCUSDT', T0, T0 + MIN).catch((x: unknown) => x);
    sim.failRest(null);
    expect((e as BinanceRestError).kind).toBe('timeout');
    const bad = await rest.klines('NOPEUSDT', T0, T0 + MIN).catch((x: unknown) => x);
    expect(bad).toMatchObject({ kind: 'http', status: 400, message: 'Binance REST answered 400: Invalid symbol.' });
    const down = new BinanceRest({ baseUrl: 'http://127.0.0.1:1' });
    expect(await down.klines('BTCUSDT', T0, T0 + MIN).catch((x: unknown) => (x as BinanceRestError).kind)).toBe('network');
  });

  it('refuses a malformed answer', async () => {
    const rest = new BinanceRest({ baseUrl: sim.restUrl, fetch: async () => new Response(JSON.stringify([[T0, '1', 'x']]), { status: 200 }) });
    expect(await rest.klines('BTCUSDT', T0, T0 + MIN).catch((x: unknown) => (x as BinanceRestError).kind)).toBe('bad_response');
  });
});
