/**
 * Timeframes a backtest may use: the heartbeat's (shared/timeframes.ts, built from 1m candles) and
 * the longer ones exchanges offer (downloaded with CCXT `fetchOHLCV`) or a CSV carries. A separate
 * list: the heartbeat's own TIMEFRAMES do not change. Runs on both sides.
 */
export const BACKTEST_TIMEFRAMES = ['1m', '3m', '5m', '10m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'] as const;
export type BacktestTimeframe = (typeof BACKTEST_TIMEFRAMES)[number];

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
/** Nominal length of each timeframe; '1M' (a calendar month) counts as 31 days (the longest month). */
const LENGTH: Readonly<Record<BacktestTimeframe, number>> = {
  '1m': MIN,
  '3m': 3 * MIN,
  '5m': 5 * MIN,
  '10m': 10 * MIN,
  '15m': 15 * MIN,
  '30m': 30 * MIN,
  '1h': 60 * MIN,
  '2h': 120 * MIN,
  '4h': 240 * MIN,
  '6h': 360 * MIN,
  '8h': 480 * MIN,
  '12h': 720 * MIN,
  '1d': DAY,
  '3d': 3 * DAY,
  '1w': 7 * DAY,
  '1M': 31 * DAY,
};

export function isBacktestTimeframe(s: string): s is BacktestTimeframe {
  return Object.prototype.hasOwnProperty.call(LENGTH, s);
}

/** Nominal length in ms (an upper bound for '1M'). */
export function backtestTimeframeMs(tf: BacktestTimeframe): number {
  return LENGTH[tf];
}
