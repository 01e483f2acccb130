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

  it('a recycled result gives its equity and exposure buffers to the next run, which writes every value anew', async () => {
    const fresh = new Kernel({ memoryMb: 256 });
    const k = new Kernel({ memoryMb: 256 });
    try {
      const expected = await fresh.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, series, cfg);
      const first = await k.backtest(compile(SMA_CROSS), undefined, series, cfg);
      const eq = first.equity.buffer;
      const ex = first.exposure.buffer;
      expect(eq).toBeInstanceOf(SharedArrayBuffer);
      // garbage where the next run's curve will go: a value the loop failed to write would show
      first.equity.fill(-12345);
      first.exposure.fill(7);
      k.recycle(first);
      expect(first.equity).toHaveLength(0);
      expect(first.exposure).toHaveLength(0);
      k.recycle(first); // twice: nothing more is pooled
      const r = await k.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, series, cfg);
      // a buffer of that size may also serve as the strategy's scratch: the exposure has its own size
      expect(r.exposure.buffer).toBe(ex);
      expect(Array.from(r.equity)).toEqual(Array.from(expected.equity));
      expect(Array.from(r.exposure)).toEqual(Array.from(expected.exposure));
      expect(r.trades).toEqual(expected.trades);
      expect(r.finalEquity).toBe(expected.finalEquity);
      // the recycled equity buffer was lent to this run as scratch (3 asked for: close and two EMAs), now back in the pool
      expect(k.scratch.pooledBytes).toBe(3 * N * 8);
      expect(r.equity.buffer).not.toBe(eq);
      k.recycle(r);
      expect(k.scratch.pooledBytes).toBe(4 * N * 8 + N);
      // a result the kernel did not make is left alone
      k.recycle(expected);
      expect(expected.equity).toHaveLength(N);
      expect(k.scratch.pooledBytes).toBe(4 * N * 8 + N);
    } finally {
      fresh.dispose();
      k.dispose();
    }
  });

  it('take() hands out a pooled buffer once, give() pools each buffer once and within the bound', () => {
    const pool = new ScratchPool(2 * 800, 10_000);
    const a = new SharedArrayBuffer(800);
    const b = new SharedArrayBuffer(800);
    pool.give([a, a, b, new SharedArrayBuffer(800)]);
    expect(pool.pooledBytes).toBe(1600);
    const x = pool.take(800);
    const y = pool.take(800);
    expect(new Set([x, y])).toEqual(new Set([a, b]));
    expect(pool.pooledBytes).toBe(0);
    const z = pool.take(800);
    expect([a, b]).not.toContain(z);
    expect(z.byteLength).toBe(800);
    expect(pool.take(0).byteLength).toBe(0);
    pool.clear();
  });

  it('a pooled buffer serves a smaller run (up to 4× its size): bit for bit the fresh result, nothing of the earlier run readable past its values', async () => {
    const fresh = new Kernel({ memoryMb: 256 });
    const k = new Kernel({ memoryMb: 256 });
    const small = shareColumns(synthetic(N / 2, 12));
    try {
      const expected = await fresh.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, small, cfg);
      // the vandal fills every buffer it was lent, then they go back to the pool with the large run's result
      for (let j = 0; j < 2; j++) k.recycle(await k.backtest(compile(VANDAL), undefined, series, cfg));
      k.recycle(await k.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, series, cfg));
      const pooled = k.scratch.pooledBytes;
      const r = await k.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, small, cfg);
      // the large run's memory served: no buffer was made for the smaller run
      expect(r.equity.buffer.byteLength).toBe(N * 8);
      expect(r.equity).toHaveLength(N / 2);
      expect(r.exposure).toHaveLength(N / 2);
      expect(k.scratch.pooledBytes).toBe(pooled - N * 8 - N);
      expect(r.trades).toEqual(expected.trades);
      expect(Array.from(r.equity)).toEqual(Array.from(expected.equity));
      expect(Array.from(r.exposure)).toEqual(Array.from(expected.exposure));
      k.recycle(r);
      // a strategy that views its buffers whole finds zeros past its own values
      const PEEK = `import { Strategy } from 'aristobot';
export default class Peek extends Strategy {
  static warmup = 0;
  leak = 0;
  init() {
    for (const col of [this.close, this.open]) {
      const all = new Float64Array(col.buffer as ArrayBuffer);
      for (let i = col.length; i < all.length; i++) if (all[i] !== 0) this.leak++;
    }
  }
  shouldLong() { return this.i === 5 && this.leak > 0; }
  shouldShort() { return false; }
}
`;
      const peek = await k.backtest(compile(PEEK), undefined, small, cfg);
      expect(peek.trades).toHaveLength(0);
      k.recycle(peek);
      // a run more than 4× smaller than the pooled buffers gets its own
      const tiny = await k.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, shareColumns(synthetic(N / 8, 13)), cfg);
      expect(tiny.equity.buffer.byteLength).toBe((N / 8) * 8);
    } finally {
      fresh.dispose();
      k.dispose();
    }
  });

  it('reserved memory serves the first run of a session, stays past the idle timer, and leaves the reserve with a failed run', async () => {
    const pool = new ScratchPool(10 * 800, 20);
    pool.reserve(800, 2);
    pool.reserve(800, 2); // twice: no more
    expect(pool.reservedBytes).toBe(1600);
    pool.give([new SharedArrayBuffer(800)]);
    expect(pool.pooledBytes).toBe(2400);
    await new Promise((r) => setTimeout(r, 60));
    expect(pool.pooledBytes).toBe(1600); // the idle pool keeps its reserve only
    pool.clear();
    expect(pool.reservedBytes).toBe(0);
    // with an idle budget (the kernel's): the reserve, then the largest others that fit in it
    const keeping = new ScratchPool(10 * 800, 20, 1000);
    keeping.reserve(800, 1);
    keeping.give([new SharedArrayBuffer(400), new SharedArrayBuffer(800), new SharedArrayBuffer(100), new SharedArrayBuffer(300)]);
    await new Promise((r) => setTimeout(r, 60));
    expect(keeping.pooledBytes).toBe(800 + 800 + 100);
    keeping.clear();

    const fresh = new Kernel({ memoryMb: 256 });
    const k = new Kernel({ memoryMb: 256 });
    try {
      const expected = await fresh.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, series, cfg);
      k.reserve(N);
      expect(k.scratch.reservedBytes).toBe(4 * N * 8 + N);
      // a tiny run first (the app's warm-up): its size is too small to take the reserve
      k.recycle(await k.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, shareColumns(synthetic(500, 3)), cfg));
      const before = k.scratch.pooledBytes;
      const r = await k.backtest(compile(EMA_CROSS), { fast: 12, slow: 26, size: 1 }, series, cfg);
      // three lent (close and two EMAs, as the tiny run asked) and the equity and exposure: the whole reserve
      expect(k.scratch.pooledBytes).toBe(before - (4 * N * 8 + N) + 3 * N * 8);
      expect(Array.from(r.equity)).toEqual(Array.from(expected.equity));
      expect(r.trades).toEqual(expected.trades);
      k.recycle(r);
      expect(k.scratch.pooledBytes).toBe(before);
      const throwing = EMA_CROSS.replace('return this.crossunder(this.fastMa, this.slowMa);', "if (this.i === 500) throw new Error('boom'); return this.crossunder(this.fastMa, this.slowMa);");
      await expect(k.backtest(compile(throwing), { fast: 12, slow: 26, size: 1 }, series, cfg)).rejects.toMatchObject({ code: 'strategy_error' });
      expect(k.scratch.reservedBytes).toBe(0);
      k.reserve(N);
      expect(k.scratch.reservedBytes).toBe(4 * N * 8 + N);
    } finally {
      fresh.dispose();
      k.dispose();
    }
  });
});
