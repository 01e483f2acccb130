/**
 * The live bot's warm decisions (sandbox.ts decideKept): a context kept between decisions, the
 * window's shared buffers bound once and updated in place between calls (as the engine shifts its
 * window), cheap decisions run on the calling thread and costly ones on isolated-vm's pool. On real
 * series, with the shipped templates, every decision equals a fresh context's `decide()` on the
 * same window — sync or async, bound or rebound.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Kernel, sharedColumns } from './index';
import { compile, loadCsv } from './fixtures/strategies';
import type { Columns, Decision } from './types';

const kernel = new Kernel({ callTimeoutMs: 2000 });
afterAll(() => kernel.dispose());

const template = (name: string) => compile(readFileSync(resolve(import.meta.dirname, '../../resources/strategies', `${name}.ts`), 'utf8'));
const KEYS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;
const slice = (c: Columns, from: number, to: number): Columns => Object.fromEntries(KEYS.map((k) => [k, c[k].slice(from, to)])) as unknown as Columns;

/** The engine's window: shared columns of `w` candles, shifted by one candle in place per step. */
function slidingWindow(series: Columns, w: number) {
  const cols = sharedColumns(w);
  for (const k of KEYS) cols[k].set(series[k].subarray(0, w));
  let end = w;
  return {
    cols,
    end: () => end,
    step() {
      for (const k of KEYS) {
        cols[k].copyWithin(0, 1);
        cols[k][w - 1] = series[k][end]!;
      }
      end++;
    },
  };
}

/** A strategy whose `init()` costs as much CPU as its `spin` param asks. */
const HEAVY = `import { Strategy, ta } from 'aristobot';
export default class Heavy extends Strategy {
  static warmup = 20;
  static params = { spin: { default: 0, min: 0, max: 100000000 } };
  sma!: Float64Array;
  init() {
    let x = 0;
    for (let i = 0; i < this.params.spin; i++) x += Math.sqrt(i);
    this.sma = ta.sma(this.close, 20);
    if (x < 0) this.sma = this.close;
  }
  shouldLong() { return this.close[this.i] > this.sma[this.i]; }
  shouldShort() { return this.close[this.i] < this.sma[this.i]; }
}
`;

