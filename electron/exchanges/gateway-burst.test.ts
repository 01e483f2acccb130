import type { Exchange } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log';
import { ExchangeGateway, ROLLING_WINDOW_MS } from './gateway';

/**
 * Binance's instances limit their requests by CCXT's rolling window (Binance's weight budget per
 * minute, gateway.ts ROLLING_WINDOW_MS): the bot's orders of one candle close leave together, and
 * a minute's budget is still never exceeded. Other exchanges keep CCXT's leaky bucket. CCXT's own
 * throttler, driven as CCXT drives it before each request.
 */
const gw = new ExchangeGateway({ log: silentLogger(), env: {} });
type Bucket = { algorithm: string; windowSize: number; maxWeight?: number; capacity: number; refillRate: number };
const bucket = (ex: Exchange) => (ex as unknown as { throttler: { config: Bucket } }).throttler.config;

/** Ends the throttler's loop (the requests still waiting are dropped with the instance). */
const stop = (ex: Exchange) => void ((ex as unknown as { throttler: { running: boolean } }).throttler.running = false);

/** How many of `n` requests of `cost` units CCXT's throttler lets through in the turn they are asked. */
async function atOnce(ex: Exchange, cost: number, n: number): Promise<{ now: number; all: Promise<unknown> }> {
  let passed = 0;
  const all = Promise.all(Array.from({ length: n }, () => (ex.throttle(cost) as Promise<unknown>).then(() => passed++)));
  // the requests the limiter lets go pass in the same turn; the others wait (≥ 1 ms)
  await new Promise((r) => setImmediate(r));
  return { now: passed, all };
}

describe('the rate limiter of an exchange instance', () => {
  it("binance: a burst of orders leaves at once, within Binance's weight budget per minute (6000, 1200 of CCXT's units)", async () => {
    expect(ROLLING_WINDOW_MS.binance).toBe(60_000);
    const ex = gw.create('binance', {}, false);
    expect(bucket(ex)).toMatchObject({ algorithm: 'rollingWindow', windowSize: 60_000, maxWeight: 1200 });
    // 25 orders (weight 1: 0.2 units each) at once
    const burst = await atOnce(ex, 0.2, 25);
    expect(burst.now).toBe(25);
    await burst.all;
    // the minute's budget: 1200 units less the burst's 5; past it, a request waits for the window
    const heavy = await atOnce(ex, 100, 12);
    expect(heavy.now).toBe(11);
    stop(ex);
  });

  it("other exchanges keep CCXT's leaky bucket: one request at once, then spaced", async () => {
    const ex = gw.create('kraken', {}, false);
    expect(bucket(ex).algorithm).toBe('leakyBucket');
    const burst = await atOnce(ex, 1, 3);
    expect(burst.now).toBe(1);
    stop(ex);
  });
});
