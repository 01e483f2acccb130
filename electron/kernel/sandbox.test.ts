/**
 * The sandbox: info, decide, errors with the strategy's own line, limits, cancel and progress, and
 * each hostile strategy of issue 10 contained while the core keeps answering (an interval timer in
 * the test process must keep ticking during each, and a concurrent kernel run must finish).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { Kernel, shareColumns, sharedColumns } from './index';
import { BASE_CONFIG, SMA_CROSS, candles, compile, loadCsv, synthetic } from './fixtures/strategies';

const kernel = new Kernel({ memoryMb: 64, callTimeoutMs: 1_000, runTimeoutMs: 3_000 });
afterAll(() => kernel.dispose());

const GOOG = loadCsv('GOOG.csv');

function strategy(body: string, head = ''): string {
  return `import { Strategy, ta } from 'aristobot';
${head}
export default class Hostile extends Strategy {
  static warmup = 1;
${body}
}
`;
}

/** Runs `fn` while measuring the event loop: the largest gap between 10 ms ticks, and a concurrent run. */
async function whileResponsive<T>(fn: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; ticks: number; maxGapMs: number; concurrentOk: boolean }> {
  let ticks = 0;
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    ticks++;
  }, 10);
  const concurrent = kernel.backtest(compile(SMA_CROSS), undefined, GOOG, { ...BASE_CONFIG, initialBalance: 10_000 });
  const [result, other] = await Promise.allSettled([fn(), concurrent]);
  clearInterval(timer);
  return { result, ticks, maxGapMs, concurrentOk: other.status === 'fulfilled' && other.value.trades.length > 0 };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return { code: e.code, message: e.message, details: e.details };
    return { code: 'not an AppError', message: String(e), details: null };
  }
  return { code: 'resolved', message: '', details: null };
}

const few = candles(Array.from({ length: 30 }, (_, i) => [100 + i, 101 + i, 99 + i, 100.5 + i] as [number, number, number, number]));

