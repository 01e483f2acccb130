import Decimal from 'decimal.js';
import { timeframeMs, type Timeframe } from '../../../shared/timeframes';
import type { PriceSeries } from '../series';

export interface PlainCandle {
  openTime: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

/** Decimal strings normalised ('60000.10000000' → '60000.1') for comparisons. */
export function normalise(c: PlainCandle): PlainCandle {
  const n = (v: string) => new Decimal(v).toFixed();
  return { openTime: c.openTime, open: n(c.open), high: n(c.high), low: n(c.low), close: n(c.close), volume: n(c.volume) };
}

/**
 * What the heartbeat must have stored for `tf` over [from, to): every candle lying entirely in the
 * window, recomputed from the series' 1m candles the plain way (first open, max high, min low,
 * last close, summed volume). Normalised.
 */
export function expectedCandles(series: PriceSeries, symbol: string, tf: Timeframe, from: number, to: number): PlainCandle[] {
  const len = timeframeMs(tf);
  const out: PlainCandle[] = [];
  for (let b = Math.ceil(from / len) * len; b + len <= to; b += len) {
    const ms = series.candles(symbol, b, b + len);
    let high = new Decimal(ms[0]!.high);
    let low = new Decimal(ms[0]!.low);
    let volume = new Decimal(0);
    for (const m of ms) {
      if (high.lt(m.high)) high = new Decimal(m.high);
      if (low.gt(m.low)) low = new Decimal(m.low);
      volume = volume.plus(m.volume);
    }
    out.push(normalise({ openTime: b, open: ms[0]!.open, high: high.toFixed(), low: low.toFixed(), close: ms[ms.length - 1]!.close, volume: volume.toFixed() }));
  }
  return out;
}

/** Open times of the candles of `tf` whose last minute is ≥ `fromMinute` and that close by `to`. */
export function expectedSignalTimes(tf: Timeframe, fromMinute: number, to: number): number[] {
  const len = timeframeMs(tf);
  const out: number[] = [];
  for (let b = Math.floor(fromMinute / len) * len; b + len <= to; b += len) if (b + len - 60_000 >= fromMinute) out.push(b);
  return out;
}
