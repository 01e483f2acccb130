import type Decimal from 'decimal.js';
import type { PriceSeries } from '../series';
import { errors } from './errors';
import { D, fmt, type SimMarket } from './markets';

/**
 * Public market data derived from the deterministic PriceSeries: klines (1m natively, every other
 * Binance interval aggregated from it), tickers and a synthetic order book around the live price.
 *
 * A closed kline is exactly the aggregation of the series' 1m candles (open of the first, close of
 * the last, max/min, summed volume), so it matches what a client aggregates from the stream. The
 * candle still open at `now` ends at the live price (`series.priceAt`, which follows `setPrice`).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MONDAY_OFFSET = 4 * DAY; // 1970-01-01 was a Thursday; Binance weeks open on Monday 00:00 UTC

interface Interval {
  name: string;
  /** Fixed length in ms (absent for the calendar month). */
  ms?: number;
  offset?: number;
  /** The interval whose candles partition this one (aggregation source). */
  child?: string;
}

export const INTERVALS: Record<string, Interval> = {
  '1m': { name: '1m', ms: MINUTE },
  '3m': { name: '3m', ms: 3 * MINUTE, child: '1m' },
  '5m': { name: '5m', ms: 5 * MINUTE, child: '1m' },
  '15m': { name: '15m', ms: 15 * MINUTE, child: '5m' },
  '30m': { name: '30m', ms: 30 * MINUTE, child: '15m' },
  '1h': { name: '1h', ms: HOUR, child: '15m' },
  '2h': { name: '2h', ms: 2 * HOUR, child: '1h' },
  '4h': { name: '4h', ms: 4 * HOUR, child: '1h' },
  '6h': { name: '6h', ms: 6 * HOUR, child: '1h' },
  '8h': { name: '8h', ms: 8 * HOUR, child: '1h' },
  '12h': { name: '12h', ms: 12 * HOUR, child: '1h' },
  '1d': { name: '1d', ms: DAY, child: '1h' },
  '3d': { name: '3d', ms: 3 * DAY, child: '1d' },
  '1w': { name: '1w', ms: 7 * DAY, offset: MONDAY_OFFSET, child: '1d' },
  '1M': { name: '1M', child: '1d' },
};

function interval(name: string): Interval {
  const iv = INTERVALS[name];
  if (!iv) throw errors.badInterval();
  return iv;
}

