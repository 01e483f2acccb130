import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/support/db';
import { PriceSeries } from '../../test/sim/series';
import { CandleStore, type CandleRow } from './store';

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 10, 23, 50);

describe('CandleStore', () => {
  let t: TestDb;
  let store: CandleStore;
  const series = new PriceSeries(3);
  const rows = (symbol: string, from: number, n: number): CandleRow[] =>
    series.candles(symbol, from, from + n * MIN).map((c) => ({ exchange: 'binance', symbol, timeframe: '1m', ...c }));

  beforeAll(async () => {
    t = await createTestDb();
    store = new CandleStore(t.db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('upserts idempotently and reads back exactly what was written, oldest first', async () => {
    const r = rows('BTC/USDT', T0, 30);
    await store.upsert(r);
    await store.upsert(r.slice(5, 15));
    const got = await store.query({ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' });
    expect(got).toEqual(series.candles('BTC/USDT', T0, T0 + 30 * MIN));
    const { rows: n } = await t.db.query<{ n: number }>("SELECT count(*) AS n FROM candles WHERE symbol = 'BTC/USDT'");
    expect(n[0]!.n).toBe(30);
  });

  it('updates a changed candle and keeps the last of duplicate keys within one call', async () => {
    const [a] = rows('ETH/USDT', T0, 1);
    await store.upsert([a!]);
    await store.upsert([{ ...a!, close: '1.5' }, { ...a!, close: new Decimal('2.25'), volume: new Decimal('1e-7') }]);
    const [got] = await store.query({ exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1m' });
    expect(got!.close).toBe('2.25');
    expect(got!.volume).toBe('0.0000001');
  });

  it('queries a window: from inclusive, to exclusive; limit takes the first from `from`, else the latest', async () => {
    const q = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' as const };
    const win = await store.query({ ...q, from: T0 + 5 * MIN, to: T0 + 8 * MIN });
    expect(win.map((c) => (c.openTime - T0) / MIN)).toEqual([5, 6, 7]);
    const first = await store.query({ ...q, from: T0 + 10 * MIN, limit: 2 });
    expect(first.map((c) => (c.openTime - T0) / MIN)).toEqual([10, 11]);
    const latest = await store.query({ ...q, limit: 3 });
    expect(latest.map((c) => (c.openTime - T0) / MIN)).toEqual([27, 28, 29]);
    const before = await store.query({ ...q, to: T0 + 10 * MIN, limit: 2 });
    expect(before.map((c) => (c.openTime - T0) / MIN)).toEqual([8, 9]);
    expect(await store.query({ ...q, timeframe: '5m' })).toEqual([]);
  });

  it('upserts large batches in several statements', async () => {
    const r = rows('SOL/USDT', T0, 12_000);
    await store.upsert(r);
    expect(await store.lastMinute('binance', 'SOL/USDT')).toBe(T0 + 11_999 * MIN);
    expect(await store.missingMinutes('binance', 'SOL/USDT', T0, T0 + 12_000 * MIN)).toEqual([]);
  });

  it('finds the last stored minute and the missing ranges in a window', async () => {
    expect(await store.lastMinute('binance', 'BTC/USDT')).toBe(T0 + 29 * MIN);
    expect(await store.lastMinute('binance', 'BNB/USDT')).toBeNull();
    const r = rows('BNB/USDT', T0, 20).filter((_, i) => ![0, 4, 5, 6, 12].includes(i));
    await store.upsert(r);
    expect(await store.missingMinutes('binance', 'BNB/USDT', T0, T0 + 25 * MIN)).toEqual([
      { from: T0, to: T0 + MIN },
      { from: T0 + 4 * MIN, to: T0 + 7 * MIN },
      { from: T0 + 12 * MIN, to: T0 + 13 * MIN },
      { from: T0 + 20 * MIN, to: T0 + 25 * MIN },
    ]);
    expect(await store.missingMinutes('binance', 'BNB/USDT', T0 + MIN, T0 + 4 * MIN)).toEqual([]);
    expect(await store.missingMinutes('binance', 'XRP/USDT', T0, T0 + 2 * MIN)).toEqual([{ from: T0, to: T0 + 2 * MIN }]);
  });

  it('ships the default watched symbol', async () => {
    const { rows: s } = await t.db.query<{ exchange: string; symbol: string }>('SELECT exchange, symbol FROM heartbeat_symbols');
    expect(s).toEqual([{ exchange: 'binance', symbol: 'BTC/USDT' }]);
  });
});
