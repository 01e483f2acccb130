import type { Columns, SimResult, SimTrade } from '../kernel/types';

/**
 * The figures of a backtest, computed from the kernel's result, the candles and the starting
 * balance. Pure, one pass over the equity curve (10 M candles in a few tens of milliseconds).
 *
 * Definitions follow backtesting.py's `compute_stats` (backtesting/_stats.py), so the figures can
 * be compared with it; see the README's "Backtest" section. A figure that is undefined (no trade,
 * no losing trade, zero volatility…) is null, never NaN or Infinity (JSON has neither).
 */
export interface Metrics {
  /** Equity at the last candle's close (quote currency). */
  finalEquity: number;
  /** (finalEquity − initial) / initial × 100. */
  returnPct: number;
  /** (last close − first close) / first close × 100. */
  buyHoldReturnPct: number;
  /** (1 + geometric mean daily return)^tradingDays − 1, × 100. */
  annualReturnPct: number | null;
  annualVolatilityPct: number | null;
  sharpe: number | null;
  sortino: number | null;
  calmar: number | null;
  /** Deepest fall of equity from its running peak, × 100, ≤ 0. */
  maxDrawdownPct: number;
  /** Longest time (ms) from a peak to the recovery of that peak (or the end), null when never under water. */
  maxDrawdownDuration: number | null;
  tradeCount: number;
  winRatePct: number | null;
  bestTradePct: number | null;
  worstTradePct: number | null;
  avgWinPct: number | null;
  avgLossPct: number | null;
  profitFactor: number | null;
  /** Mean trade return, %. */
  expectancy: number | null;
  /** Share of candles with a position open (entry to exit candle inclusive), %. */
  exposurePct: number;
  totalFees: number;
}

export const METRIC_KEYS = [
  'finalEquity', 'returnPct', 'buyHoldReturnPct', 'annualReturnPct', 'annualVolatilityPct', 'sharpe', 'sortino', 'calmar', 'maxDrawdownPct', 'maxDrawdownDuration',
  'tradeCount', 'winRatePct', 'bestTradePct', 'worstTradePct', 'avgWinPct', 'avgLossPct', 'profitFactor', 'expectancy', 'exposurePct', 'totalFees',
] as const satisfies readonly (keyof Metrics)[];

const DAY_MS = 86_400_000;

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * Trading days per year as backtesting.py guesses them: 365 when weekend candles make up more than
 * 60% of their calendar share (2/7) — crypto, every day — else 252 (a stock exchange).
 */
export function tradingDaysPerYear(time: Float64Array): number {
  const n = time.length;
  if (n === 0) return 252;
  let weekend = 0;
  // The day (and its weekday) is recomputed only when a candle leaves the current day: one
  // comparison per candle instead of a division and a modulo (10 M candles).
  let dayStart = Infinity;
  let dayEnd = -Infinity;
  let isWeekend = 0;
  for (let i = 0; i < n; i++) {
    const t = time[i]!;
    if (!(t >= dayStart && t < dayEnd)) {
      const day = Math.floor(t / DAY_MS);
      dayStart = day * DAY_MS;
      dayEnd = dayStart + DAY_MS;
      // 1970-01-01 was a Thursday: day 0 → Thursday (index 4 with Monday = 0)
      const dow = (day + 3) % 7; // Monday = 0 … Sunday = 6
      isWeekend = dow >= 5 ? 1 : 0;
    }
    weekend += isWeekend;
  }
  return weekend / n > (2 / 7) * 0.6 ? 365 : 252;
}

/**
 * Daily returns of the equity curve: the last equity of each UTC day with candles, then the change
 * from one such day to the next. The first day has no return (backtesting.py's leading NaN).
 */
export function dailyReturns(time: Float64Array, equity: Float64Array): Float64Array {
  const n = equity.length;
  const lastOfDay: number[] = [];
  let dayStart = Infinity;
  let dayEnd = -Infinity;
  for (let i = 0; i < n; i++) {
    if (i + 1 === n) {
      lastOfDay.push(equity[i]!);
      break;
    }
    const t = time[i]!;
    if (!(t >= dayStart && t < dayEnd)) {
      dayStart = Math.floor(t / DAY_MS) * DAY_MS;
      dayEnd = dayStart + DAY_MS;
    }
    const next = time[i + 1]!;
    if (!(next >= dayStart && next < dayEnd)) lastOfDay.push(equity[i]!);
  }
  const r = new Float64Array(Math.max(0, lastOfDay.length - 1));
  for (let k = 1; k < lastOfDay.length; k++) r[k - 1] = lastOfDay[k]! / lastOfDay[k - 1]! - 1;
  return r;
}

