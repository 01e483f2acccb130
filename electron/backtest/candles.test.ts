import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointExchangeAt } from '../exchanges/urls';
import { createTestDb, type TestDb } from '../../test/support/db';
import { startExchangeSim, type ExchangeSim } from '../../test/sim/exchange';
import { BacktestCandles } from './candles';
import { parseCandleCsv, parseTime } from './csv';

const DATA = resolve(import.meta.dirname, '../../../shared/data/ohlcv');
const read = (f: string) => readFileSync(resolve(DATA, f), 'utf8');
const MIN = 60_000;

let t: TestDb;
let candles: BacktestCandles;
let sim: ExchangeSim;

beforeAll(async () => {
  t = await createTestDb();
  candles = new BacktestCandles(t.db);
  sim = await startExchangeSim();
});
afterAll(async () => {
  await sim.close();
  await t.close();
});

async function stored(exchange: string, symbol: string, tf: string): Promise<number> {
  const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = $3', [exchange, symbol, tf]);
  return rows[0]!.n;
}

describe('CSV import of the real series in shared/data/ohlcv', () => {
  it('GOOG daily (first column unnamed): every row, loaded back as exact float64 columns', async () => {
    const csv = read('GOOG.csv');
    const r = await candles.importCsv('csv-goog', 'GOOG/USD', '1d', csv);
    const lines = csv.trim().split('\n').slice(1);
    expect(r.rows).toBe(lines.length);
    expect(r.from).toBe(Date.UTC(2004, 7, 19));
    const c = await candles.load('csv-goog', 'GOOG/USD', '1d', r.from, r.to + 1);
    expect(c.close.length).toBe(lines.length);
    // every value as the file has it, parsed by JavaScript itself
    for (const [i, line] of lines.entries()) {
      const [d, o, h, l, cl, v] = line.split(',');
      expect(c.time[i]).toBe(Date.parse(`${d}T00:00:00Z`));
      expect([c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i]]).toEqual([Number(o), Number(h), Number(l), Number(cl), Number(v)]);
    }
  });

  it('loading in several pages gives the same columns as in one', async () => {
    const one = await candles.load('csv-goog', 'GOOG/USD', '1d', 0, Date.UTC(2030, 0, 1));
    const paged = await new BacktestCandles(t.db, 500).load('csv-goog', 'GOOG/USD', '1d', 0, Date.UTC(2030, 0, 1));
    expect(paged.time.length).toBe(2148);
    for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) expect([...paged[k]]).toEqual([...one[k]]);
    const exact = await new BacktestCandles(t.db, 1074).load('csv-goog', 'GOOG/USD', '1d', 0, Date.UTC(2030, 0, 1));
    expect([...exact.close]).toEqual([...one.close]);
  });

  it('a long series is read in parallel time slices, joined in order', async () => {
    const rows = Array.from({ length: 250_000 }, (_, i) => `${Date.UTC(2019, 0, 1) + i * MIN},1,2,0.5,${1 + (i % 1000) / 1000},1`);
    await candles.importCsv('csv-long', 'L/USD', '1m', rows.join('\n'));
    for (const slices of [1, 3]) {
      const c = await new BacktestCandles(t.db, 40_000, slices).load('csv-long', 'L/USD', '1m', 0, Date.UTC(2030, 0, 1));
      expect(c.time.length).toBe(250_000);
      for (let i = 0; i < c.time.length; i += 997) expect([c.time[i], c.close[i]]).toEqual([Date.UTC(2019, 0, 1) + i * MIN, 1 + (i % 1000) / 1000]);
      for (let i = 1; i < c.time.length; i++) if (c.time[i]! - c.time[i - 1]! !== MIN) throw new Error(`gap at ${i}`);
    }
  });

  it('EURUSD hourly (date and time), BTCUSD monthly and bt2006 (a named Date column and an extra column)', async () => {
    const eur = await candles.importCsv('csv-fx', 'EUR/USD', '1h', read('EURUSD.csv'));
    expect(eur.rows).toBe(5000);
    expect(eur.from).toBe(Date.UTC(2017, 3, 19, 9));
    const btc = await candles.importCsv('csv-btc', 'BTC/USD', '1M', read('BTCUSD.csv'));
    expect(btc.rows).toBe(156);
    const bt = await candles.importCsv('csv-bt', 'IDX/EUR', '1d', read('bt2006.csv'));
    expect(bt.rows).toBe(255);
    const c = await candles.load('csv-bt', 'IDX/EUR', '1d', 0, Date.UTC(2030, 0, 1));
    expect(c.open[0]).toBe(3578.73);
    expect(c.close[0]).toBe(3604.33);
  });

  it('no header, epoch milliseconds, rows out of order: sorted', () => {
    const rows = parseCandleCsv(`${Date.UTC(2024, 0, 2)},2,3,1,2.5,10\n${Date.UTC(2024, 0, 1)},1,2,0.5,1.5,5\n`);
    expect(rows.map((r) => r.time)).toEqual([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2)]);
    expect(rows[0]).toMatchObject({ open: '1', high: '2', low: '0.5', close: '1.5', volume: '5' });
  });

  it('bad rows are reported by line number and nothing is imported', async () => {
    const csv = ['Date,Open,High,Low,Close,Volume', '2024-01-01,1,2,0.5,1.5,5', '2024-01-02,1,x,0.5,1.5,5', '2024-02-31,1,2,0.5,1.5,5', '2024-01-04,1,2,0.5', '2024-01-05,3,2,0.5,1.5,5', '2024-01-01,1,2,0.5,1.5,5', '2024-01-07,1,2,0.5,1.5,5'].join('\n');
    const e = await candles.importCsv('csv-bad', 'X/Y', '1d', csv).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'invalid_input' });
    const lines = (e as { details: { lines: { line: number; message: string }[] } }).details.lines;
    expect(lines.map((l) => l.line)).toEqual([3, 4, 5, 6, 7]);
    expect(lines[0]!.message).toMatch(/high "x" is not a number/);
    expect(lines[4]!.message).toMatch(/already on line 2/);
    expect((e as Error).message).toMatch(/Line 3/);
    expect(await stored('csv-bad', 'X/Y', '1d')).toBe(0);
  });

  it('a failure while writing rolls back every row already written (one transaction)', async () => {
    // 6000 good rows (two statements), then a price numeric(…) cannot hold: the second statement fails
    const rows = Array.from({ length: 6000 }, (_, i) => `${Date.UTC(2020, 0, 1) + i * MIN},1,2,0.5,1.5,1`);
    rows.push(`${Date.UTC(2021, 0, 1)},1,1e200000,0.5,1.5,1`);
    await expect(candles.importCsv('csv-half', 'X/Y', '1m', rows.join('\n'))).rejects.toThrow();
    expect(await stored('csv-half', 'X/Y', '1m')).toBe(0);
  });

  it('times: ISO dates and date-times (UTC unless an offset is given), epoch ms; nonsense refused', () => {
    expect(parseTime('2024-03-01')).toBe(Date.UTC(2024, 2, 1));
    expect(parseTime('2024-03-01 10:30')).toBe(Date.UTC(2024, 2, 1, 10, 30));
    expect(parseTime('2024-03-01T10:30:00+02:00')).toBe(Date.UTC(2024, 2, 1, 8, 30));
    expect(parseTime('1709287800000')).toBe(1709287800000);
    expect(parseTime('01/03/2024')).toBeNaN();
    expect(parseTime('2024-13-01')).toBeNaN();
  });

  it('an empty file or one without price columns is refused', () => {
    expect(() => parseCandleCsv('\n\n')).toThrow(/empty/);
    expect(() => parseCandleCsv('a,b\n1,2\n')).toThrow(/expected the columns/);
  });
});