describe('warm decisions (decideKept)', () => {
  for (const [name, file, params] of [
    ['EMA cross on GOOG daily', 'ema-cross', { fast: 5, slow: 20 }],
    ['RSI mean reversion on EURUSD hourly', 'rsi-mean-reversion', undefined],
    ['Bollinger breakout on bt2006 daily', 'bollinger-breakout', undefined],
  ] as const) {
    it(`${name}: the same decision as a fresh context on every window, with and without a position`, { timeout: 120_000 }, async () => {
      const csv = file === 'ema-cross' ? 'GOOG.csv' : file === 'rsi-mean-reversion' ? 'EURUSD.csv' : 'bt2006.csv';
      const series = loadCsv(csv);
      const c = template(file);
      const warm = await kernel.load(c);
      const pooled = await kernel.load(c, { syncDecisionMs: 0 });
      const fresh = await kernel.load(c);
      try {
        await warm.keepContext();
        const w = 120;
        const win = slidingWindow(series, w);
        const steps = Math.min(400, series.close.length - w);
        const seen = new Set<string>();
        let syncCalls = 0;
        for (let i = 0; i < steps; i++) {
          const held = i % 3 === 1;
          const state = { position: held ? { side: 'long' as const, amount: 1, entryPrice: win.cols.close[w - 2]! } : null, balance: 10_000 };
          if (warm.decisionMode === 'sync') syncCalls++;
          const a: Decision = await warm.decideKept(params, win.cols, state, { allowShort: false });
          const b = await pooled.decideKept(params, win.cols, state, { allowShort: false });
          // a fresh context, on a copy of the same candles
          const f = await fresh.decide(params, slice(series, win.end() - w, win.end()), state, { allowShort: false });
          expect(a).toEqual(f);
          expect(b).toEqual(f);
          seen.add(a.action);
          win.step();
        }
        // the series make the strategy act, not only wait
        expect(seen.size).toBeGreaterThan(1);
        expect(syncCalls).toBeGreaterThan(0);
        expect(pooled.decisionMode).toBe('async');
      } finally {
        warm.dispose();
        pooled.dispose();
        fresh.dispose();
      }
    });
  }

  it('new columns and new params are bound again (the window rebuilt, the params edited)', async () => {
    const series = loadCsv('GOOG.csv');
    const c = template('ema-cross');
    const sb = await kernel.load(c);
    try {
      const st = { position: null, balance: 1000 };
      for (const [from, params] of [[0, { fast: 5, slow: 20 }], [300, { fast: 5, slow: 20 }], [300, { fast: 8, slow: 30 }], [900, undefined]] as const) {
        const cols = sharedColumns(200);
        for (const k of KEYS) cols[k].set(series[k].subarray(from, from + 200));
        const kept = await sb.decideKept(params, cols, st, { allowShort: true });
        expect(kept).toEqual(await kernel.decide(c, params, slice(series, from, from + 200), st, { allowShort: true }));
        // plain (unshared) columns are copied and bound for the call
        expect(await sb.decideKept(params, slice(series, from, from + 200), st, { allowShort: true })).toEqual(kept);
      }
    } finally {
      sb.dispose();
    }
  });

  it('a decision over the synchronous budget is stopped and decided again off the thread, with the same answer; cheap ones come back to the thread', { timeout: 60_000 }, async () => {
    const c = compile(HEAVY);
    const sb = await kernel.load(c, { syncDecisionMs: 1 });
    try {
      const series = loadCsv('GOOG.csv');
      const cols = sharedColumns(100);
      for (const k of KEYS) cols[k].set(series[k].subarray(500, 600));
      const st = { position: null, balance: 1000 };
      const want = await kernel.decide(c, { spin: 30_000_000 }, slice(series, 500, 600), st, { allowShort: true });
      await sb.keepContext();
      expect(sb.decisionMode).toBe('sync');
      expect(await sb.decideKept({ spin: 30_000_000 }, cols, st, { allowShort: true })).toEqual(want);
      expect(sb.decisionMode).toBe('async');
      // cheap again (a decision measured under SYNC_DECISION_CPU_MS of the isolate's CPU time): back on the calling thread
      const light = await kernel.decide(c, { spin: 0 }, slice(series, 500, 600), st, { allowShort: true });
      for (let i = 0; i < 5 && sb.decisionMode === 'async'; i++) expect(await sb.decideKept({ spin: 0 }, cols, st, { allowShort: true })).toEqual(light);
      expect(sb.decisionMode).toBe('sync');
      for (let i = 0; i < 3; i++) expect(await sb.decideKept({ spin: 0 }, cols, st, { allowShort: true })).toEqual(light);
    } finally {
      sb.dispose();
    }
  });

  it('the cold first decision and one costly decision alone stay on the calling thread; two costly in a row go off it, and a cheap one brings them back', { timeout: 60_000 }, async () => {
    const c = compile(HEAVY);
    const sb = await kernel.load(c, { syncDecisionMs: 10_000 });
    try {
      const series = loadCsv('GOOG.csv');
      const cols = sharedColumns(100);
      for (const k of KEYS) cols[k].set(series[k].subarray(500, 600));
      const st = { position: null, balance: 1000 };
      const heavy = { spin: 3_000_000 }; // well above SYNC_DECISION_CPU_MS of the isolate's CPU
      const want = await kernel.decide(c, heavy, slice(series, 500, 600), st, { allowShort: true });
      const light = await kernel.decide(c, { spin: 0 }, slice(series, 500, 600), st, { allowShort: true });
      await sb.keepContext();
      const modes: string[] = [];
      const run = async (p: { spin: number }, expected: Decision) => {
        modes.push(sb.decisionMode);
        expect(await sb.decideKept(p, cols, st, { allowShort: true })).toEqual(expected);
      };
      await run(heavy, want); // cold and costly: counted as cheap
      await run(heavy, want); // costly once: the next stays on the thread
      await run(heavy, want); // costly twice in a row: the next goes off it
      await run(heavy, want);
      await run({ spin: 0 }, light); // cheap off the thread: the next is back
      await run(heavy, want);
      await run({ spin: 0 }, light);
      expect(modes).toEqual(['sync', 'sync', 'sync', 'async', 'async', 'sync', 'sync']);
    } finally {
      sb.dispose();
    }
  });
});
