import { describe, expect, it } from 'vitest';
import type { Columns, SimResult, SimTrade } from '../kernel/types';
import { computeMetrics, dailyReturns, equityPass, maxDrawdown, METRIC_KEYS, tradingDaysPerYear } from './metrics';

const DAY = 86_400_000;
const MON = Date.UTC(2024, 0, 1); // a Monday

function cols(time: number[], close: number[]): Columns {
  const f = (a: number[]) => Float64Array.from(a);
  return { time: f(time), open: f(close), high: f(close), low: f(close), close: f(close), volume: f(close.map(() => 1)) };
}
function trade(p: Partial<SimTrade>): SimTrade {
  return { side: 'long', entryIndex: 0, exitIndex: 0, entryTime: 0, exitTime: 0, entryPrice: 1, exitPrice: 1, amount: 1, fees: 0, pnl: 0, pnlPct: 0, balanceAfter: 0, exitReason: 'signal', stopLoss: null, takeProfit: null, ...p };
}
function result(equity: number[], trades: SimTrade[]): SimResult {
  return { trades, equity: Float64Array.from(equity), exposure: new Int8Array(equity.length), finalEquity: equity.at(-1)!, firstDecisionIndex: 0, decisions: [] };
}

describe('metrics (backtesting.py definitions, hand-computed)', () => {
  // five weekdays, equity 100 → 110 → 99 → 121 → 121
  const time = [0, 1, 2, 3, 4].map((d) => MON + d * DAY);
  const c = cols(time, [10, 11, 12, 13, 15]);
  const trades = [
    trade({ entryIndex: 0, exitIndex: 1, pnl: 10, pnlPct: 10, fees: 0.2 }),
    trade({ entryIndex: 3, exitIndex: 4, pnl: -5, pnlPct: -5, fees: 0.1 }),
  ];
  const m = computeMetrics(result([100, 110, 99, 121, 121], trades), c, { initialBalance: 100 });

  it('keeps exactly the issue keys', () => {
    expect(Object.keys(m).sort()).toEqual([...METRIC_KEYS].sort());
  });

  it('returns, buy and hold, exposure, fees', () => {
    expect(m.finalEquity).toBe(121);
    expect(m.returnPct).toBeCloseTo(21, 12);
    expect(m.buyHoldReturnPct).toBeCloseTo(50, 12); // 10 → 15
    expect(m.exposurePct).toBeCloseTo(80, 12); // candles 0,1,3,4 of 5
    expect(m.totalFees).toBeCloseTo(0.3, 12);
  });

  it('annualised return, volatility, Sharpe, Sortino, Calmar (252 days: no weekend candles)', () => {
    // daily returns 0.1, −0.1, 22/99, 0; the first day counts as a 0 return in the geometric mean
    const r = [0.1, -0.1, 121 / 99 - 1, 0];
    const g = Math.pow(1.1 * 0.9 * (121 / 99) * 1, 1 / 5) - 1; // = 1.21^(1/5) − 1
    const annual = Math.pow(1 + g, 252) - 1;
    const mean = (0.1 - 0.1 + 22 / 99 + 0) / 4;
    const variance = r.reduce((s, x) => s + (x - mean) ** 2, 0) / 3;
    const vol = Math.sqrt(Math.pow(variance + (1 + g) ** 2, 252) - Math.pow(1 + g, 504));
    expect(m.annualReturnPct).toBeCloseTo(annual * 100, 6);
    expect(m.annualVolatilityPct).toBeCloseTo(vol * 100, 6);
    expect(m.sharpe).toBeCloseTo(annual / vol, 9);
    expect(m.sortino).toBeCloseTo(annual / (Math.sqrt(0.01 / 4) * Math.sqrt(252)), 9);
    expect(m.calmar).toBeCloseTo(annual / 0.1, 9);
  });

  it('drawdown: depth and duration from the peak to its recovery', () => {
    expect(m.maxDrawdownPct).toBeCloseTo(-10, 12); // 110 → 99
    expect(m.maxDrawdownDuration).toBe(2 * DAY); // peak on day 1, recovered on day 3
  });

  it('trade figures', () => {
    expect(m.tradeCount).toBe(2);
    expect(m.winRatePct).toBe(50);
    expect(m.bestTradePct).toBe(10);
    expect(m.worstTradePct).toBe(-5);
    expect(m.avgWinPct).toBe(10);
    expect(m.avgLossPct).toBe(-5);
    expect(m.profitFactor).toBe(2);
    expect(m.expectancy).toBe(2.5);
  });

  it('a drawdown still open at the end lasts until the last candle', () => {
    const x = computeMetrics(result([100, 120, 90, 95, 100], []), c, { initialBalance: 100 });
    expect(x.maxDrawdownPct).toBeCloseTo(-25, 12);
    expect(x.maxDrawdownDuration).toBe(3 * DAY);
  });

  it('no trade: trade figures are null, never NaN; flat equity has no drawdown', () => {
    const x = computeMetrics(result([100, 100, 100, 100, 100], []), c, { initialBalance: 100 });
    expect(x.tradeCount).toBe(0);
    for (const k of ['winRatePct', 'bestTradePct', 'worstTradePct', 'avgWinPct', 'avgLossPct', 'profitFactor', 'expectancy', 'sharpe', 'sortino', 'calmar', 'maxDrawdownDuration'] as const) expect(x[k]).toBeNull();
    expect(Object.is(x.maxDrawdownPct, 0)).toBe(true);
    expect(x.exposurePct).toBe(0);
    expect(JSON.parse(JSON.stringify(x))).toEqual(x);
  });

  it('only winners: profit factor and average loss are null', () => {
    const x = computeMetrics(result([100, 110, 99, 121, 121], [trade({ pnl: 1, pnlPct: 1 })]), c, { initialBalance: 100 });
    expect(x.profitFactor).toBeNull();
    expect(x.avgLossPct).toBeNull();
    expect(x.winRatePct).toBe(100);
  });
});