/** Open time of the candle of `iv` that contains `t`. */
export function candleStart(iv: Interval, t: number): number {
  if (iv.ms === undefined) {
    const d = new Date(t);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  const off = iv.offset ?? 0;
  return Math.floor((t - off) / iv.ms) * iv.ms + off;
}

/** Open time of the candle after the one opening at `open`. */
export function candleNext(iv: Interval, open: number): number {
  if (iv.ms === undefined) {
    const d = new Date(open);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return open + iv.ms;
}

interface Agg {
  openTime: number;
  closeTime: number;
  open: Decimal;
  high: Decimal;
  low: Decimal;
  close: Decimal;
  volume: Decimal;
  quoteVolume: Decimal;
  trades: number;
}

export interface KlineQuery {
  startTime?: number;
  endTime?: number;
  limit: number;
}

/** A kline row exactly as Binance sends it. */
export type KlineRow = [number, string, string, string, string, string, number, string, number, string, string, string];

const CACHE_LIMIT = 200_000;

export class MarketData {
  private readonly cache = new Map<string, Agg>();

  constructor(
    private readonly series: PriceSeries,
    private readonly now: () => number,
  ) {}

  /** The live price (follows `series.setPrice`), as a high-precision Decimal. */
  price(m: SimMarket, at = this.now()): Decimal {
    return new D(this.series.priceAt(m.symbol, at));
  }

  private minute(m: SimMarket, open: number, now: number): Agg {
    const c = this.series.candle(m.symbol, open);
    const o = new D(c.open);
    let close = new D(c.close);
    let high = new D(c.high);
    let low = new D(c.low);
    let volume = new D(c.volume);
    if (open + MINUTE > now) {
      // still open: from the open to the live price, volume so far
      close = this.price(m, now);
      high = D.max(o, close);
      low = D.min(o, close);
      volume = volume.times((now - open) / MINUTE).toDecimalPlaces(8);
    }
    const quoteVolume = volume.times(o.plus(close).div(2)).toDecimalPlaces(8);
    return { openTime: open, closeTime: open + MINUTE - 1, open: o, high, low, close, volume, quoteVolume, trades: volume.times(40).floor().toNumber() + 1 };
  }

  private aggregate(m: SimMarket, iv: Interval, open: number, now: number): Agg {
    if (!iv.child) return this.minute(m, open, now);
    const next = candleNext(iv, open);
    const closed = next <= now;
    const key = `${m.symbol}|${iv.name}|${open}`;
    if (closed) {
      const hit = this.cache.get(key);
      if (hit) return hit;
    }
    const child = interval(iv.child);
    let acc: Agg | undefined;
    for (let t = open; t < next && t <= now; t = candleNext(child, t)) {
      const c = this.aggregate(m, child, t, now);
      acc = acc ? combine(acc, c) : { ...c };
    }
    if (!acc) throw new Error('aggregate of an empty range');
    acc.openTime = open;
    acc.closeTime = next - 1;
    if (closed) {
      if (this.cache.size >= CACHE_LIMIT) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
      this.cache.set(key, acc);
    }
    return acc;
  }

  /** GET /api/v3/klines. */
  klines(m: SimMarket, intervalName: string, q: KlineQuery): KlineRow[] {
    const iv = interval(intervalName);
    const now = this.now();
    const last = Math.min(q.endTime ?? now, now);
    const opens: number[] = [];
    if (q.startTime !== undefined) {
      let t = candleStart(iv, q.startTime);
      if (t < q.startTime) t = candleNext(iv, t);
      for (; t <= last && opens.length < q.limit; t = candleNext(iv, t)) opens.push(t);
    } else {
      for (let t = candleStart(iv, last); opens.length < q.limit; t = candleStart(iv, t - 1)) opens.unshift(t);
    }
    return opens.map((open) => {
      const a = this.aggregate(m, iv, open, now);
      return [
        a.openTime,
        fmt(a.open),
        fmt(a.high),
        fmt(a.low),
        fmt(a.close),
        fmt(a.volume),
        a.closeTime,
        fmt(a.quoteVolume),
        a.trades,
        fmt(a.volume.div(2).toDecimalPlaces(8)),
        fmt(a.quoteVolume.div(2).toDecimalPlaces(8)),
        '0',
      ];
    });
  }

  /** Statistics over the rolling 24 hours ending now (1h candles where whole, minutes at the edges). */
  private window24h(m: SimMarket, now: number): Agg {
    const hour = interval('1h');
    const minute = interval('1m');
    let acc: Agg | undefined;
    let t = candleStart(minute, now - DAY);
    while (t <= now) {
      const useHour = t % HOUR === 0 && t + HOUR <= now;
      const c = this.aggregate(m, useHour ? hour : minute, t, now);
      acc = acc ? combine(acc, c) : { ...c };
      t += useHour ? HOUR : MINUTE;
    }
    if (!acc) throw new Error('empty 24h window');
    return acc;
  }

  /** The synthetic book: levels one tick apart on each side of the live price. */
  book(m: SimMarket, limit: number): { bids: [string, string][]; asks: [string, string][] } {
    const mid = this.price(m).div(m.tickSize).floor().times(m.tickSize);
    const bids: [string, string][] = [];
    const asks: [string, string][] = [];
    for (let i = 0; i < limit; i++) {
      const qty = m.stepSize.times(1000 + ((i * 7919) % 9000));
      const bid = mid.minus(m.tickSize.times(i + 1));
      if (bid.gt(0)) bids.push([fmt(bid), fmt(qty)]);
      asks.push([fmt(mid.plus(m.tickSize.times(i + 1))), fmt(qty)]);
    }
    return { bids, asks };
  }

  ticker24h(m: SimMarket): Record<string, unknown> {
    const now = this.now();
    const w = this.window24h(m, now);
    const last = this.price(m, now);
    const high = D.max(w.high, last);
    const low = D.min(w.low, last);
    const change = last.minus(w.open);
    const top = this.book(m, 1);
    return {
      symbol: m.id,
      priceChange: fmt(change),
      priceChangePercent: change.div(w.open).times(100).toFixed(3),
      weightedAvgPrice: fmt(w.volume.isZero() ? last : w.quoteVolume.div(w.volume).toDecimalPlaces(8)),
      prevClosePrice: fmt(w.open),
      lastPrice: fmt(last),
      lastQty: fmt(m.minQty),
      bidPrice: top.bids[0]?.[0] ?? fmt(last),
      bidQty: top.bids[0]?.[1] ?? fmt(m.minQty),
      askPrice: top.asks[0]?.[0] ?? fmt(last),
      askQty: top.asks[0]?.[1] ?? fmt(m.minQty),
      openPrice: fmt(w.open),
      highPrice: fmt(high),
      lowPrice: fmt(low),
      volume: fmt(w.volume),
      quoteVolume: fmt(w.quoteVolume),
      openTime: now - DAY,
      closeTime: now,
      firstId: 1,
      lastId: w.trades,
      count: w.trades,
    };
  }

  priceTicker(m: SimMarket): Record<string, unknown> {
    return { symbol: m.id, price: fmt(this.price(m)) };
  }

  bookTicker(m: SimMarket): Record<string, unknown> {
    const top = this.book(m, 1);
    return { symbol: m.id, bidPrice: top.bids[0]?.[0], bidQty: top.bids[0]?.[1], askPrice: top.asks[0]?.[0], askQty: top.asks[0]?.[1] };
  }

  depth(m: SimMarket, limit: number): Record<string, unknown> {
    return { lastUpdateId: Math.floor(this.now() / 100), ...this.book(m, limit) };
  }

  avgPrice(m: SimMarket): Record<string, unknown> {
    return { mins: 5, price: fmt(this.price(m)), closeTime: this.now() };
  }
}

function combine(a: Agg, b: Agg): Agg {
  return {
    openTime: a.openTime,
    closeTime: b.closeTime,
    open: a.open,
    high: D.max(a.high, b.high),
    low: D.min(a.low, b.low),
    close: b.close,
    volume: a.volume.plus(b.volume),
    quoteVolume: a.quoteVolume.plus(b.quoteVolume),
    trades: a.trades + b.trades,
  };
}
