/**
 * The metrics against backtesting.py's published statistics for the same run: the README / docs
 * quick-start of kernc/backtesting.py — `Backtest(GOOG, SmaCross, commission=.002,
 * exclusive_orders=True).run()` with SmaCross(10, 20) on the GOOG series it ships (the same file as
 * ../shared/data/ohlcv/GOOG.csv). Printed there with two decimals:
 *   Exposure Time 94.27, Equity Final 68935.12, Return 589.35, Buy & Hold Return 703.46,
 *   Return (Ann.) 25.42, Volatility (Ann.) 38.43, Sharpe 0.66, Sortino 1.30, Calmar 0.77,
 *   Max. Drawdown −33.08, Max. Drawdown Duration 688 days, # Trades 93, Win Rate 53.76,
 *   Best Trade 57.12, Worst Trade −16.63, Profit Factor 2.13, Expectancy 6.91.
 * The simulation itself is the kernel's (configured as backtesting.py 0.3: the fee folded into the
 * entry price, whole shares, the last trade left open); these tests check the figures computed from it.
 */
import { describe, expect, it } from 'vitest';
import { Kernel } from '../kernel';
import { SMA_CROSS, compile, loadCsv } from '../kernel/fixtures/strategies';
import type { SimConfig } from '../kernel/types';
import { computeMetrics } from './metrics';

const DAY = 86_400_000;

describe('metrics of SmaCross on GOOG = backtesting.py README figures', () => {
  it('every published figure, to its two printed decimals', async () => {
    const goog = loadCsv('GOOG.csv');
    const config: SimConfig = { initialBalance: 10_000, fees: { maker: 0.002, taker: 0.002 }, feeModel: 'entry_price', slippageBps: 0, fillAt: 'open', allowShort: true, amountStep: 1, minAmount: 0, closeAtEnd: false };
    const r = await new Kernel().backtest(compile(SMA_CROSS), { fast: 10, slow: 20, size: 1 - Number.EPSILON }, goog, config);
    const m = computeMetrics(r, goog, config);
    const two = (x: number | null) => x!.toFixed(2);
    expect(two(m.exposurePct)).toBe('94.27');
    expect(two(m.finalEquity)).toBe('68935.12');
    expect(two(m.returnPct)).toBe('589.35');
    expect(two(m.buyHoldReturnPct)).toBe('703.46');
    expect(two(m.annualReturnPct)).toBe('25.42');
    expect(two(m.annualVolatilityPct)).toBe('38.43');
    expect(two(m.sharpe)).toBe('0.66');
    expect(two(m.sortino)).toBe('1.30');
    expect(two(m.calmar)).toBe('0.77');
    expect(two(m.maxDrawdownPct)).toBe('-33.08');
    expect(m.maxDrawdownDuration).toBe(688 * DAY);
    expect(m.tradeCount).toBe(93);
    expect(two(m.winRatePct)).toBe('53.76');
    expect(two(m.bestTradePct)).toBe('57.12');
    expect(two(m.worstTradePct)).toBe('-16.63');
    expect(two(m.profitFactor)).toBe('2.13');
    // The README's 6.91 is backtesting.py 0.3's expectancy formula, avgWin × winRate − avgLoss × (1 − winRate),
    // which adds the losses' size instead of subtracting it (later versions print the mean trade return,
    // as we do). Both from our figures:
    const w = m.winRatePct! / 100;
    expect((m.avgWinPct! * w - m.avgLossPct! * (1 - w)).toFixed(2)).toBe('6.91');
    expect(m.expectancy!).toBeCloseTo(m.avgWinPct! * w + m.avgLossPct! * (1 - w), 10);
  });
});