describe('info and decide', () => {
  it('reads static params and warmup; the defaults when absent', async () => {
    expect(await kernel.info(compile(SMA_CROSS))).toEqual({
      params: {
        fast: { default: 10, min: 2, max: 100, step: 1, label: 'Fast SMA' },
        slow: { default: 20, min: 3, max: 400, step: 1, label: 'Slow SMA' },
        size: { default: 1, min: 0, max: 1, step: 0.01, label: 'Position size' },
      },
      warmup: 20,
    });
    const bare = compile(`import { Strategy } from 'aristobot';
export default class Bare extends Strategy { shouldLong() { return false; } shouldShort() { return false; } }`);
    expect(await kernel.info(bare)).toEqual({ params: {}, warmup: 200 });
  });

  it('decide() answers by the same rule as the backtest on every candle (live = backtest)', async () => {
    const cfg = { ...BASE_CONFIG, initialBalance: 10_000, allowShort: true, fees: { maker: 0.001, taker: 0.001 } };
    const r = await kernel.backtest(compile(SMA_CROSS), undefined, GOOG, cfg);
    const sb = await kernel.load(compile(SMA_CROSS));
    try {
      // Replay the backtest's positions and ask decide() on windows ending at each decision and a few non-decisions.
      const decidedAt = new Map(r.decisions.map((d) => [d.index, d.action]));
      const sample = [...r.decisions.slice(0, 12).map((d) => d.index), 25, 60, 333, 1000];
      for (const k of sample) {
        const open = r.trades.find((t) => t.entryIndex <= k && t.exitIndex > k);
        const window = {
          time: GOOG.time.slice(0, k + 1), open: GOOG.open.slice(0, k + 1), high: GOOG.high.slice(0, k + 1),
          low: GOOG.low.slice(0, k + 1), close: GOOG.close.slice(0, k + 1), volume: GOOG.volume.slice(0, k + 1),
        };
        const d = await sb.decide(undefined, window, { position: open ? { side: open.side, amount: open.amount, entryPrice: open.entryPrice } : null, balance: 10_000 }, { allowShort: true });
        expect(d.action).toBe(decidedAt.get(k) ?? 'none');
        if (d.action === 'open_long' || d.action.startsWith('reverse')) expect(d.size).toBe(1);
        expect(d.reason.length).toBeGreaterThan(0);
      }
    } finally {
      sb.dispose();
    }
  });

  it('decide() in warm-up says so; reasons name the calls', async () => {
    const ten = { time: few.time.slice(0, 10), open: few.open.slice(0, 10), high: few.high.slice(0, 10), low: few.low.slice(0, 10), close: few.close.slice(0, 10), volume: few.volume.slice(0, 10) };
    const d = await kernel.decide(compile(SMA_CROSS), undefined, ten, { position: null, balance: 100 }, { allowShort: false });
    expect(d).toEqual({ action: 'none', size: null, stopLoss: null, takeProfit: null, reason: 'warm-up (needs 20 candles before the first decision, has 10)', reasonKey: 'coreBot.why.warmup', reasonParams: { warmup: 20, have: 10 } });
    const flat = await kernel.decide(compile(SMA_CROSS), undefined, few, { position: null, balance: 100 }, { allowShort: false });
    expect(flat).toMatchObject({ reason: 'shouldLong() false', reasonKey: 'coreBot.why.longFalse' });
    const held = await kernel.decide(compile(SMA_CROSS), undefined, few, { position: { side: 'long', amount: 1, entryPrice: 100 }, balance: 0 }, { allowShort: false });
    expect(held).toMatchObject({ reason: 'shouldShort() and shouldExit() false', reasonKey: 'coreBot.why.shortExitFalse' });
  });

  it('params: declared defaults applied, overrides used, unknown or non-numeric refused', async () => {
    const src = compile(`import { Strategy } from 'aristobot';
export default class P extends Strategy {
  static params = { at: { default: 5 } };
  static warmup = 0;
  shouldLong() { return this.i === this.params.at; }
  shouldShort() { return false; }
}`);
    expect((await kernel.backtest(src, undefined, few, BASE_CONFIG)).decisions).toEqual([{ index: 5, action: 'open_long' }]);
    expect((await kernel.backtest(src, { at: 7 }, few, BASE_CONFIG)).decisions).toEqual([{ index: 7, action: 'open_long' }]);
    const unknown = await codeOf(kernel.backtest(src, { nope: 1 }, few, BASE_CONFIG));
    expect(unknown.code).toBe('invalid_input');
    expect(unknown.message).toMatch(/unknown parameter "nope"/);
    const nan = await codeOf(kernel.backtest(src, { at: Number.NaN }, few, BASE_CONFIG));
    expect(nan.code).toBe('invalid_input');
  });

  it('bad settings are refused with the reason', async () => {
    for (const [cfg, why] of [
      [{ ...BASE_CONFIG, initialBalance: 0 }, /initialBalance/],
      [{ ...BASE_CONFIG, fees: { maker: 1.5, taker: 0 } }, /fees.maker/],
      [{ ...BASE_CONFIG, fillAt: 'later' as 'open' }, /fillAt/],
      [{ ...BASE_CONFIG, slippageBps: -1 }, /slippageBps/],
    ] as const) {
      const r = await codeOf(kernel.backtest(compile(SMA_CROSS), undefined, few, cfg));
      expect(r.code).toBe('invalid_input');
      expect(r.message).toMatch(why);
    }
    const short = { ...few, open: few.open.slice(1) };
    expect((await codeOf(kernel.backtest(compile(SMA_CROSS), undefined, short, BASE_CONFIG))).code).toBe('invalid_input');
  });
});

