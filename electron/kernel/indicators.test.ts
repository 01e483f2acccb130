/**
 * ta.* as strategies get them (computed inside the sandbox), each checked against its formula
 * written out independently here, on the real GOOG series, aligned with the input (NaN while
 * warming up). Values match to 1e-9 relative (running sums vs direct sums differ in the last bits).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type StrategySandbox } from './index';
import { SMA_CROSS, compile, loadCsv } from './fixtures/strategies';

const G = loadCsv('GOOG.csv');
const n = G.close.length;
const kernel = new Kernel();
let sb: StrategySandbox;
beforeAll(async () => {
  sb = await kernel.load(compile(SMA_CROSS));
});
afterAll(() => kernel.dispose());

const close = Array.from(G.close);
const high = Array.from(G.high);
const low = Array.from(G.low);
const volume = Array.from(G.volume);

function expectSeries(got: Float64Array, want: number[], firstValid: number): void {
  expect(got).toBeInstanceOf(Float64Array);
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (i < firstValid) {
      expect(Number.isNaN(got[i]!), `index ${i} should be NaN`).toBe(true);
    } else {
      const w = want[i]!;
      const g = got[i]!;
      expect(Math.abs(g - w) <= 1e-9 * Math.max(1, Math.abs(w)), `index ${i}: ${g} vs ${w}`).toBe(true);
    }
  }
}

const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
function smaRef(x: number[], p: number): number[] {
  return x.map((_, i) => (i < p - 1 ? NaN : mean(x.slice(i - p + 1, i + 1))));
}
function emaRef(x: number[], p: number): number[] {
  const out: number[] = new Array(x.length).fill(NaN);
  const alpha = 2 / (p + 1);
  out[p - 1] = mean(x.slice(0, p));
  for (let i = p; i < x.length; i++) out[i] = alpha * x[i]! + (1 - alpha) * out[i - 1]!;
  return out;
}

describe('ta.* against their formulas', () => {
  it('sma: mean of the last period values', async () => {
    expectSeries((await sb.indicator('sma', [G.close, 20])) as Float64Array, smaRef(close, 20), 19);
  });

  it('ema: SMA seed, then alpha·x + (1 − alpha)·previous, alpha = 2/(period+1)', async () => {
    expectSeries((await sb.indicator('ema', [G.close, 12])) as Float64Array, emaRef(close, 12), 11);
  });

  it("rsi: Wilder's smoothing, 100 − 100/(1 + avgGain/avgLoss), first value at index period", async () => {
    const p = 14;
    const want: number[] = new Array(n).fill(NaN);
    let g = 0;
    let l = 0;
    for (let i = 1; i <= p; i++) {
      const d = close[i]! - close[i - 1]!;
      g += Math.max(d, 0);
      l += Math.max(-d, 0);
    }
    g /= p;
    l /= p;
    want[p] = 100 - 100 / (1 + g / l);
    for (let i = p + 1; i < n; i++) {
      const d = close[i]! - close[i - 1]!;
      g = (g * (p - 1) + Math.max(d, 0)) / p;
      l = (l * (p - 1) + Math.max(-d, 0)) / p;
      want[i] = 100 - 100 / (1 + g / l);
    }
    expectSeries((await sb.indicator('rsi', [G.close, p])) as Float64Array, want, p);
    // Default period 14.
    expectSeries((await sb.indicator('rsi', [G.close])) as Float64Array, want, p);
  });

  it('macd: EMA(fast) − EMA(slow) seeded with the first value (Tulip), signal = EMA of MACD from candle slow−1', async () => {
    const [f, s, sig] = [12, 26, 9];
    const emaFirst = (x: number[], p: number): number[] => {
      const a = 2 / (p + 1);
      const out = [x[0]!];
      for (let i = 1; i < x.length; i++) out.push(a * x[i]! + (1 - a) * out[i - 1]!);
      return out;
    };
    const ef = emaFirst(close, f);
    const es = emaFirst(close, s);
    const macd = close.map((_, i) => (i < s - 1 ? NaN : ef[i]! - es[i]!));
    const signal: number[] = new Array(n).fill(NaN);
    const a = 2 / (sig + 1);
    signal[s - 1] = macd[s - 1]!;
    for (let i = s; i < n; i++) signal[i] = a * macd[i]! + (1 - a) * signal[i - 1]!;
    const got = (await sb.indicator('macd', [G.close, f, s, sig])) as Record<string, Float64Array>;
    expectSeries(got.macd!, macd, s - 1);
    expectSeries(got.signal!, signal, s - 1);
    expectSeries(got.histogram!, macd.map((m, i) => m - signal[i]!), s - 1);
  });

  it('bbands: SMA ± k population standard deviations', async () => {
    const [p, k] = [20, 2];
    const mid = smaRef(close, p);
    const sd = close.map((_, i) => (i < p - 1 ? NaN : Math.sqrt(mean(close.slice(i - p + 1, i + 1).map((x) => (x - mid[i]!) ** 2)))));
    const got = (await sb.indicator('bbands', [G.close, p, k])) as Record<string, Float64Array>;
    expectSeries(got.middle!, mid, p - 1);
    expectSeries(got.upper!, mid.map((m, i) => m + k * sd[i]!), p - 1);
    expectSeries(got.lower!, mid.map((m, i) => m - k * sd[i]!), p - 1);
  });

  it("atr: true range, Wilder's smoothing, first value the mean of the first period true ranges", async () => {
    const p = 14;
    const tr = close.map((_, i) => (i === 0 ? high[0]! - low[0]! : Math.max(high[i]! - low[i]!, Math.abs(high[i]! - close[i - 1]!), Math.abs(low[i]! - close[i - 1]!))));
    const want: number[] = new Array(n).fill(NaN);
    want[p - 1] = mean(tr.slice(0, p));
    for (let i = p; i < n; i++) want[i] = (want[i - 1]! * (p - 1) + tr[i]!) / p;
    expectSeries((await sb.indicator('atr', [G.high, G.low, G.close, p])) as Float64Array, want, p - 1);
  });

  it('stoch: %K = SMA(100·(close − lowest low)/(highest high − lowest low)), %D = SMA(%K)', async () => {
    const [kp, ks, dp] = [14, 3, 3];
    const fastK = close.map((c, i) => {
      if (i < kp - 1) return NaN;
      const hh = Math.max(...high.slice(i - kp + 1, i + 1));
      const ll = Math.min(...low.slice(i - kp + 1, i + 1));
      return hh === ll ? 0 : (100 * (c - ll)) / (hh - ll);
    });
    const k = fastK.map((_, i) => (i < kp - 1 + ks - 1 ? NaN : mean(fastK.slice(i - ks + 1, i + 1))));
    const d = k.map((_, i) => (i < kp - 1 + ks - 1 + dp - 1 ? NaN : mean(k.slice(i - dp + 1, i + 1))));
    const first = kp - 1 + ks - 1 + dp - 1;
    const got = (await sb.indicator('stoch', [G.high, G.low, G.close, kp, ks, dp])) as Record<string, Float64Array>;
    expectSeries(got.k!, k, first);
    expectSeries(got.d!, d, first);
  });

  it('vwap: Σ(typical price × volume) / Σ volume over the last period candles', async () => {
    const p = 20;
    const tp = close.map((c, i) => (high[i]! + low[i]! + c) / 3);
    const want = close.map((_, i) => {
      if (i < p - 1) return NaN;
      let num = 0;
      let den = 0;
      for (let j = i - p + 1; j <= i; j++) {
        num += tp[j]! * volume[j]!;
        den += volume[j]!;
      }
      return num / den;
    });
    expectSeries((await sb.indicator('vwap', [G.high, G.low, G.close, G.volume, p])) as Float64Array, want, p - 1);
  });

  it('short inputs give all NaN; bad periods are refused', async () => {
    const got = (await sb.indicator('sma', [[1, 2, 3], 5])) as Float64Array;
    expect(Array.from(got).every(Number.isNaN)).toBe(true);
    await expect(sb.indicator('ema', [G.close, 0])).rejects.toThrow(/period must be an integer >= 1/);
    await expect(sb.indicator('nope', [G.close])).rejects.toThrow(/unknown indicator/);
  });
});