describe('download through CCXT from the exchange simulator', () => {
  const ex = new ccxt.binance({ enableRateLimit: true, timeout: 5000 });
  beforeAll(() => pointExchangeAt(ex, sim.url));

  it('finds the missing ranges, downloads them page by page, resumes after a cancel and keeps what it got', async () => {
    const now = Math.floor(Date.now() / MIN) * MIN;
    const from = now - 2500 * MIN;
    const to = now - 10 * MIN;
    expect(await candles.missing('binance', 'BTC/USDT', '1m', from, to)).toEqual([{ from, to }]);

    const ac = new AbortController();
    const progress: number[] = [];
    const first = await candles
      .download(ex, 'binance', 'BTC/USDT', '1m', [{ from, to }], {
        signal: ac.signal,
        onProgress: (p) => {
          progress.push(p);
          ac.abort(); // cancel after the first page
        },
      })
      .catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'cancelled' });
    const kept = await candles.count('binance', 'BTC/USDT', '1m', from, to);
    expect(kept).toBe(1000); // one page of Binance's limit
    expect(progress[0]).toBeCloseTo(40, 0);

    const missing = await candles.missing('binance', 'BTC/USDT', '1m', from, to);
    expect(missing).toEqual([{ from: from + 1000 * MIN, to }]);
    const before = sim.requestLog.filter((r) => r.path.includes('klines')).length;
    const got = await candles.download(ex, 'binance', 'BTC/USDT', '1m', missing, { onProgress: (p) => progress.push(p) });
    expect(got).toBe(1490);
    expect(sim.requestLog.filter((r) => r.path.includes('klines')).length - before).toBe(2);
    expect(progress.at(-1)).toBe(100);
    expect(await candles.missing('binance', 'BTC/USDT', '1m', from, to)).toEqual([]);

    const c = await candles.load('binance', 'BTC/USDT', '1m', from, to);
    expect(c.time.length).toBe(2490);
    for (let i = 1; i < c.time.length; i++) expect(c.time[i]! - c.time[i - 1]!).toBe(MIN);
    const [k] = await ex.fetchOHLCV('BTC/USDT', '1m', from + 1234 * MIN, 1);
    expect([c.open[1234], c.high[1234], c.low[1234], c.close[1234], c.volume[1234]]).toEqual(k!.slice(1, 6));
  });

  it('a hole inside the stored range is found and filled', async () => {
    const now = Math.floor(Date.now() / MIN) * MIN;
    const from = now - 2500 * MIN;
    await t.db.query(`DELETE FROM candles WHERE exchange = 'binance' AND timeframe = '1m' AND open_time >= 'epoch'::timestamptz + $1::bigint * interval '1 millisecond' AND open_time < 'epoch'::timestamptz + $2::bigint * interval '1 millisecond'`, [from + 100 * MIN, from + 110 * MIN]);
    const missing = await candles.missing('binance', 'BTC/USDT', '1m', from, now - 10 * MIN);
    expect(missing).toEqual([{ from: from + 100 * MIN, to: from + 110 * MIN }]);
    expect(await candles.download(ex, 'binance', 'BTC/USDT', '1m', missing)).toBe(10);
  });
});