describe('errors carry the strategy line', () => {
  it('a throw in shouldLong() → strategy_error with the TypeScript line and the method', async () => {
    const src = strategy(`
  shouldLong(): boolean {
    if (this.i === 10) {
      throw new Error('boom at ten');
    }
    return false;
  }
  shouldShort() { return false; }`);
    const line = src.split('\n').findIndex((l) => l.includes('boom at ten')) + 1;
    const r = await codeOf(kernel.backtest(compile(src), undefined, few, BASE_CONFIG));
    expect(r.code).toBe('strategy_error');
    expect(r.message).toContain('boom at ten');
    expect(r.message).toContain(`line ${line}`);
    expect(r.message).toContain('shouldLong()');
    expect((r.details as { line: number }).line).toBe(line);
  });

  it('a TypeError in init() (undefined property) → its line, phase init()', async () => {
    const src = strategy(`
  init() {
    const x: any = undefined;
    this.params.fast + x.length;
  }
  shouldLong() { return false; }
  shouldShort() { return false; }`);
    const line = src.split('\n').findIndex((l) => l.includes('x.length')) + 1;
    const r = await codeOf(kernel.backtest(compile(src), undefined, few, BASE_CONFIG));
    expect(r.code).toBe('strategy_error');
    expect(r.message).toMatch(/TypeError/);
    expect(r.message).toContain(`line ${line}`);
    expect(r.message).toContain('init()');
  });

  it('a throw in decide() is reported the same way', async () => {
    const src = strategy(`
  shouldLong(): boolean { throw new RangeError('live failure'); }
  shouldShort() { return false; }`);
    const line = src.split('\n').findIndex((l) => l.includes('live failure')) + 1;
    const r = await codeOf(kernel.decide(compile(src), undefined, few, { position: null, balance: 1 }, { allowShort: false }));
    expect(r.code).toBe('strategy_error');
    expect(r.message).toContain(`RangeError: live failure (line ${line}, column 33) in shouldLong()`);
  });

  it('no clock and no randomness: Date.now(), new Date(), Math.random() throw; new Date(t) works', async () => {
    for (const expr of ['Date.now()', 'new Date().getTime()', 'Math.random()', 'Number(Date())']) {
      const src = strategy(`  init() { (this as any).x = ${expr}; }\n  shouldLong() { return false; }\n  shouldShort() { return false; }`);
      const r = await codeOf(kernel.backtest(compile(src), undefined, few, BASE_CONFIG));
      expect(r.code, expr).toBe('strategy_error');
      expect(r.message, expr).toMatch(/not available in strategies/);
    }
    const ok = strategy(`  shouldLong() { return new Date(this.time[this.i]).getTime() === this.time[3]; }\n  shouldShort() { return false; }`);
    const r = await kernel.backtest(compile(ok), undefined, few, BASE_CONFIG);
    expect(r.decisions[0]).toEqual({ index: 3, action: 'open_long' });
  });

  it('a class that does not extend Strategy, or lacks shouldLong(), is refused at load', async () => {
    const notStrategy = compile(`export default class X { shouldLong() { return true; } shouldShort() { return false; } }`);
    expect((await codeOf(kernel.info(notStrategy))).message).toMatch(/must extend Strategy/);
    const missing = compile(`import { Strategy } from 'aristobot';\nexport default class X extends Strategy { shouldShort() { return false; } }`);
    expect((await codeOf(kernel.info(missing))).message).toMatch(/must implement shouldLong\(\)/);
  });
});