/**
 * backtesting.py's geometric mean: the leading missing return counts as 0 (`fillna(0)`), so the
 * divisor is the number of days; any return ≤ −100% gives 0.
 */
export function geometricMean(returns: ArrayLike<number>, leadingMissing: number): number {
  const count = returns.length + leadingMissing;
  if (count === 0) return NaN;
  let logSum = 0;
  for (let i = 0; i < returns.length; i++) {
    const g = 1 + returns[i]!;
    if (g <= 0) return 0;
    logSum += Math.log(g);
  }
  return Math.exp(logSum / count) - 1;
}

/** Longest drawdown duration (ms) as backtesting.py measures it: from the last peak before each drawdown to its recovery or the last candle. */
export function maxDrawdown(time: Float64Array, equity: Float64Array): { maxDrawdownPct: number; maxDrawdownDuration: number | null } {
  const n = equity.length;
  let peak = -Infinity;
  let maxDd = 0;
  let longest = -1;
  let lastZero = -1; // index of the last candle at a peak (drawdown 0)
  for (let i = 0; i < n; i++) {
    const e = equity[i]!;
    if (e > peak) peak = e;
    const dd = 1 - e / peak;
    if (dd > maxDd) maxDd = dd;
    const atPeak = dd === 0;
    if (atPeak || i === n - 1) {
      if (lastZero >= 0 && i > lastZero + 1) {
        const dur = time[i]! - time[lastZero]!;
        if (dur > longest) longest = dur;
      }
      if (atPeak) lastZero = i;
    }
  }
  return { maxDrawdownPct: maxDd === 0 ? 0 : -maxDd * 100, maxDrawdownDuration: longest >= 0 ? longest : null };
}

/**
 * `tradingDaysPerYear`, `dailyReturns` and `maxDrawdown` in ONE pass over the time and equity
 * columns (each of those reads 80 MB per 10 M candles; together they read the columns five times):
 * the same operations in the same order per accumulator, so the same figures bit for bit
 * (metrics.test.ts compares them with the three functions).
 */
export function equityPass(time: Float64Array, equity: Float64Array): { days: number; returns: Float64Array; maxDrawdownPct: number; maxDrawdownDuration: number | null } {
  const n = equity.length;
  // tradingDaysPerYear
  let weekend = 0;
  let wStart = Infinity;
  let wEnd = -Infinity;
  let isWeekend = 0;
  // dailyReturns
  const lastOfDay: number[] = [];
  let dStart = Infinity;
  let dEnd = -Infinity;
  // maxDrawdown
  let peak = -Infinity;
  let maxDd = 0;
  let longest = -1;
  let lastZero = -1;
  for (let i = 0; i < n; i++) {
    const t = time[i]!;
    const e = equity[i]!;
    if (!(t >= wStart && t < wEnd)) {
      const day = Math.floor(t / DAY_MS);
      wStart = day * DAY_MS;
      wEnd = wStart + DAY_MS;
      isWeekend = (day + 3) % 7 >= 5 ? 1 : 0;
    }
    weekend += isWeekend;
    if (i + 1 === n) lastOfDay.push(e);
    else {
      if (!(t >= dStart && t < dEnd)) {
        dStart = Math.floor(t / DAY_MS) * DAY_MS;
        dEnd = dStart + DAY_MS;
      }
      const next = time[i + 1]!;
      if (!(next >= dStart && next < dEnd)) lastOfDay.push(e);
    }
    if (e > peak) peak = e;
    const dd = 1 - e / peak;
    if (dd > maxDd) maxDd = dd;
    const atPeak = dd === 0;
    if (atPeak || i === n - 1) {
      if (lastZero >= 0 && i > lastZero + 1) {
        const dur = time[i]! - time[lastZero]!;
        if (dur > longest) longest = dur;
      }
      if (atPeak) lastZero = i;
    }
  }
  const returns = new Float64Array(Math.max(0, lastOfDay.length - 1));
  for (let k = 1; k < lastOfDay.length; k++) returns[k - 1] = lastOfDay[k]! / lastOfDay[k - 1]! - 1;
  return {
    days: n === 0 ? 252 : weekend / n > (2 / 7) * 0.6 ? 365 : 252,
    returns,
    maxDrawdownPct: maxDd === 0 ? 0 : -maxDd * 100,
    maxDrawdownDuration: longest >= 0 ? longest : null,
  };
}

