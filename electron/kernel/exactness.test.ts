/**
 * Exactness of the kernel's simulation.
 *
 * 1. Against backtesting.py (kernc/backtesting.py) on its own GOOG series (../shared/data/ohlcv/GOOG.csv
 *    is the file its test package ships):
 *    - `test_compute_stats` in backtesting/test/_test.py (0.3.x line, the version whose expected
 *      '# Trades' is 65): SmaCross fast=10 slow=30 (close, then buy/sell on each cross), cash 10,000,
 *      no commission, default size 1 − ε, fills at the next open, whole units; the open trade at the
 *      end stays open and is marked to market. Expected stats copied with full precision.
 *    - The README's / documentation quick-start (Backtest(GOOG, SmaCross, commission=.002,
 *      exclusive_orders=True), SmaCross 10/20), figures as printed there (two decimals): Equity Final
 *      68935.12, Equity Peak 68991.22, Return 589.35 %, 93 trades, Win Rate 53.76 %, Best Trade
 *      57.12 %, Worst Trade −16.63 %. That output comes from the 0.3 commission model (the fee folded
 *      into the entry price, exits free): SimConfig.feeModel 'entry_price'.
 * 2. Hand-computed cases on a few candles: fees, slippage, stop-loss, take-profit, both touched in one
 *    candle, a gap through the stop, a short and a reversal, the close at the end, fillAt 'close',
 *    amount step and minimum.
 */
import { describe, expect, it } from 'vitest';
import { Kernel } from './index';
import { BASE_CONFIG, SMA_CROSS, candles, compile, loadCsv, scripted } from './fixtures/strategies';
import type { SimConfig, SimResult, SimTrade } from './types';

const kernel = new Kernel();
const GOOG = loadCsv('GOOG.csv');
const ONE_MINUS_EPS = 1 - Number.EPSILON; // backtesting.py's default size: 1 - sys.float_info.epsilon

function peakOf(r: SimResult): number {
  let p = -Infinity;
  for (const e of r.equity) p = Math.max(p, e);
  return p;
}
const pct = (t: SimTrade): number => t.pnlPct;

describe('exactness against backtesting.py on GOOG', () => {
  const btpy: SimConfig = { initialBalance: 10_000, fees: { maker: 0, taker: 0 }, slippageBps: 0, fillAt: 'open', allowShort: true, amountStep: 1, minAmount: 0, closeAtEnd: false };

  it('test_compute_stats: SmaCross 10/30, no commission — final equity 51959.94999999997, 65 trades', async () => {
    const r = await kernel.backtest(compile(SMA_CROSS.replace('static warmup = 20', 'static warmup = 30')), { fast: 10, slow: 30, size: ONE_MINUS_EPS }, GOOG, btpy);
    expect(r.finalEquity).toBeCloseTo(51959.94999999997, 8);
    expect(Math.abs(r.finalEquity - 51959.94999999997) / 51959.94999999997).toBeLessThan(1e-8);
    expect(peakOf(r)).toBeCloseTo(75787.44, 8);
    expect(r.trades.length).toBe(65);
    const best = Math.max(...r.trades.map(pct));
    const worst = Math.min(...r.trades.map(pct));
    expect(Math.abs(best - 53.59595229490424) / 53.59595229490424).toBeLessThan(1e-8);
    expect(Math.abs(worst + 18.39887353835481) / 18.39887353835481).toBeLessThan(1e-8);
    const wins = r.trades.filter((t) => t.pnl > 0).length;
    expect((wins / r.trades.length) * 100).toBeCloseTo(46.15384615384615, 10);
    // Profit Factor = sum of winning trade returns / |sum of losing trade returns|
    const gains = r.trades.filter((t) => t.pnlPct > 0).reduce((s, t) => s + t.pnlPct, 0);
    const losses = r.trades.filter((t) => t.pnlPct < 0).reduce((s, t) => s + t.pnlPct, 0);
    expect(Math.abs(gains / -losses - 2.0880175388920286)).toBeLessThan(1e-8);
    // Every size is a whole number of shares; every fill is at the next candle's open.
    for (const t of r.trades) {
      expect(Number.isInteger(t.amount)).toBe(true);
      expect(t.entryPrice).toBe(GOOG.open[t.entryIndex]);
      expect(t.exitPrice).toBe(GOOG.open[t.exitIndex]);
    }
    // The trades alternate long/short, each reversal entering where the previous one left.
    for (let k = 1; k < r.trades.length; k++) {
      expect(r.trades[k]!.entryIndex).toBe(r.trades[k - 1]!.exitIndex);
      expect(r.trades[k]!.side).not.toBe(r.trades[k - 1]!.side);
    }
  });

  it('README quick-start: SmaCross 10/20, commission .002, exclusive orders — 68935.12, peak 68991.22, 93 trades', async () => {
    const r = await kernel.backtest(compile(SMA_CROSS), { fast: 10, slow: 20, size: ONE_MINUS_EPS }, GOOG, { ...btpy, fees: { maker: 0.002, taker: 0.002 }, feeModel: 'entry_price' });
    expect(r.finalEquity.toFixed(2)).toBe('68935.12');
    expect(peakOf(r).toFixed(2)).toBe('68991.22');
    expect((((r.finalEquity - 10_000) / 10_000) * 100).toFixed(2)).toBe('589.35');
    expect(r.trades.length).toBe(93);
    expect(((r.trades.filter((t) => t.pnl > 0).length / r.trades.length) * 100).toFixed(2)).toBe('53.76');
    expect(Math.max(...r.trades.map(pct)).toFixed(2)).toBe('57.12');
    expect(Math.min(...r.trades.map(pct)).toFixed(2)).toBe('-16.63');
    // Entry prices carry the commission: open × 1.002 for longs, open × 0.998 for shorts; exits at the open.
    for (const t of r.trades) {
      const open = GOOG.open[t.entryIndex]!;
      expect(t.entryPrice).toBe(t.side === 'long' ? open * 1.002 : open * 0.998);
      expect(t.exitPrice).toBe(GOOG.open[t.exitIndex]);
      expect(Number.isInteger(t.amount)).toBe(true);
    }
  });

  it('is deterministic: the same inputs give the same result, bit for bit', async () => {
    const cfg: SimConfig = { ...btpy, fees: { maker: 0.001, taker: 0.002 }, slippageBps: 3 };
    const a = await kernel.backtest(compile(SMA_CROSS), undefined, GOOG, cfg);
    const b = await kernel.backtest(compile(SMA_CROSS), undefined, GOOG, cfg);
    expect(Buffer.from(b.equity.buffer).equals(Buffer.from(a.equity.buffer))).toBe(true);
    expect(b.trades).toEqual(a.trades);
  });
});