describe('hostile strategies are contained; the core keeps answering', () => {
  it('while(true){} in init() → strategy_timeout naming the limit and init()', async () => {
    const src = strategy(`  init() { while (true) {} }\n  shouldLong() { return false; }\n  shouldShort() { return false; }`);
    const { result, ticks, concurrentOk } = await whileResponsive(() => kernel.backtest(compile(src), undefined, few, BASE_CONFIG));
    expect(result.status).toBe('rejected');
    const e = (result as PromiseRejectedResult).reason as AppError;
    expect(e.code).toBe('strategy_timeout');
    // The call limit (1000 ms) + 2 µs per candle for a backtest's init().
    expect(e.message).toMatch(/CPU limit of 1001 ms in init\(\)/);
    expect(ticks).toBeGreaterThan(10);
    expect(concurrentOk).toBe(true);
  });

  it('while(true){} in shouldLong() → strategy_timeout naming shouldLong() (backtest: run limit; decide: call limit)', async () => {
    const src = strategy(`  shouldLong(): boolean { if (this.i > 5) { while (true) {} } return false; }\n  shouldShort() { return false; }`);
    const { result, ticks, concurrentOk } = await whileResponsive(() => kernel.backtest(compile(src), undefined, few, BASE_CONFIG));
    const e = (result as PromiseRejectedResult).reason as AppError;
    expect(e.code).toBe('strategy_timeout');
    expect(e.message).toMatch(/CPU limit of 3000 ms in shouldLong\(\)/);
    expect(ticks).toBeGreaterThan(10);
    expect(concurrentOk).toBe(true);
    const live = await codeOf(kernel.decide(compile(src), undefined, few, { position: null, balance: 1 }, { allowShort: false }));
    expect(live.code).toBe('strategy_timeout');
    expect(live.message).toMatch(/CPU limit of 1000 ms in shouldLong\(\)/);
  });

  it("require('fs') is refused", async () => {
    const src = strategy(`  init() { (this as any).fs = require('fs'); }\n  shouldLong() { return false; }\n  shouldShort() { return false; }`, 'declare const require: (m: string) => unknown;');
    const { result } = await whileResponsive(() => kernel.backtest(compile(src), undefined, few, BASE_CONFIG));
    const e = (result as PromiseRejectedResult).reason as AppError;
    expect(e.code).toBe('strategy_error');
    expect(e.message).toMatch(/Cannot import 'fs'/);
    const top = compile(`import * as fs from 'fs';\nimport { Strategy } from 'aristobot';\nexport default class X extends Strategy { shouldLong() { return !!fs; } shouldShort() { return false; } }`);
    const r = await codeOf(kernel.info(top));
    expect(r.code).toBe('strategy_error');
    expect(r.message).toMatch(/Cannot import 'fs'.*line 1/);
  });

  it("import('fs') never yields the module", async () => {
    const src = strategy(
      `  init() { import('fs').then((m) => { (globalThis as any).leaked = m; }, (e) => { (globalThis as any).refused = String(e); }); }
  shouldLong(): boolean { if ((globalThis as any).leaked) throw new Error('fs reached'); return false; }
  shouldShort() { return false; }`,
    );
    const { result } = await whileResponsive(() => kernel.backtest(compile(src), undefined, few, BASE_CONFIG));
    expect(result.status).toBe('fulfilled');
    // The raw dynamic import (not transpiled to require) has no module loader behind it either.
    const raw = { js: `${compile(strategy('  shouldLong() { return false; }\n  shouldShort() { return false; }')).js}\nimport('fs').then(() => { throw new Error('fs reached'); });` };
    const r2 = await codeOf(kernel.backtest(raw, undefined, few, BASE_CONFIG));
    expect(r2.message).not.toMatch(/fs reached/);
  });

  it('process.env is not there', async () => {
    const src = strategy(`  init() { (this as any).env = (globalThis as any).process.env; }\n  shouldLong() { return false; }\n  shouldShort() { return false; }`);
    const r = await codeOf(kernel.backtest(compile(src), undefined, few, BASE_CONFIG));
    expect(r.code).toBe('strategy_error');
    expect(r.message).toMatch(/TypeError: Cannot read properties of undefined \(reading 'env'\)/);
  });

  it("globalThis.constructor.constructor('return process')() finds no process", async () => {
    const src = strategy(`  init() { const p = (globalThis as any).constructor.constructor('return process')(); (this as any).p = p.env; }\n  shouldLong() { return false; }\n  shouldShort() { return false; }`);
    const r = await codeOf(kernel.backtest(compile(src), undefined, few, BASE_CONFIG));
    expect(r.code).toBe('strategy_error');
    expect(r.message).toMatch(/ReferenceError: process is not defined/);
  });

  it('no WebAssembly (memory outside the heap limit) and no Atomics.wait (a thread blocked past the CPU limit)', async () => {
    for (const [expr, why] of [
      ['new (globalThis as any).WebAssembly.Memory({ initial: 1 })', /Cannot read properties of undefined \(reading 'Memory'\)/],
      ['(Atomics as any).wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)', /Atomics.wait is not a function/],
    ] as const) {
      const src = strategy(`  init() { (this as any).x = ${expr}; }\n  shouldLong() { return false; }\n  shouldShort() { return false; }`);
      const r = await codeOf(kernel.backtest(compile(src), undefined, few, BASE_CONFIG));
      expect(r.code, expr).toBe('strategy_error');
      expect(r.message, expr).toMatch(why);
    }
  });

  it('allocating gigabytes → strategy_memory; the kernel still works after', async () => {
    const src = strategy(`  init() { const keep: number[][] = []; for (;;) keep.push(new Array(1e6).fill(1.5)); }\n  shouldLong() { return false; }\n  shouldShort() { return false; }`);
    const { result, ticks, concurrentOk } = await whileResponsive(() => kernel.backtest(compile(src), undefined, few, BASE_CONFIG, {}, { callTimeoutMs: 20_000 }));
    const e = (result as PromiseRejectedResult).reason as AppError;
    expect(e.code).toBe('strategy_memory');
    expect(e.message).toMatch(/memory limit of 64 MB/);
    expect(ticks).toBeGreaterThan(5);
    expect(concurrentOk).toBe(true);
    const again = await kernel.backtest(compile(SMA_CROSS), undefined, GOOG, { ...BASE_CONFIG, initialBalance: 10_000 });
    expect(again.trades.length).toBeGreaterThan(0);
  });

  it('a run leaves nothing behind for the next one (fresh context per run)', async () => {
    const src = strategy(`  init() { const g = globalThis as any; g.count = (g.count ?? 0) + 1; (this as any).n = g.count; }\n  shouldLong() { return this.i === 2 && (this as any).n === 1; }\n  shouldShort() { return false; }`);
    const sb = await kernel.load(compile(src));
    try {
      for (let k = 0; k < 3; k++) expect((await sb.backtest(undefined, few, BASE_CONFIG)).decisions).toEqual([{ index: 2, action: 'open_long' }]);
    } finally {
      sb.dispose();
    }
  });
});