/** Trade figures over `pnlPct` (net of fees, % of the entry notional). */
function tradeFigures(trades: readonly SimTrade[]) {
  const n = trades.length;
  if (n === 0) return { winRatePct: null, bestTradePct: null, worstTradePct: null, avgWinPct: null, avgLossPct: null, profitFactor: null, expectancy: null };
  let wins = 0;
  let best = -Infinity;
  let worst = Infinity;
  let winSum = 0;
  let lossSum = 0;
  let winCount = 0;
  let lossCount = 0;
  let sum = 0;
  for (const t of trades) {
    if (t.pnl > 0) wins++;
    const r = t.pnlPct;
    if (r > best) best = r;
    if (r < worst) worst = r;
    sum += r;
    if (r > 0) {
      winSum += r;
      winCount++;
    } else if (r < 0) {
      lossSum += r;
      lossCount++;
    }
  }
  return {
    winRatePct: (wins / n) * 100,
    bestTradePct: best,
    worstTradePct: worst,
    avgWinPct: winCount ? winSum / winCount : null,
    avgLossPct: lossCount ? lossSum / lossCount : null,
    profitFactor: lossSum !== 0 ? winSum / Math.abs(lossSum) : null,
    expectancy: sum / n,
  };
}

/**
 * Candles covered by at least one trade (entry to exit, inclusive). Trades in entry order (as the
 * kernel gives them) are counted as a union of intervals without touching each candle; any other
 * order falls back to marking the candles.
 */
function exposedCandles(trades: readonly SimTrade[], n: number): number {
  let sorted = true;
  for (let k = 1; k < trades.length && sorted; k++) if (trades[k]!.entryIndex < trades[k - 1]!.entryIndex) sorted = false;
  let exposed = 0;
  if (sorted) {
    let covered = -1; // the last candle counted
    for (const t of trades) {
      const a = Math.max(0, t.entryIndex, covered + 1);
      const b = Math.min(n - 1, t.exitIndex);
      if (b >= a) exposed += b - a + 1;
      if (b > covered) covered = b;
    }
    return exposed;
  }
  const mark = new Uint8Array(n);
  for (const t of trades) {
    const a = Math.max(0, t.entryIndex);
    const b = Math.min(n - 1, t.exitIndex);
    for (let i = a; i <= b; i++) mark[i] = 1;
  }
  for (let i = 0; i < n; i++) exposed += mark[i]!;
  return exposed;
}

export function computeMetrics(result: SimResult, columns: Columns, config: { initialBalance: number }): Metrics {
  const { time, close } = columns;
  const n = close.length;
  const equity = result.equity;
  const initial = config.initialBalance;
  const finalEquity = n > 0 ? equity[n - 1]! : initial;

  // exposure: candles from each trade's entry to its exit, inclusive (backtesting.py's "n bars")
  let exposed = 0;
  if (n > 0) exposed = exposedCandles(result.trades, n);

  const pass = equityPass(time, equity);
  const days = pass.days;
  const r = pass.returns;
  const g = geometricMean(r, n > 0 ? 1 : 0);
  const annualReturn = Math.pow(1 + g, days) - 1;
  // sample variance (ddof 1) of the daily returns
  let mean = 0;
  for (let i = 0; i < r.length; i++) mean += r[i]!;
  mean /= r.length;
  let ss = 0;
  let downSq = 0;
  for (let i = 0; i < r.length; i++) {
    const d = r[i]! - mean;
    ss += d * d;
    const neg = Math.min(0, r[i]!);
    downSq += neg * neg;
  }
  const variance = r.length > 1 ? ss / (r.length - 1) : NaN;
  const annualVol = Math.sqrt(Math.pow(variance + (1 + g) ** 2, days) - Math.pow(1 + g, 2 * days));
  const downside = Math.sqrt(downSq / r.length) * Math.sqrt(days);
  const dd = pass;
  const annualReturnPct = finite(annualReturn * 100);
  const annualVolatilityPct = finite(annualVol * 100);

  let totalFees = 0;
  for (const t of result.trades) totalFees += t.fees;

  return {
    finalEquity,
    returnPct: ((finalEquity - initial) / initial) * 100,
    buyHoldReturnPct: n > 0 ? ((close[n - 1]! - close[0]!) / close[0]!) * 100 : 0,
    annualReturnPct,
    annualVolatilityPct,
    sharpe: annualReturnPct !== null && annualVolatilityPct ? finite(annualReturnPct / annualVolatilityPct) : null,
    sortino: finite(annualReturn / downside),
    calmar: dd.maxDrawdownPct !== 0 ? finite(annualReturn / (-dd.maxDrawdownPct / 100)) : null,
    maxDrawdownPct: dd.maxDrawdownPct,
    maxDrawdownDuration: dd.maxDrawdownDuration,
    tradeCount: result.trades.length,
    ...tradeFigures(result.trades),
    exposurePct: n > 0 ? (exposed / n) * 100 : 0,
    totalFees,
  };
}
