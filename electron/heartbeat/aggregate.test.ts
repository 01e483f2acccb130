import Decimal from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TIMEFRAMES, type Timeframe } from '../../shared/timeframes';
import { PriceSeries, type SimCandle } from '../../test/sim/series';
import { CandleAggregator, type BuiltCandle, type MinuteCandle } from './aggregate';

const MIN = 60_000;
const LEN: Record<Timeframe, number> = { '1m': 1, '3m': 3, '5m': 5, '10m': 10, '15m': 15, '1h': 60, '2h': 120, '4h': 240 };

function toMinute(c: SimCandle): MinuteCandle {
  return { openTime: c.openTime, open: new Decimal(c.open), high: new Decimal(c.high), low: new Decimal(c.low), close: new Decimal(c.close), volume: new Decimal(c.volume) };
}

interface Plain {
  timeframe: Timeframe;
  openTime: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

/**
 * The independent recomputation: group the 1m candles by UTC bucket (floor of minutes since the
 * epoch), keep the buckets that have all their minutes, combine them the obvious way.
 */
function recompute(minutes: readonly SimCandle[], tf: Timeframe): Plain[] {
  const n = LEN[tf];
  const groups = new Map<number, SimCandle[]>();
  for (const c of minutes) {
    const bucket = Math.floor(c.openTime / MIN / n) * n * MIN;
    const g = groups.get(bucket) ?? [];
    g.push(c);
    groups.set(bucket, g);
  }
  const out: Plain[] = [];
  for (const [bucket, g] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
    const byTime = [...new Map(g.map((c) => [c.openTime, c])).values()].sort((a, b) => a.openTime - b.openTime);
    if (byTime.length !== n) continue;
    let high = new Decimal(byTime[0]!.high);
    let low = new Decimal(byTime[0]!.low);
    let volume = new Decimal(0);
    for (const c of byTime) {
      high = Decimal.max(high, c.high);
      low = Decimal.min(low, c.low);
      volume = volume.plus(c.volume);
    }
    out.push({ timeframe: tf, openTime: bucket, open: new Decimal(byTime[0]!.open).toString(), high: high.toString(), low: low.toString(), close: new Decimal(byTime[n - 1]!.close).toString(), volume: volume.toString() });
  }
  return out;
}

const plain = (c: BuiltCandle): Plain => ({ timeframe: c.timeframe, openTime: c.openTime, open: c.open.toString(), high: c.high.toString(), low: c.low.toString(), close: c.close.toString(), volume: c.volume.toString() });

function byTimeframe(candles: readonly BuiltCandle[]): Map<Timeframe, Plain[]> {
  const m = new Map<Timeframe, Plain[]>(TIMEFRAMES.map((tf) => [tf, []]));
  for (const c of candles) m.get(c.timeframe)!.push(plain(c));
  return m;
}

describe('CandleAggregator', () => {
  const series = new PriceSeries(7);

  it('equals an independent recomputation for every timeframe over several days (midnight and 4h boundaries)', () => {
    // 21:37 UTC on Feb 28 2024 (leap year) to 02:13 on Mar 3: crosses three midnights and many 4h boundaries.
    const from = Date.UTC(2024, 1, 28, 21, 37);
    const to = Date.UTC(2024, 2, 3, 2, 13);
    const minutes = series.candles('BTC/USDT', from, to);
    const agg = new CandleAggregator();
    agg.start('BTC/USDT', from);
    const emitted: BuiltCandle[] = [];
    const incomplete: string[] = [];
    for (const c of minutes) {
      const r = agg.add('BTC/USDT', toMinute(c));
      expect(r.gap).toBeNull();
      emitted.push(...r.candles);
      for (const i of r.incomplete) incomplete.push(`${i.timeframe}@${new Date(i.openTime).toISOString()}:${i.missing.map((m) => `${m.from}-${m.to}`).join(',')}`);
    }
    const got = byTimeframe(emitted);
    for (const tf of TIMEFRAMES) {
      const expected = recompute(minutes, tf);
      expect(expected.length).toBeGreaterThan(0);
      expect(got.get(tf)).toEqual(expected);
    }
    // 4h buckets cover 00:00, 04:00 … 20:00 UTC
    for (const c of got.get('4h')!) expect(new Date(c.openTime).getUTCHours() % 4).toBe(0);
    expect(got.get('4h')!.some((c) => new Date(c.openTime).toISOString() === '2024-02-29T00:00:00.000Z')).toBe(true);
    // The buckets cut by the start (21:37) are reported incomplete with the minutes before the start.
    expect(incomplete).toContain(`4h@2024-02-28T20:00:00.000Z:${Date.UTC(2024, 1, 28, 20)}-${from}`);
    expect(incomplete).toContain(`15m@2024-02-28T21:30:00.000Z:${Date.UTC(2024, 1, 28, 21, 30)}-${from}`);
    expect(incomplete.filter((s) => s.startsWith('3m@'))).toHaveLength(1);
  });

  it('emits a candle as soon as its last minute closes, in order: 1m first, then the longer timeframes', () => {
    const t0 = Date.UTC(2024, 0, 1, 0, 0);
    const agg = new CandleAggregator();
    agg.start('ETH/USDT', t0);
    let last: BuiltCandle[] = [];
    for (const c of series.candles('ETH/USDT', t0, t0 + 240 * MIN)) last = agg.add('ETH/USDT', toMinute(c)).candles;
    expect(last.map((c) => c.timeframe)).toEqual(['1m', '3m', '5m', '10m', '15m', '1h', '2h', '4h']);
    expect(last.map((c) => c.closeTime)).toEqual(last.map(() => t0 + 240 * MIN - 1));
  });

  it('buffers early minutes, reports the gap, and catches up in order when the gap is filled', () => {
    const t0 = Date.UTC(2024, 0, 1, 1, 0);
    const minutes = series.candles('BTC/USDT', t0, t0 + 10 * MIN);
    const agg = new CandleAggregator();
    agg.start('BTC/USDT', t0);
    agg.add('BTC/USDT', toMinute(minutes[0]!));
    const r1 = agg.add('BTC/USDT', toMinute(minutes[4]!));
    expect(r1.candles).toEqual([]);
    expect(r1.gap).toEqual({ from: t0 + MIN, to: t0 + 4 * MIN });
    expect(agg.gap('BTC/USDT')).toEqual({ from: t0 + MIN, to: t0 + 4 * MIN });
    const dup = agg.add('BTC/USDT', toMinute(minutes[4]!));
    expect(dup.duplicate).toBe(true);
    const out: BuiltCandle[] = [];
    for (const i of [3, 1, 2]) out.push(...agg.add('BTC/USDT', toMinute(minutes[i]!)).candles);
    expect(out.filter((c) => c.timeframe === '1m').map((c) => (c.openTime - t0) / MIN)).toEqual([1, 2, 3, 4]);
    expect(out.filter((c) => c.timeframe === '3m').map((c) => c.openTime)).toEqual([t0]);
    expect(out.filter((c) => c.timeframe === '5m').map((c) => c.openTime)).toEqual([t0]);
    expect(agg.gap('BTC/USDT')).toBeNull();
    expect(agg.gap('BTC/USDT', t0 + 7 * MIN + 5)).toEqual({ from: t0 + 5 * MIN, to: t0 + 7 * MIN });
    expect(agg.add('BTC/USDT', toMinute(minutes[2]!)).duplicate).toBe(true);
  });

  it('buffers everything until started, and drops what is before the start', () => {
    const t0 = Date.UTC(2024, 0, 1, 2, 0);
    const minutes = series.candles('BTC/USDT', t0, t0 + 6 * MIN);
    const agg = new CandleAggregator();
    for (const c of minutes.slice(1)) expect(agg.add('BTC/USDT', toMinute(c)).candles).toEqual([]);
    expect(agg.cursor('BTC/USDT')).toBeNull();
    const r = agg.start('BTC/USDT', t0 + 3 * MIN);
    expect(r.candles.filter((c) => c.timeframe === '1m').map((c) => (c.openTime - t0) / MIN)).toEqual([3, 4, 5]);
    expect(agg.pendingCount('BTC/USDT')).toBe(0);
    expect(agg.cursor('BTC/USDT')).toBe(t0 + 6 * MIN);
  });

  it('skip gives up missing minutes: their buckets are reported incomplete, the others still emitted', () => {
    const t0 = Date.UTC(2024, 0, 1, 4, 0);
    const minutes = series.candles('SOL/USDT', t0, t0 + 30 * MIN);
    const agg = new CandleAggregator(['3m', '15m']);
    agg.start('SOL/USDT', t0);
    const out: BuiltCandle[] = [];
    for (const c of minutes) if ((c.openTime - t0) / MIN !== 7) out.push(...agg.add('SOL/USDT', toMinute(c)).candles);
    expect(agg.gap('SOL/USDT')).toEqual({ from: t0 + 7 * MIN, to: t0 + 8 * MIN });
    const r = agg.skip('SOL/USDT', t0 + 8 * MIN);
    out.push(...r.candles);
    expect(r.gap).toBeNull();
    expect(r.incomplete).toEqual([
      { timeframe: '3m', openTime: t0 + 6 * MIN, missing: [{ from: t0 + 7 * MIN, to: t0 + 8 * MIN }] },
      { timeframe: '15m', openTime: t0, missing: [{ from: t0 + 7 * MIN, to: t0 + 8 * MIN }] },
    ]);
    expect(out.filter((c) => c.timeframe === '3m').map((c) => (c.openTime - t0) / MIN)).toEqual([0, 3, 9, 12, 15, 18, 21, 24, 27]);
    expect(out.filter((c) => c.timeframe === '15m').map((c) => (c.openTime - t0) / MIN)).toEqual([15]);
    expect(out.filter((c) => c.timeframe === '1m')).toHaveLength(29);
  });

  it('seed processes stored history, skipping holes, and leaves the buffer for drain', () => {
    const t0 = Date.UTC(2024, 0, 1, 8, 0);
    const minutes = series.candles('BTC/USDT', t0, t0 + 12 * MIN).map(toMinute);
    const agg = new CandleAggregator(['3m']);
    agg.add('BTC/USDT', minutes[11]!);
    const history = minutes.slice(0, 10).filter((_, i) => i !== 4);
    const r = agg.seed('BTC/USDT', history);
    expect(r.candles.filter((c) => c.timeframe === '3m').map((c) => (c.openTime - t0) / MIN)).toEqual([0, 6]);
    expect(r.incomplete.map((i) => i.openTime)).toEqual([t0 + 3 * MIN]);
    expect(agg.cursor('BTC/USDT')).toBe(t0 + 10 * MIN);
    expect(r.gap).toEqual({ from: t0 + 10 * MIN, to: t0 + 11 * MIN });
    const d = agg.add('BTC/USDT', minutes[10]!);
    expect(d.candles.map((c) => `${c.timeframe}:${(c.openTime - t0) / MIN}`)).toEqual(['1m:10', '1m:11', '3m:9']);
  });

  it('property: any arrival order with duplicates gives the same candles as the recomputation, each once, in order', () => {
    const start = Date.UTC(2024, 5, 30, 23, 0); // an hour before midnight
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.nat(), { maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (offset, count, shuffleKeys, dupIdx) => {
          const from = start + offset * MIN;
          const minutes = series.candles('ETH/USDT', from, from + count * MIN);
          const order = minutes.map((c, i) => ({ c, k: shuffleKeys[i] ?? i })).sort((a, b) => a.k - b.k).map((x) => x.c);
          for (const d of dupIdx) order.splice(d % (order.length + 1), 0, minutes[d % minutes.length]!);
          const agg = new CandleAggregator();
          agg.start('ETH/USDT', from);
          const emitted: BuiltCandle[] = [];
          for (const c of order) emitted.push(...agg.add('ETH/USDT', toMinute(c)).candles);
          expect(agg.gap('ETH/USDT')).toBeNull();
          const got = byTimeframe(emitted);
          for (const tf of TIMEFRAMES) expect(got.get(tf)).toEqual(recompute(minutes, tf));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: with minutes missing, the gap starts at the first missing one and nothing after it is emitted', () => {
    const start = Date.UTC(2024, 5, 30, 22, 0);
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 120 }), fc.uniqueArray(fc.nat({ max: 119 }), { minLength: 1, maxLength: 10 }), (count, missingIdx) => {
        const minutes = series.candles('BNB/USDT', start, start + count * MIN);
        const missing = new Set(missingIdx.filter((i) => i < count));
        fc.pre(missing.size > 0);
        const first = Math.min(...missing);
        const agg = new CandleAggregator();
        agg.start('BNB/USDT', start);
        const emitted: BuiltCandle[] = [];
        minutes.forEach((c, i) => {
          if (!missing.has(i)) emitted.push(...agg.add('BNB/USDT', toMinute(c)).candles);
        });
        expect(emitted.every((c) => c.closeTime < start + first * MIN)).toBe(true);
        expect(emitted.filter((c) => c.timeframe === '1m')).toHaveLength(first);
        const gap = agg.gap('BNB/USDT');
        const laterPresent = minutes.some((_, i) => i > first && !missing.has(i));
        if (laterPresent) expect(gap?.from).toBe(start + first * MIN);
        else expect(gap).toBeNull();
      }),
      { numRuns: 150 },
    );
  });
});