describe('progress and cancel', () => {
  it('reports progress and ends at 100; cancel stops a long run (flag checked every 16384 candles)', async () => {
    const big = synthetic(3_000_000);
    const k = new Kernel({ memoryMb: 1024, runTimeoutMs: 120_000 });
    try {
      const seen: number[] = [];
      const ac = new AbortController();
      const t0 = performance.now();
      let cancelledAt = 0;
      const p = k.backtest(compile(SMA_CROSS), undefined, big, { ...BASE_CONFIG, allowShort: true }, {
        signal: ac.signal,
        onProgress: (pct) => {
          seen.push(pct);
          if (pct > 0 && !cancelledAt) {
            cancelledAt = performance.now();
            ac.abort();
          }
        },
      });
      const r = await codeOf(p);
      expect(r.code).toBe('cancelled');
      expect(cancelledAt).toBeGreaterThan(t0);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.at(-1)).toBeLessThan(100);
      const done: number[] = [];
      const ok = await k.backtest(compile(SMA_CROSS), undefined, GOOG, { ...BASE_CONFIG, initialBalance: 10_000 }, { onProgress: (pct) => done.push(pct) });
      expect(ok.trades.length).toBeGreaterThan(0);
      expect(done.at(-1)).toBe(100);
    } finally {
      k.dispose();
    }
  });

  it('an already aborted signal → cancelled, nothing run', async () => {
    const ac = new AbortController();
    ac.abort();
    expect((await codeOf(kernel.backtest(compile(SMA_CROSS), undefined, GOOG, BASE_CONFIG, { signal: ac.signal }))).code).toBe('cancelled');
  });
});

describe('memory sizing', () => {
  it('Kernel.backtest sizes the heap limit with the data (2 M candles under a 64 MB default)', async () => {
    const big = synthetic(2_000_000);
    const k = new Kernel({ memoryMb: 64, runTimeoutMs: 120_000 });
    try {
      const r = await k.backtest(compile(SMA_CROSS), undefined, big, { ...BASE_CONFIG, allowShort: true });
      expect(r.equity.length).toBe(2_000_000);
      expect(r.trades.length).toBeGreaterThan(1000);
    } finally {
      k.dispose();
    }
  });
});

