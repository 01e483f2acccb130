import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOwner } from './support/db';
import { startTestHost, type TestHost, type WsClient } from './support/host';

/** The backtest API through the real core and WebSocket transport (what the page and scripts use). */

const GOOG_CSV = readFileSync(resolve(import.meta.dirname, '../../shared/data/ohlcv/GOOG.csv'), 'utf8');
let t: TestHost;
let c: WsClient;

const runInput = (over: Record<string, unknown> = {}) => ({ strategyId: 'example:sma-cross', exchange: 'csv-goog', symbol: 'GOOG/USD', timeframe: '1d', from: Date.UTC(2004, 0, 1), to: Date.UTC(2014, 0, 1), initialBalance: '10000', ...over });
const count = (table: string) => asOwner(t.db.ownerUrl, async (q) => (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n);

beforeAll(async () => {
  t = await startTestHost();
  c = await t.client();
  await c.call('profiles.create', { name: 'Tester', password: 'pw-12345' });
  await c.call('profiles.login', { name: 'Tester', password: 'pw-12345' });
  await c.call('events.subscribe', { events: ['backtests.progress', 'backtests.done'] });
});
afterAll(async () => {
  c.close();
  await t.close();
});

describe('backtests over the API', () => {
  it('candles.import → backtests.run → progress and done events → get, list', async () => {
    expect(await c.call('candles.import', { exchange: 'csv-goog', symbol: 'GOOG/USD', timeframe: '1d', csv: GOOG_CSV })).toEqual({ rows: 2148, from: Date.UTC(2004, 7, 19), to: Date.UTC(2013, 2, 1) });
    const sets = await c.call<{ exchange: string; count: number }[]>('candles.datasets');
    expect(sets).toContainEqual(expect.objectContaining({ exchange: 'csv-goog', symbol: 'GOOG/USD', timeframe: '1d', count: 2148 }));
    const strategies = await c.call<{ strategyId: string; params: Record<string, unknown> }[]>('backtests.strategies');
    expect(strategies.find((s) => s.strategyId === 'example:sma-cross')?.params).toHaveProperty('fast');

    const { runId } = await c.call<{ runId: string }>('backtests.run', runInput({ fees: { maker: 0.001, taker: 0.002 } }));
    // the core answers while the run computes
    expect((await c.call<{ state: string }>('app.status')).state).toBe('ready');
    const done = await c.waitForEvent('backtests.done', 30_000);
    expect(done.data).toEqual({ runId, status: 'done', error: null, errorKey: null, errorParams: null });
    expect(c.events.some((e) => e.event === 'backtests.progress' && (e.data as { runId: string }).runId === runId)).toBe(true);
    const r = await c.call<{ status: string; metrics: { tradeCount: number; totalFees: number }; trades: unknown[]; equity: { time: number[] } }>('backtests.get', { runId });
    expect(r.status).toBe('done');
    expect(r.metrics.tradeCount).toBe(r.trades.length);
    expect(r.metrics.totalFees).toBeGreaterThan(0);
    const list = await c.call<{ runId: string }[]>('backtests.list');
    expect(list.map((x) => x.runId)).toContain(runId);
  });

  it('bad input → invalid_input with the reason, nothing stored', async () => {
    const runs = await count('backtest_runs');
    const candles = await count('candles');
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['backtests.run', runInput({ from: 5, to: 5 }), /empty/],
      ['backtests.run', runInput({ from: 10, to: 5 }), /inverted/],
      ['backtests.run', runInput({ initialBalance: '0' }), /greater than zero/],
      ['backtests.run', runInput({ initialBalance: '-1' }), /greater than zero/],
      ['backtests.run', runInput({ fees: { maker: 2, taker: 0 } }), /between 0 and 1/],
      ['backtests.run', runInput({ symbol: 'ZZZ/USD' }), /Unknown symbol/],
      ['backtests.run', runInput({ timeframe: '4h' }), /no 4h candles/],
      ['backtests.run', runInput({ timeframe: '7m' }), /.+/],
      ['backtests.run', runInput({ strategyId: '00000000-0000-4000-8000-000000000000' }), /.+/],
      ['backtests.run', runInput({ exchange: undefined }), /either brokerId/],
      ['backtests.lookahead', runInput({ from: 10, to: 5 }), /inverted/],
      ['backtests.optimise', { ...runInput(), grid: { fast: [5, 10] }, holdout: 1 }, /held-out/],
      ['candles.import', { exchange: 'set', symbol: 'A/B', timeframe: '1d', csv: 'Date,Open,High,Low,Close\n2020-01-01,1,2,0.5,x\n' }, /Line 2/],
      ['candles.import', { exchange: 'binance', symbol: 'A/B', timeframe: '1d', csv: GOOG_CSV }, /is an exchange/],
    ];
    for (const [method, params, why] of cases) {
      const reply = await c.request(method, params);
      expect(reply.error?.code, `${method} ${JSON.stringify(params).slice(0, 120)}`).toBe('invalid_input');
      expect(reply.error!.message).toMatch(why);
    }
    expect(await count('backtest_runs')).toBe(runs);
    expect(await count('candles')).toBe(candles);
  });

  it('needs a logged-in profile', async () => {
    const anon = await t.client();
    expect((await anon.request('backtests.list')).error?.code).toBe('unauthenticated');
    anon.close();
  });
});
