/**
 * The scratch memory Kernel.backtest lends from one run to the next (sandbox.ts, ScratchPool): the
 * strategy's column copies and init()'s indicator arrays reuse the previous run's buffers. A run
 * must not see anything a previous run left in them, the caller's columns stay untouched, and a
 * failed run's buffers are not reused.
 */
import { describe, expect, it } from 'vitest';
import { Kernel, ScratchPool, shareColumns } from './index';
import { BASE_CONFIG, EMA_CROSS, SMA_CROSS, compile, synthetic } from './fixtures/strategies';
import type { SimConfig } from './types';

const N = 20_000;
const series = shareColumns(synthetic(N, 11));
const cfg: SimConfig = { ...BASE_CONFIG, allowShort: true, fees: { maker: 0.0002, taker: 0.0004 } };

/** Fills its column copies and its indicators with garbage after using them (the buffers go back to the pool so). */
const VANDAL = `import { Strategy, ta } from 'aristobot';
export default class Vandal extends Strategy {
  static warmup = 30;
  a!: Float64Array;
  b!: Float64Array;
  init() {
    this.a = ta.ema(this.close, 12);
    this.b = ta.sma(this.open, 26);
    this.high; this.low; this.volume; this.time;
  }
  shouldLong() { return this.crossover(this.a, this.b); }
  shouldShort() {
    if (this.i === this.close.length - 1) {
      for (const col of [this.a, this.b, this.close, this.open, this.high, this.low, this.volume, this.time]) col.fill(-12345);
    }
    return this.crossunder(this.a, this.b);
  }
}
`;

describe('scratch memory lent between backtests', () => {
  it('a run on lent buffers gives the result of a run on fresh memory, bit for bit, whatever the previous run wrote into them', async () => {
    const fresh = new Kernel({ memoryMb: 256 });
    const reused = new Kernel({ memoryMb: 256 });
    try {
      const expected = await fresh.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, series, cfg);
      const closeBefore = Float64Array.from(series.close);
      // the vandal asks for buffers (none lent on a pool's first run), then gets them lent, and trashes them
      for (let k = 0; k < 3; k++) await reused.backtest(compile(VANDAL), undefined, series, cfg);
      expect(reused.scratch.pooledBytes).toBeGreaterThanOrEqual(8 * N * 8);
      for (let k = 0; k < 2; k++) {
        const r = await reused.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, series, cfg);
        expect(r.trades).toEqual(expected.trades);
        expect(Array.from(r.equity)).toEqual(Array.from(expected.equity));
        expect(Array.from(r.exposure)).toEqual(Array.from(expected.exposure));
        expect(r.decisions).toEqual(expected.decisions);
      }
      expect(Array.from(series.close)).toEqual(Array.from(closeBefore));
    } finally {
      fresh.dispose();
      reused.dispose();
    }
  });

  it('a failed run keeps the buffers it was lent out of the pool', async () => {
    const k = new Kernel({ memoryMb: 256 });
    try {
      await k.backtest(compile(SMA_CROSS), undefined, series, cfg);
      await k.backtest(compile(SMA_CROSS), undefined, series, cfg);
      const pooled = k.scratch.pooledBytes;
      expect(pooled).toBeGreaterThan(0);
      const throwing = SMA_CROSS.replace('return this.crossunder(this.fastMa, this.slowMa);', "if (this.i === 500) throw new Error('boom'); return this.crossunder(this.fastMa, this.slowMa);");
      await expect(k.backtest(compile(throwing), undefined, series, cfg)).rejects.toMatchObject({ code: 'strategy_error' });
      expect(k.scratch.pooledBytes).toBeLessThan(pooled);
    } finally {
      k.dispose();
    }
  });

  it('the pool lends what the last run of that size asked for, within its bound, and empties when idle', async () => {
    const pool = new ScratchPool(3 * 800, 20);
    expect(pool.lend(800)).toEqual([]);
    const made = [new SharedArrayBuffer(800), new SharedArrayBuffer(800)];
    pool.takeBack(800, made, 5);
    const lent = pool.lend(800);
    // 5 asked for, 3 fit in the bound: the two taken back and one made
    expect(lent).toHaveLength(3);
    expect(lent).toContain(made[0]);
    expect(lent).toContain(made[1]);
    expect(pool.pooledBytes).toBe(0);
    pool.takeBack(800, [...lent, new SharedArrayBuffer(800)], 1);
    expect(pool.pooledBytes).toBe(3 * 800);
    expect(pool.lend(800)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(pool.pooledBytes).toBe(0);
  });
});