describe('no lookahead in the engine', () => {
  it('a run cut at candle k decides and trades exactly like the full run up to k', async () => {
    const cfg: SimConfig = { ...BASE_CONFIG, initialBalance: 10_000, allowShort: true, fees: { maker: 0.001, taker: 0.002 }, slippageBps: 2 };
    const full = await kernel.backtest(compile(SMA_CROSS), undefined, GOOG, cfg);
    for (const k of [150, 1000, 1777]) {
      const cut = { time: GOOG.time.slice(0, k + 1), open: GOOG.open.slice(0, k + 1), high: GOOG.high.slice(0, k + 1), low: GOOG.low.slice(0, k + 1), close: GOOG.close.slice(0, k + 1), volume: GOOG.volume.slice(0, k + 1) };
      const part = await kernel.backtest(compile(SMA_CROSS), undefined, cut, cfg);
      expect(part.decisions).toEqual(full.decisions.filter((d) => d.index <= k));
      expect(part.trades.filter((t) => t.exitReason !== 'end')).toEqual(full.trades.filter((t) => t.exitIndex <= k));
      // Equity before the last candle is the same bits.
      expect(Array.from(part.equity.subarray(0, k))).toEqual(Array.from(full.equity.subarray(0, k)));
    }
  });
});

describe('hand-computed cases', () => {
  // Candles 0..5: [open, high, low, close]
  const flat: [number, number, number, number][] = [
    [100, 101, 99, 100],
    [100, 101, 99, 100],
    [100, 102, 99, 101],
    [105, 106, 104, 105],
    [110, 111, 109, 110],
    [108, 109, 107, 108],
  ];

  it('fees: taker on both market fills, decisions fill at the next open, amount rounded down to the step', async () => {
    // Long decided on 1 → buys at open[2] = 100; exit decided on 3 → sells at open[4] = 110.
    const r = await kernel.backtest(scripted({ longs: [1], exits: [3] }), undefined, candles(flat), { ...BASE_CONFIG, fees: { maker: 0.0005, taker: 0.001 }, amountStep: 0.01 });
    const amount = 9.99; // floor(1000 / (100 × 1.001) / 0.01) × 0.01 = floor(999.000999) × 0.01
    const entryFee = amount * 100 * 0.001; // 0.999
    const exitFee = amount * 110 * 0.001; // 1.0989
    expect(r.trades).toHaveLength(1);
    const t = r.trades[0]!;
    expect(t.amount).toBeCloseTo(amount, 12);
    expect(t.entryIndex).toBe(2);
    expect(t.exitIndex).toBe(4);
    expect(t.entryPrice).toBe(100);
    expect(t.exitPrice).toBe(110);
    expect(t.fees).toBeCloseTo(entryFee + exitFee, 10);
    expect(t.pnl).toBeCloseTo(amount * 10 - entryFee - exitFee, 10);
    expect(t.exitReason).toBe('signal');
    expect(r.finalEquity).toBeCloseTo(1000 - entryFee + amount * 10 - exitFee, 10);
    // Equity marked to market at every close: at candle 3 the position is worth close 105.
    expect(r.equity[3]).toBeCloseTo(1000 - entryFee + amount * (105 - 100), 10);
    expect(r.equity[1]).toBe(1000);
    expect(Array.from(r.exposure)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(r.decisions).toEqual([{ index: 1, action: 'open_long' }, { index: 3, action: 'close' }]);
  });

  it('slippage: basis points against the trader on entry and exit', async () => {
    const r = await kernel.backtest(scripted({ longs: [1], exits: [3] }), undefined, candles(flat), { ...BASE_CONFIG, slippageBps: 10, amountStep: 0.01 });
    const t = r.trades[0]!;
    expect(t.entryPrice).toBeCloseTo(100.1, 12);
    expect(t.exitPrice).toBeCloseTo(109.89, 12);
    expect(t.amount).toBeCloseTo(9.99, 12); // floor(1000 / 100.1 / 0.01) × 0.01
    expect(r.finalEquity).toBeCloseTo(1000 + 9.99 * (109.89 - 100.1), 9);
  });

  it('stop-loss: a later low through the stop exits at the stop, taker fee', async () => {
    const rows: [number, number, number, number][] = [
      [100, 100, 100, 100],
      [100, 100, 100, 100],
      [100, 101, 99, 100], // entry at 100, stop 95
      [99, 100, 94, 96], // low 94 touches 95
      [96, 97, 95, 96],
    ];
    const r = await kernel.backtest(scripted({ longs: [1], sl: 0.05 }), undefined, candles(rows), { ...BASE_CONFIG, fees: { maker: 0.001, taker: 0.002 } });
    const t = r.trades[0]!;
    expect(t.exitReason).toBe('stop_loss');
    expect(t.exitIndex).toBe(3);
    expect(t.exitPrice).toBeCloseTo(95, 12);
    expect(t.stopLoss).toBe(0.05);
    const amount = 1000 / (100 * 1.002);
    expect(t.amount).toBeCloseTo(amount, 12);
    expect(t.fees).toBeCloseTo(amount * 100 * 0.002 + amount * 95 * 0.002, 10);
    expect(r.finalEquity).toBeCloseTo(1000 - amount * 100 * 0.002 - amount * 5 - amount * 95 * 0.002, 9);
  });

  it('take-profit: a later high through the target exits at the target, maker fee', async () => {
    const rows: [number, number, number, number][] = [
      [100, 100, 100, 100],
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [101, 111, 100, 108], // high 111 reaches 110
      [108, 109, 107, 108],
    ];
    const r = await kernel.backtest(scripted({ longs: [1], tp: 0.1 }), undefined, candles(rows), { ...BASE_CONFIG, fees: { maker: 0.001, taker: 0.002 } });
    const t = r.trades[0]!;
    expect(t.exitReason).toBe('take_profit');
    expect(t.exitPrice).toBeCloseTo(110, 12);
    const amount = 1000 / (100 * 1.002);
    expect(t.fees).toBeCloseTo(amount * 100 * 0.002 + amount * 110 * 0.001, 10);
  });

  it('both touched in one candle: the stop first', async () => {
    const rows: [number, number, number, number][] = [
      [100, 100, 100, 100],
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [100, 112, 90, 100], // touches 95 and 110
    ];
    const r = await kernel.backtest(scripted({ longs: [1], sl: 0.05, tp: 0.1 }), undefined, candles(rows), BASE_CONFIG);
    expect(r.trades[0]!.exitReason).toBe('stop_loss');
    expect(r.trades[0]!.exitPrice).toBeCloseTo(95, 12);
  });

  it('a gap through the stop fills at the open', async () => {
    const rows: [number, number, number, number][] = [
      [100, 100, 100, 100],
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [90, 92, 88, 91], // opens below the stop at 95
    ];
    const r = await kernel.backtest(scripted({ longs: [1], sl: 0.05 }), undefined, candles(rows), BASE_CONFIG);
    const t = r.trades[0]!;
    expect(t.exitReason).toBe('stop_loss');
    expect(t.exitPrice).toBe(90);
    expect(r.finalEquity).toBeCloseTo(1000 * 0.9, 9);
  });

  it('a short, then a reversal to long on shouldLong(); shorts refused where not allowed', async () => {
    const rows: [number, number, number, number][] = [
      [100, 100, 100, 100],
      [100, 100, 100, 100],
      [100, 100, 100, 100], // short at 100
      [95, 95, 95, 95],
      [90, 90, 90, 90], // reversed at 90
      [99, 99, 99, 99],
    ];
    const r = await kernel.backtest(scripted({ shorts: [1], longs: [3] }), undefined, candles(rows), { ...BASE_CONFIG, allowShort: true, fees: { maker: 0, taker: 0.001 } });
    expect(r.trades.map((t) => [t.side, t.entryIndex, t.exitIndex, t.exitReason])).toEqual([
      ['short', 2, 4, 'reverse'],
      ['long', 4, 5, 'end'],
    ]);
    const a1 = 1000 / (100 * 1.001);
    const cash1 = 1000 - a1 * 100 * 0.001 + a1 * (100 - 90) - a1 * 90 * 0.001;
    expect(r.trades[0]!.balanceAfter).toBeCloseTo(cash1, 9);
    const a2 = cash1 / (90 * 1.001);
    expect(r.trades[1]!.amount).toBeCloseTo(a2, 9);
    // The position left open at the end is closed on the last candle's close (taker fee).
    expect(r.trades[1]!.exitPrice).toBe(99);
    expect(r.finalEquity).toBeCloseTo(cash1 - a2 * 90 * 0.001 + a2 * 9 - a2 * 99 * 0.001, 9);
    expect(r.equity[5]).toBe(r.finalEquity);
    expect(r.decisions.map((d) => d.action)).toEqual(['open_short', 'reverse_to_long']);

    const spot = await kernel.backtest(scripted({ shorts: [1], longs: [3] }), undefined, candles(rows), BASE_CONFIG);
    expect(spot.trades.map((t) => [t.side, t.entryIndex])).toEqual([['long', 4]]);
  });

  it('long → shouldShort() closes without shorting where shorts are not allowed', async () => {
    const r = await kernel.backtest(scripted({ longs: [1], shorts: [2] }), undefined, candles(flat), BASE_CONFIG);
    expect(r.trades.map((t) => [t.side, t.entryIndex, t.exitIndex, t.exitReason])).toEqual([['long', 2, 3, 'signal']]);
    expect(r.decisions).toEqual([{ index: 1, action: 'open_long' }, { index: 2, action: 'close' }]);
  });

  it("fillAt 'close' fills at the decision candle's close", async () => {
    const r = await kernel.backtest(scripted({ longs: [2], exits: [4] }), undefined, candles(flat), { ...BASE_CONFIG, fillAt: 'close' });
    const t = r.trades[0]!;
    expect([t.entryIndex, t.entryPrice, t.exitIndex, t.exitPrice]).toEqual([2, 101, 4, 110]);
    expect(r.finalEquity).toBeCloseTo(1000 * (110 / 101), 9);
  });

  it('the size fraction, the amount step and the minimum amount', async () => {
    const half = await kernel.backtest(scripted({ longs: [1], size: 0.5 }), undefined, candles(flat), { ...BASE_CONFIG, amountStep: 1 });
    expect(half.trades[0]!.amount).toBe(5);
    const refused = await kernel.backtest(scripted({ longs: [1], size: 0.5 }), undefined, candles(flat), { ...BASE_CONFIG, amountStep: 1, minAmount: 6 });
    expect(refused.trades).toHaveLength(0);
    expect(refused.refused).toBe(1);
    expect(refused.finalEquity).toBe(1000);
  });

  it('warm-up: no decision before static warmup candles', async () => {
    const r = await kernel.backtest(scripted({ longs: [1, 3], warmup: 3 }), undefined, candles(flat), BASE_CONFIG);
    expect(r.firstDecisionIndex).toBe(3);
    expect(r.decisions).toEqual([{ index: 3, action: 'open_long' }]);
  });
});
