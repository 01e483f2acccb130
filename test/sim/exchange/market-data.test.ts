import Decimal from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { PriceSeries, type SimCandle } from '../series';
import { BinanceError } from './errors';
import { MarketData, type KlineRow } from './market-data';
import { buildMarket } from './markets';

/** Klines and tickers derived from the PriceSeries, on a fixed clock. */

const MIN = 60_000;
const NOW = Date.UTC(2024, 2, 6, 12, 34, 56, 789); // a Wednesday
const series = new PriceSeries(7);
const m = buildMarket({ symbol: 'BTC/USDT' }, series);
const md = new MarketData(series, () => NOW);

const d = (v: string | undefined) => new Decimal(v ?? NaN);

function expectAggregateOf(row: KlineRow | undefined, minutes: SimCandle[]): void {
  expect(row).toBeDefined();
  if (!row) return;
  expect(row[0]).toBe(minutes[0]?.openTime);
  expect(d(row[1]).eq(d(minutes[0]?.open))).toBe(true);
  expect(d(row[2]).eq(Decimal.max(...minutes.map((c) => c.high)))).toBe(true);
  expect(d(row[3]).eq(Decimal.min(...minutes.map((c) => c.low)))).toBe(true);
  expect(d(row[4]).eq(d(minutes.at(-1)?.close))).toBe(true);
  expect(d(row[5]).eq(minutes.reduce((s, c) => s.plus(c.volume), new Decimal(0)))).toBe(true);
}

describe('klines', () => {
  it('1m rows are the series candles; startTime rounds up to the next open, endTime bounds open times', () => {
    const from = Date.UTC(2024, 2, 6, 10, 0, 0);
    const rows = md.klines(m, '1m', { startTime: from + 1, endTime: from + 5 * MIN, limit: 500 });
    expect(rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5].map((i) => from + i * MIN));
    rows.forEach((r, i) => expectAggregateOf(r, [series.candle('BTC/USDT', from + (i + 1) * MIN)]));
    expect(rows[0]?.[6]).toBe(from + 2 * MIN - 1);
    expect(md.klines(m, '1m', { startTime: from, limit: 3 })).toHaveLength(3);
  });

  it('15m and 4h closed candles aggregate exactly the 1m candles they span', () => {
    const from = Date.UTC(2024, 2, 5, 0, 0, 0);
    const [q] = md.klines(m, '15m', { startTime: from, limit: 1 });
    expectAggregateOf(q, series.candles('BTC/USDT', from, from + 15 * MIN));
    const [h4] = md.klines(m, '4h', { startTime: from, limit: 1 });
    expectAggregateOf(h4, series.candles('BTC/USDT', from, from + 240 * MIN));
    expect(h4?.[6]).toBe(from + 240 * MIN - 1);
  });

  it('without start/end: the most recent `limit` candles, the last one still open at the live price', () => {
    const rows = md.klines(m, '1h', { limit: 3 });
    expect(rows.map((r) => r[0])).toEqual([10, 11, 12].map((h) => Date.UTC(2024, 2, 6, h)));
    const open = rows[2];
    expect(d(open?.[4]).eq(series.priceAt('BTC/USDT', NOW))).toBe(true);
    const startOfHour = Date.UTC(2024, 2, 6, 12);
    const done = series.candles('BTC/USDT', startOfHour, Math.floor(NOW / MIN) * MIN);
    expect(d(open?.[1]).eq(d(done[0]?.open))).toBe(true);
    expect(d(open?.[5]).gt(done.reduce((s, c) => s.plus(c.volume), new Decimal(0)))).toBe(true);
    expect(md.klines(m, '1m', { startTime: NOW + MIN, limit: 10 })).toEqual([]);
  });

  it('weeks open on Monday 00:00 UTC and months on the 1st', () => {
    const weeks = md.klines(m, '1w', { endTime: Date.UTC(2024, 0, 20), limit: 2 });
    expect(weeks.map((r) => r[0])).toEqual([Date.UTC(2024, 0, 8), Date.UTC(2024, 0, 15)]);
    expect(new Date(weeks[0]?.[0] ?? 0).getUTCDay()).toBe(1);
    const [feb] = md.klines(m, '1M', { startTime: Date.UTC(2024, 1, 1), limit: 1 });
    expect(feb?.[0]).toBe(Date.UTC(2024, 1, 1));
    expect(feb?.[6]).toBe(Date.UTC(2024, 2, 1) - 1);
    expect(d(feb?.[1]).eq(d(series.candle('BTC/USDT', Date.UTC(2024, 1, 1)).open))).toBe(true);
    expect(d(feb?.[4]).eq(d(series.candle('BTC/USDT', Date.UTC(2024, 2, 1) - MIN).close))).toBe(true);
  });

  it('an unknown interval is -1120', () => {
    let err: unknown;
    try {
      md.klines(m, '10m', { limit: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BinanceError);
    expect((err as BinanceError).code).toBe(-1120);
  });
});

describe('tickers', () => {
  it('the 24h ticker spans the rolling day up to the live price', () => {
    const t = md.ticker24h(m);
    expect(t['openTime']).toBe(NOW - 86_400_000);
    expect(t['closeTime']).toBe(NOW);
    const first = series.candle('BTC/USDT', Math.floor((NOW - 86_400_000) / MIN) * MIN);
    expect(d(t['openPrice'] as string).eq(d(first.open))).toBe(true);
    expect(d(t['lastPrice'] as string).eq(series.priceAt('BTC/USDT', NOW))).toBe(true);
    expect(d(t['highPrice'] as string).gte(d(t['lastPrice'] as string))).toBe(true);
    expect(d(t['lowPrice'] as string).lte(d(t['openPrice'] as string))).toBe(true);
    const change = d(t['lastPrice'] as string).minus(d(t['openPrice'] as string));
    expect(d(t['priceChange'] as string).eq(change)).toBe(true);
  });
});