describe('memory is released between runs in one sandbox', () => {
  // A loaded sandbox is reused: the bench and a caller running several backtests use one isolate,
  // the bot one per activation for every decision. Each run's context (columns, indicators,
  // results) must be freed once the run ends, whatever the host's own GC does meanwhile; before
  // the fix every Reference into a context (and the strategy script's completion value) pinned it.
  it('ten backtests of 400 000 candles in one 64 MB sandbox (each run needs ~30 MB) all finish, with the same result', async () => {
    const series = synthetic(400_000);
    const sb = await kernel.load(compile(SMA_CROSS), { memoryMb: 64, runTimeoutMs: 60_000 });
    try {
      const first = await sb.backtest(undefined, series, { ...BASE_CONFIG, allowShort: true });
      for (let k = 1; k < 10; k++) {
        const r = await sb.backtest(undefined, series, { ...BASE_CONFIG, allowShort: true });
        expect(r.finalEquity).toBe(first.finalEquity);
        expect(r.trades.length).toBe(first.trades.length);
      }
    } finally {
      sb.dispose();
    }
  });

  it('a bot-like sandbox takes 400 decisions on a 2 000-candle window within a 16 MB limit', async () => {
    const window = synthetic(2_000, 7);
    const sb = await kernel.load(compile(SMA_CROSS), { memoryMb: 16 });
    try {
      const answers = new Set<string>();
      for (let k = 0; k < 400; k++) answers.add((await sb.decide(undefined, window, { position: null, balance: 1000 }, { allowShort: false })).reason);
      expect(answers.size).toBe(1);
    } finally {
      sb.dispose();
    }
  });
});

describe('columns shared with the isolate', () => {
  it('shared, plain and offset (subarray) columns give the same result, bit for bit', async () => {
    const plain = synthetic(50_000, 3);
    const shared = shareColumns(plain);
    expect(shared.close.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shareColumns(shared)).toBe(shared);
    const big = sharedColumns(60_000);
    for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) big[k].set(plain[k], 10_000);
    const offset = { time: big.time.subarray(10_000), open: big.open.subarray(10_000), high: big.high.subarray(10_000), low: big.low.subarray(10_000), close: big.close.subarray(10_000), volume: big.volume.subarray(10_000) };
    const cfg = { ...BASE_CONFIG, allowShort: true, fees: { maker: 0.0002, taker: 0.0004 } };
    const a = await kernel.backtest(compile(SMA_CROSS), undefined, plain, cfg);
    for (const cols of [shared, offset]) {
      const b = await kernel.backtest(compile(SMA_CROSS), undefined, cols, cfg);
      expect(b.finalEquity).toBe(a.finalEquity);
      expect(b.trades).toEqual(a.trades);
      expect(Array.from(b.equity)).toEqual(Array.from(a.equity));
    }
  });

  it("a strategy writing into its columns changes only its own copies: not the caller's data, the fills or the next run", async () => {
    const src = strategy(`  init() { for (let i = 0; i < this.close.length; i++) { this.close[i] = 1; this.open[i] = 1; } }\n  shouldLong() { return this.i === 3; }\n  shouldShort() { return false; }\n  shouldExit() { return this.i === 6; }`);
    const series = shareColumns(synthetic(1_000, 5));
    const before = Float64Array.from(series.close);
    const sb = await kernel.load(compile(src));
    try {
      const r1 = await sb.backtest(undefined, series, BASE_CONFIG);
      const r2 = await sb.backtest(undefined, series, BASE_CONFIG);
      expect(r1.trades).toHaveLength(1);
      // filled at the real next opens, not at the 1 the strategy wrote
      expect(r1.trades[0]!.entryPrice).toBe(series.open[4]);
      expect(r1.trades[0]!.exitPrice).toBe(series.open[7]);
      expect(r2.trades).toEqual(r1.trades);
      expect(Array.from(series.close)).toEqual(Array.from(before));
    } finally {
      sb.dispose();
    }
  });
});