describe('calendar helpers', () => {
  it('365 trading days when weekends have candles, 252 otherwise', () => {
    const everyDay = Float64Array.from({ length: 14 }, (_, i) => MON + i * DAY);
    const weekdays = Float64Array.from([0, 1, 2, 3, 4, 7, 8, 9, 10, 11].map((d) => MON + d * DAY));
    expect(tradingDaysPerYear(everyDay)).toBe(365);
    expect(tradingDaysPerYear(weekdays)).toBe(252);
  });

  it('intraday equity is sampled at the last candle of each UTC day', () => {
    const t = Float64Array.from([0, 12, 23, 24, 36, 48].map((h) => MON + h * 3_600_000));
    const r = dailyReturns(t, Float64Array.from([100, 105, 110, 120, 99, 132]));
    expect([...r]).toEqual([99 / 110 - 1, 132 / 99 - 1]);
  });
});

describe('the one-pass day and exposure counting equals the per-candle definitions', () => {
  // The definitions written out, one division per candle, as before the speed-up.
  const daysRef = (time: Float64Array): number => {
    let weekend = 0;
    for (const t of time) if ((Math.floor(t / DAY) + 3) % 7 >= 5) weekend++;
    return weekend / time.length > (2 / 7) * 0.6 ? 365 : 252;
  };
  const dailyRef = (time: Float64Array, equity: Float64Array): number[] => {
    const last: number[] = [];
    for (let i = 0; i < equity.length; i++) if (i + 1 === equity.length || Math.floor(time[i]! / DAY) !== Math.floor(time[i + 1]! / DAY)) last.push(equity[i]!);
    return last.slice(1).map((e, k) => e / last[k]! - 1);
  };

  it('on irregular minute series with gaps, weekends and out-of-order trades', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (const weekdaysOnly of [false, true]) {
      const time: number[] = [];
      let t = MON - 3 * 60_000;
      while (time.length < 20_000) {
        t += 60_000 * (1 + Math.floor(rnd() * (rnd() < 0.01 ? 5000 : 3)));
        const dow = (Math.floor(t / DAY) + 3) % 7;
        if (!weekdaysOnly || dow < 5) time.push(t);
      }
      const tt = Float64Array.from(time);
      const equity = Float64Array.from(time, () => 100 + rnd() * 10);
      expect(tradingDaysPerYear(tt)).toBe(daysRef(tt));
      expect(Array.from(dailyReturns(tt, equity))).toEqual(dailyRef(tt, equity));
      // exposure: trades in order (reversals share a candle) and the same trades shuffled
      const trades: SimTrade[] = [];
      for (let a = 5; a < time.length - 50; a += 40) trades.push(trade({ entryIndex: a, exitIndex: a + Math.floor(rnd() * 60) }));
      const c = { time: tt, open: equity, high: equity, low: equity, close: equity, volume: equity };
      const mark = new Uint8Array(time.length);
      for (const x of trades) for (let i = x.entryIndex; i <= x.exitIndex; i++) mark[i] = 1;
      const want = (mark.reduce((s, v) => s + v, 0) / time.length) * 100;
      expect(computeMetrics(result(Array.from(equity), trades), c, { initialBalance: 100 }).exposurePct).toBe(want);
      const shuffled = [...trades].reverse();
      expect(computeMetrics(result(Array.from(equity), shuffled), c, { initialBalance: 100 }).exposurePct).toBe(want);
    }
  });
});

describe('the fused pass over time and equity (computeMetrics) equals the three separate passes, bit for bit', () => {
  it('on random series: gaps, weekends, flat stretches, drawdowns open at the end, 0 and 1 candles', () => {
    let seed = 11;
    const rnd = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const lengths = [0, 1, 2, 3, 50, 1440, 20_000];
    for (const n of lengths) {
      for (let variant = 0; variant < 4; variant++) {
        const time = new Float64Array(n);
        const equity = new Float64Array(n);
        let t = MON + Math.floor(rnd() * 7 * DAY);
        let e = 100;
        for (let i = 0; i < n; i++) {
          t += variant === 0 ? DAY : 60_000 * (1 + Math.floor(rnd() * (rnd() < 0.01 ? 5000 : 3)));
          // variant 2: flat stretches (peaks reached again exactly); variant 3: a fall to the end
          e = variant === 2 && rnd() < 0.5 ? e : variant === 3 && i > n / 2 ? e * (1 - rnd() * 0.01) : e * (1 + (rnd() - 0.5) * 0.02);
          time[i] = t;
          equity[i] = e;
        }
        const fused = equityPass(time, equity);
        const dd = maxDrawdown(time, equity);
        expect(fused.days).toBe(tradingDaysPerYear(time));
        const r = dailyReturns(time, equity);
        expect(fused.returns.length).toBe(r.length);
        for (let k = 0; k < r.length; k++) if (!Object.is(fused.returns[k], r[k])) expect({ n, variant, k, got: fused.returns[k] }).toEqual({ n, variant, k, got: r[k] });
        expect(Object.is(fused.maxDrawdownPct, dd.maxDrawdownPct)).toBe(true);
        expect(fused.maxDrawdownDuration).toBe(dd.maxDrawdownDuration);
      }
    }
  });
});
