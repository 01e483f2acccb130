/**
 * `decideKept` (the live bot's decision on a context kept between calls) answers exactly as
 * `decide` (a fresh context per call) on every window, and recovers after a failure.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Kernel, sharedColumns } from './index';
import { BASE_CONFIG, SMA_CROSS, compile, scripted, synthetic } from './fixtures/strategies';
import type { Columns } from './types';

const COLS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

const kernel = new Kernel({ callTimeoutMs: 300 });
afterAll(() => kernel.dispose());

const cut = (c: Columns, k: number): Columns => ({ time: c.time.slice(0, k), open: c.open.slice(0, k), high: c.high.slice(0, k), low: c.low.slice(0, k), close: c.close.slice(0, k), volume: c.volume.slice(0, k) });

describe('decideKept', () => {
  it('answers as decide() (and the backtest) on every window, with or without a position', async () => {
    const cols = synthetic(400);
    const r = await kernel.backtest(compile(SMA_CROSS), { fast: 5, slow: 12 }, cols, { ...BASE_CONFIG, initialBalance: 10_000, allowShort: true });
    expect(r.decisions.length).toBeGreaterThan(3);
    const sb = await kernel.load(compile(SMA_CROSS));
    try {
      let positions = 0;
      for (let k = 13; k <= 400; k += 7) {
        const open = r.trades.find((t) => t.entryIndex < k && t.exitIndex >= k);
        if (open) positions++;
        const state = { position: open ? { side: open.side, amount: open.amount, entryPrice: open.entryPrice } : null, balance: 10_000 };
        const kept = await sb.decideKept({ fast: 5, slow: 12 }, cut(cols, k), state, { allowShort: true });
        const fresh = await sb.decide({ fast: 5, slow: 12 }, cut(cols, k), state, { allowShort: true });
        expect(kept).toEqual(fresh);
      }
      expect(positions).toBeGreaterThan(0);
    } finally {
      sb.dispose();
    }
  });

  it('a throwing or runaway decision fails with the strategy error; the next decision works on a fresh context', async () => {
    const src = `import { Strategy } from 'aristobot';
let calls = 0;
export default class Flaky extends Strategy {
  static warmup = 1;
  static params = { mode: { default: 0, min: 0, max: 2 } };
  shouldLong(): boolean {
    calls++;
    if (this.params.mode === 1) throw new Error('boom ' + calls);
    if (this.params.mode === 2) { for (;;) {} }
    return true;
  }
  shouldShort() { return false; }
}
`;
    const sb = await kernel.load(compile(src));
    try {
      const w = cut(synthetic(50), 50);
      const st = { position: null, balance: 100 };
      expect(await sb.decideKept({ mode: 0 }, w, st, { allowShort: false })).toMatchObject({ action: 'open_long' });
      await expect(sb.decideKept({ mode: 1 }, w, st, { allowShort: false })).rejects.toMatchObject({ code: 'strategy_error', message: expect.stringMatching(/^Error: boom 2 \(line 8, column \d+\) in shouldLong\(\)/) });
      // a fresh context: the module's counter starts again
      await expect(sb.decideKept({ mode: 1 }, w, st, { allowShort: false })).rejects.toMatchObject({ message: expect.stringMatching(/boom 1/) });
      await expect(sb.decideKept({ mode: 2 }, w, st, { allowShort: false })).rejects.toMatchObject({ code: 'strategy_timeout' });
      expect(await sb.decideKept({ mode: 0 }, w, st, { allowShort: false })).toMatchObject({ action: 'open_long' });
    } finally {
      sb.dispose();
    }
  });

  it('shared columns updated in place (as the engine slides its window) are seen: answers as decide() at every step, and after a rebind to new columns', async () => {
    const all = synthetic(300);
    const sb = await kernel.load(compile(SMA_CROSS));
    try {
      const w = sharedColumns(60);
      const slide = (end: number): void => {
        for (const k of COLS) w[k].set(all[k].subarray(end - 60, end));
      };
      const actions = new Set<string>();
      const st = { position: null, balance: 1000 };
      for (let end = 60; end <= 300; end += 3) {
        slide(end);
        const kept = await sb.decideKept({ fast: 3, slow: 8 }, w, st, { allowShort: true });
        expect(kept).toEqual(await sb.decide({ fast: 3, slow: 8 }, cut(w, 60), st, { allowShort: true }));
        actions.add(kept.action);
      }
      expect(actions.size).toBeGreaterThan(1);
      // new columns (another length): bound again
      const w2 = sharedColumns(100);
      for (const k of COLS) w2[k].set(all[k].subarray(0, 100));
      expect(await sb.decideKept({ fast: 3, slow: 8 }, w2, st, { allowShort: true })).toEqual(await sb.decide({ fast: 3, slow: 8 }, cut(w2, 100), st, { allowShort: true }));
    } finally {
      sb.dispose();
    }
  });

  it('a strategy writing into its columns in init() (in place, by assignment, or into their prototype) changes neither the next decision nor the caller\'s columns; its instance state does not carry over, its module state does', async () => {
    const src = `import { Strategy } from 'aristobot';
let decisions = 0;
export default class Scribbler extends Strategy {
  static warmup = 1;
  static params = { last: { default: 0 }, first: { default: 0 }, high: { default: 0 } };
  ok = false;
  seen?: number;
  init() {
    decisions++;
    const n = this.close.length;
    // what this decision sees: the window's values, and a fresh instance
    this.ok = this.close[n - 1] === this.params.last && this.open[0] === this.params.first && this.high[n - 1] === this.params.high && this.seen === undefined && !('mark' in this);
    this.close[n - 1] = -1;
    this.close.fill(7);
    this.open[0] = 123;
    this.high = new Float64Array(n);
    this.seen = 1;
    (this as unknown as { mark: number }).mark = 1;
    // the accessors' prototype is kept between decisions: it cannot be rewritten
    try {
      Object.defineProperty(Object.getPrototypeOf(this), 'low', { get: () => new Float64Array(1) });
      Object.defineProperty(Object.getPrototypeOf(this), 'close', { get: () => new Float64Array(n).fill(-5) });
    } catch {
      // frozen
    }
  }
  shouldLong(): boolean { return this.ok && this.close[this.i] === 7 && this.open[0] === 123; }
  shouldShort(): boolean { return false; }
  calculatePositionSize(): number { return 1 / decisions; }
}
`;
    const sb = await kernel.load(compile(src));
    try {
      const plain = synthetic(50);
      const w = sharedColumns(50);
      for (const k of COLS) w[k].set(plain[k]);
      const before = COLS.map((k) => Float64Array.from(w[k]));
      const params = { last: w.close[49]!, first: w.open[0]!, high: w.high[49]! };
      const st = { position: null, balance: 100 };
      for (let d = 1; d <= 3; d++) {
        const r = await sb.decideKept(params, w, st, { allowShort: false });
        expect(r).toMatchObject({ action: 'open_long', size: 1 / d });
      }
      COLS.forEach((k, i) => expect(w[k]).toEqual(before[i]));
    } finally {
      sb.dispose();
    }
  });

  it('a strategy rewriting its prototype fails alike in the backtest, decide() and the kept decision (the prototype is frozen in every path)', async () => {
    const src = `import { Strategy } from 'aristobot';
export default class Patcher extends Strategy {
  static warmup = 1;
  init() { Object.defineProperty(Object.getPrototypeOf(this), 'low', { get: () => new Float64Array(1) }); }
  shouldLong(): boolean { return true; }
  shouldShort(): boolean { return false; }
}
`;
    const cols = synthetic(30);
    const sb = await kernel.load(compile(src));
    try {
      const st = { position: null, balance: 100 };
      const failure = (p: Promise<unknown>) => p.then(() => null, (e: { code?: string; message?: string }) => [e.code, e.message]);
      const inBacktest = await failure(kernel.backtest(compile(src), {}, cols, { ...BASE_CONFIG, initialBalance: 100 }));
      expect(inBacktest).toEqual(['strategy_error', expect.stringMatching(/^TypeError: Cannot redefine property: low \(line 4, column \d+\) in init\(\)/)]);
      expect(await failure(sb.decide({}, cols, st, { allowShort: false }))).toEqual(inBacktest);
      expect(await failure(sb.decideKept({}, cols, st, { allowShort: false }))).toEqual(inBacktest);
    } finally {
      sb.dispose();
    }
  });

  it('params changed between two decisions are seen (a new object, or the same object changed in place)', async () => {
    const src = `import { Strategy } from 'aristobot';
export default class Moody extends Strategy {
  static warmup = 1;
  static params = { mode: { default: 0 } };
  shouldLong(): boolean { return this.params.mode === 0; }
  shouldShort(): boolean { return this.params.mode === 1; }
}
`;
    const sb = await kernel.load(compile(src));
    try {
      const plain = synthetic(20);
      const w = sharedColumns(20);
      for (const k of COLS) w[k].set(plain[k]);
      const st = { position: null, balance: 100 };
      const cfg = { allowShort: true };
      const p = { mode: 0 };
      expect((await sb.decideKept(p, w, st, cfg)).action).toBe('open_long');
      p.mode = 1;
      expect((await sb.decideKept(p, w, st, cfg)).action).toBe('open_short');
      expect((await sb.decideKept({ mode: 2 }, w, st, cfg)).action).toBe('none');
      expect((await sb.decideKept({ mode: 0 }, w, st, cfg)).action).toBe('open_long');
      expect((await sb.decideKept(undefined, w, st, cfg)).action).toBe('open_long');
      // a bad param is refused, and the next decision binds again
      await expect(sb.decideKept({ nope: 1 }, w, st, cfg)).rejects.toMatchObject({ code: 'invalid_input' });
      expect((await sb.decideKept({ mode: 1 }, w, st, cfg)).action).toBe('open_short');
    } finally {
      sb.dispose();
    }
  });

  it('answers as decide() for every action, reason, size, stop-loss and take-profit, and in the warm-up', async () => {
    const all = synthetic(40);
    const sb = await kernel.load(scripted({ longs: [12, 15, 18], shorts: [13, 16, 19], exits: [14, 17, 20], size: 0.37, sl: 0.02, tp: 0.05, warmup: 10 }));
    const sb2 = await kernel.load(scripted({ longs: [12], size: 3, sl: -1, tp: Number.NaN, warmup: 10 }));
    try {
      const seen = new Set<string>();
      for (let k = 5; k <= 22; k++) {
        for (const position of [null, { side: 'long' as const, amount: 0.5, entryPrice: 30_000 }, { side: 'short' as const, amount: 0.5, entryPrice: 30_000 }]) {
          for (const allowShort of [false, true]) {
            const st = { position, balance: 1000 };
            for (const s of [sb, sb2]) {
              const kept = await s.decideKept(undefined, cut(all, k), st, { allowShort });
              expect(kept).toEqual(await s.decide(undefined, cut(all, k), st, { allowShort }));
              seen.add(kept.reasonKey ?? '');
            }
          }
        }
      }
      // the warm-up and the ten reasons of the rule
      expect(seen.size).toBe(11);
    } finally {
      sb.dispose();
      sb2.dispose();
    }
  });
});
