import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ccxt from 'ccxt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { translate, type Params } from '../../shared/i18n';
import { wordField } from '../../shared/i18n/wording';
import { BacktestOptimiseInput, BacktestRunInput, type BacktestRunParams } from '../../shared/contract/backtest';
import { pointExchangeAt } from '../exchanges/urls';
import { Kernel } from '../kernel';
import { silentLogger } from '../log';
import { transpileStrategy } from '../strategies/transpile';
import { createTestDb, type TestDb } from '../../test/support/db';
import { startExchangeSim, type ExchangeSim } from '../../test/sim/exchange';
import { exampleVersion, withExamples } from './examples';
import { BacktestService, type StrategySource, type StrategyVersion } from './service';

/**
 * The backtester end to end below the API: the real kernel (isolated-vm), the bundled PostgreSQL,
 * CCXT against the exchange simulator, strategies transpiled from real source by a small in-test
 * StrategySource (the strategies service takes its place in the app).
 */

const GOOG_CSV = readFileSync(resolve(import.meta.dirname, '../../../shared/data/ohlcv/GOOG.csv'), 'utf8');
const MIN = 60_000;

const SOURCES: Record<string, string> = {
  // reads the next candle: a lookahead
  peek: `import { Strategy } from 'aristobot';
export default class Peek extends Strategy {
  static warmup = 1;
  shouldLong() { return this.close[this.i + 1] > this.close[this.i]; }
  shouldShort() { return false; }
  shouldExit() { return this.close[this.i + 1] < this.close[this.i]; }
}
`,
  // burns CPU on every candle (a long run to cancel)
  spin: `import { Strategy, ta } from 'aristobot';
export default class Spin extends Strategy {
  static params = { spin: { default: 3000000, min: 0, max: 100000000 } };
  static warmup = 20;
  fast!: Float64Array;
  slow!: Float64Array;
  init() { this.fast = ta.sma(this.close, 10); this.slow = ta.sma(this.close, 20); }
  shouldLong() { let x = 0; for (let k = 0; k < this.params.spin; k++) x += k & 1; return x < 0 || this.crossover(this.fast, this.slow); }
  shouldShort() { return this.crossunder(this.fast, this.slow); }
}
`,
  // throws on candle 100, on line 7
  throws: `import { Strategy } from 'aristobot';
export default class Throws extends Strategy {
  static warmup = 1;
  shouldLong() {
    const i = this.i;
    if (i === 100) {
      throw new Error('boom at ' + i);
    }
    return false;
  }
  shouldShort() { return false; }
}
`,
  runaway: `import { Strategy } from 'aristobot';
export default class Runaway extends Strategy {
  static warmup = 1;
  shouldLong() { for (;;) {} }
  shouldShort() { return false; }
}
`,
  broken: `import { Strategy } from 'aristobot';
export default class Broken extends Strategy {
  shouldLong() { return (; }
}
`,
};

const testSource: StrategySource = {
  async getVersion(_profileId, strategyId): Promise<StrategyVersion> {
    const code = SOURCES[strategyId];
    if (!code) throw new AppError('not_found', 'errors.backtest.noStrategy', { id: strategyId });
    return { strategyId, name: strategyId, version: 1, code, js: transpileStrategy(code), params: {}, warmup: 0 };
  },
};

let t: TestDb;
let sim: ExchangeSim;
let svc: BacktestService;
let profileId: string;
let other: string;
const events: { event: string; data: Record<string, unknown>; profileId: string }[] = [];

function service(kernel = new Kernel({ runTimeoutMs: 3000, callTimeoutMs: 1000 })): BacktestService {
  return new BacktestService({
    db: t.db,
    log: silentLogger(),
    kernel,
    strategies: withExamples(testSource),
    brokers: {
      forBroker: async (_p, brokerId) => {
        if (brokerId !== BROKER) throw new AppError('not_found', 'errors.exchanges.noSuchBroker');
        const ex = new ccxt.binance({ enableRateLimit: true, timeout: 5000 });
        pointExchangeAt(ex, sim.url);
        await ex.loadMarkets();
        return { exchange: 'binance', ex };
      },
    },
    emit: (event, data, scope) => events.push({ event, data: data as Record<string, unknown>, profileId: scope.profileId }),
    progressIntervalMs: 100,
    optimiseConcurrency: 2,
    reserveCandles: 20_000,
  });
}
const BROKER = '00000000-0000-4000-8000-000000000001';

const goog = (over: Partial<BacktestRunParams> = {}): BacktestRunParams =>
  BacktestRunInput.parse({ strategyId: 'example:sma-cross', exchange: 'csv-goog', symbol: 'GOOG/USD', timeframe: '1d', from: Date.UTC(2004, 0, 1), to: Date.UTC(2014, 0, 1), initialBalance: '10000', ...over });

async function waitDone(runId: string, timeoutMs = 60_000): Promise<{ status: string; error: string | null; errorKey?: string | null; errorParams?: Params | null }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const e = events.find((x) => x.event === 'backtests.done' && x.data.runId === runId);
    if (e) return e.data as { status: string; error: string | null; errorKey?: string | null; errorParams?: Params | null };
    if (Date.now() > until) throw new Error(`run ${runId} did not end`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
async function runCount(p = profileId): Promise<number> {
  return t.db.withProfile(p, async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM backtest_runs')).rows[0]!.n);
}

beforeAll(async () => {
  t = await createTestDb();
  sim = await startExchangeSim();
  const ids = await t.db.query<{ id: string }>(`INSERT INTO profiles (name, password_hash) VALUES ('bt', 'x'), ('other', 'x') RETURNING id`);
  [profileId, other] = ids.rows.map((r) => r.id) as [string, string];
  svc = service();
  await svc.importCsv({ exchange: 'csv-goog', symbol: 'GOOG/USD', timeframe: '1d', csv: GOOG_CSV });
});
afterAll(async () => {
  await svc.stop();
  await sim.close();
  await t.close();
});
beforeEach(() => {
  events.length = 0;
});

describe('a run', () => {
  it('runs the strategy through the kernel, stores metrics, trades, the equity curve; progress then done', async () => {
    const { runId } = await svc.run(profileId, goog());
    expect((await waitDone(runId)).status).toBe('done');
    const r = await svc.get(profileId, runId);
    expect(r.status).toBe('done');
    expect(r.candles).toBe(2148);
    expect(r.metrics!.tradeCount).toBe(r.trades.length);
    expect(r.trades.length).toBeGreaterThan(10);
    expect(r.metrics!.finalEquity).toBeCloseTo(r.trades.at(-1)!.balanceAfter, 6); // spot, long only: closed at the end
    expect(r.trades.at(-1)!.exitReason).toBe('end');
    // downsampled for display: 2148 candles → bars of 2 (≤ 1500 points), the last at the final equity
    expect(r.equity!.time.length).toBe(1074);
    expect(r.equity!.equity.at(-1)).toBe(r.metrics!.finalEquity);
    expect(r.equity!.high[0]).toBe(Math.max(104.06, 109.08));
    expect(r.equity!.buyHold.at(-1)).toBeCloseTo(10_000 * (1 + r.metrics!.buyHoldReturnPct / 100), 6);
    expect(r.inputs).toMatchObject({ params: { fast: 10, slow: 20 }, fees: { maker: 0, taker: 0 }, fillAt: 'open', allowShort: false });
    const progress = events.filter((e) => e.event === 'backtests.progress' && e.data.runId === runId).map((e) => e.data);
    expect(progress.every((p) => p.phase === 'compute')).toBe(true); // stored candles: nothing to download
    expect(progress.at(-1)!.percent).toBe(100);
    expect(events.every((e) => e.profileId === profileId)).toBe(true);
    const list = await svc.list(profileId);
    expect(list[0]).toMatchObject({ runId, status: 'done', tradeCount: r.trades.length });
    // another profile sees nothing of it (RLS)
    expect(await svc.list(other)).toEqual([]);
    await expect(svc.get(other, runId)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('is deterministic: the same inputs give the same metrics and trades', async () => {
    const a = await svc.run(profileId, goog({ fees: { maker: 0.001, taker: 0.001 }, slippageBps: 5 }));
    await waitDone(a.runId);
    const b = await svc.run(profileId, goog({ fees: { maker: 0.001, taker: 0.001 }, slippageBps: 5 }));
    await waitDone(b.runId);
    const [ra, rb] = [await svc.get(profileId, a.runId), await svc.get(profileId, b.runId)];
    expect(rb.metrics).toEqual(ra.metrics);
    expect(rb.trades).toEqual(ra.trades);
    expect(ra.metrics!.totalFees).toBeGreaterThan(0);
  });

  it('a second run of the same profile is refused while one runs; the core keeps answering meanwhile; cancel → cancelled within a second', async () => {
    const before = await runCount();
    const { runId } = await svc.run(profileId, goog({ strategyId: 'spin' }));
    await expect(svc.run(profileId, goog())).rejects.toMatchObject({ code: 'already_running' });
    await expect(svc.optimise(profileId, BacktestOptimiseInput.parse({ ...goog(), grid: { fast: [5] } }))).rejects.toMatchObject({ code: 'already_running' });
    // the isolate computes on its own thread: the event loop and the database answer
    for (let k = 0; k < 5; k++) {
      const list = await svc.list(profileId);
      expect(list.find((x) => x.runId === runId)?.status).toBe('running');
      await new Promise((r) => setTimeout(r, 50));
    }
    // another profile may run at the same time
    const o = await svc.run(other, goog());
    expect((await waitDone(o.runId)).status).toBe('done');
    const cancelledAt = Date.now();
    await svc.cancel(profileId, runId);
    expect((await waitDone(runId, 1000)).status).toBe('cancelled');
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
    const r = await svc.get(profileId, runId);
    expect(r).toMatchObject({ status: 'cancelled', metrics: null, trades: [], equity: null });
    expect(await runCount()).toBe(before + 1);
    // the profile may run again
    const again = await svc.run(profileId, goog());
    expect((await waitDone(again.runId)).status).toBe('done');
  });

  it('a strategy that throws: failed, with its error and line', async () => {
    const { runId } = await svc.run(profileId, goog({ strategyId: 'throws' }));
    const d = await waitDone(runId);
    expect(d.status).toBe('failed');
    expect(d.error).toMatch(/boom at 100/);
    const r = await svc.get(profileId, runId);
    expect(r.error).toMatch(/boom at 100/);
    expect(r.errorLine).toBe(7);
    expect(r.metrics).toBeNull();
    // the kernel's AppError keeps its key and params (the strategy's own words inside, as is): the page words it in French
    expect(d).toMatchObject({ errorKey: 'errors.kernel.message', errorParams: { reason: expect.stringMatching(/boom at 100/) } });
    expect(r).toMatchObject({ errorKey: 'errors.kernel.message', errorParams: d.errorParams });
    expect(translate('en', r.errorKey!, r.errorParams as Params)).toBe(r.error);
    expect(translate('fr', r.errorKey!, r.errorParams as Params)).toMatch(/^Error : boom at 100 \(ligne 7, colonne \d+\) dans shouldLong\(\)$/); // every fragment in French; the strategy's own words as is
  });

  it('a runaway strategy: failed, naming the CPU limit', async () => {
    const { runId } = await svc.run(profileId, goog({ strategyId: 'runaway' }));
    const d = await waitDone(runId);
    expect(d.status).toBe('failed');
    expect(d.error).toMatch(/exceeded the CPU limit of \d+ ms/);
    expect(translate('fr', d.errorKey!, d.errorParams!)).toMatch(/la stratégie a dépassé la limite CPU de [\d\u202f]+ ms/);
  });

  it('a run left running by a crash is failed at start with a keyed reason; an older row without a key keeps its English', async () => {
    const { runId } = await svc.run(profileId, goog());
    await waitDone(runId);
    const old = (await svc.run(profileId, goog())).runId;
    await waitDone(old);
    // as a crash leaves them: one row still running, one failed before keys existed
    await t.db.withProfile(profileId, async (c) => {
      await c.query(`UPDATE backtest_runs SET status = 'running', finished_at = NULL WHERE id = $1`, [runId]);
      await c.query(`UPDATE backtest_runs SET status = 'failed', error = 'Something from an older version.', error_key = NULL, error_params = NULL WHERE id = $1`, [old]);
    });
    await service().start();
    const r = await svc.get(profileId, runId);
    expect(r).toMatchObject({ status: 'failed', error: 'The app stopped during the run.', errorKey: 'coreRest.backtest.appStopped', errorParams: {} });
    expect(translate('fr', r.errorKey!, r.errorParams as Params)).toBe("L'application s'est arrêtée pendant le backtest.");
    const o = (await svc.list(profileId)).find((x) => x.runId === old)!;
    expect(o).toMatchObject({ status: 'failed', error: 'Something from an older version.', errorKey: null, errorParams: null });
  });

  it('start() warms up in the background: memory reserved for reserveCandles, one tiny run, the parser; a run after it gives the same result; stop() ends it early', async () => {
    const kernel = new Kernel({ runTimeoutMs: 3000, callTimeoutMs: 1000 });
    const warm = service(kernel);
    try {
      const before = (await svc.run(profileId, goog())).runId;
      await waitDone(before);
      await warm.start();
      await warm.warmedUp;
      expect(kernel.scratch.reservedBytes).toBe(4 * 20_000 * 8 + 20_000);
      expect(warm.candles.reservedBytes).toBe(20_000 * 48);
      // the tiny run gave its buffers back beside the reserve
      expect(kernel.scratch.pooledBytes).toBeGreaterThan(kernel.scratch.reservedBytes);
      const after = (await warm.run(profileId, goog())).runId;
      expect((await waitDone(after)).status).toBe('done');
      const [a, b] = [await svc.get(profileId, before), await warm.get(profileId, after)];
      expect(b.metrics).toEqual(a.metrics);
      expect(b.trades).toEqual(a.trades);
    } finally {
      await warm.stop();
      kernel.dispose();
    }
    const k2 = new Kernel({ runTimeoutMs: 3000, callTimeoutMs: 1000 });
    const stopped = service(k2);
    await stopped.start();
    await stopped.stop(); // stops the warm-up between two steps and waits for it
    expect(k2.scratch.reservedBytes).toBeLessThan(4 * 20_000 * 8 + 20_000);
    expect(stopped.candles.reservedBytes).toBe(0);
    k2.dispose();
  });

  it('bad inputs: invalid_input with the reason, nothing stored', async () => {
    const before = await runCount();
    const bad: [Partial<BacktestRunParams> & Record<string, unknown>, RegExp][] = [
      [{ from: Date.UTC(2010, 0, 1), to: Date.UTC(2010, 0, 1) }, /empty/],
      [{ from: Date.UTC(2011, 0, 1), to: Date.UTC(2010, 0, 1) }, /inverted/],
      [{ initialBalance: '0' }, /greater than zero/],
      [{ initialBalance: '-5' }, /greater than zero/],
      [{ fees: { maker: 0.001, taker: 1.5 } }, /between 0 and 1/],
      [{ fees: { maker: -0.1, taker: 0.001 } }, /between 0 and 1/],
    ];
    for (const [over, why] of bad) {
      const parsed = BacktestRunInput.safeParse({ ...goog(), ...over });
      expect(parsed.success).toBe(false);
      expect(parsed.error!.issues.map((i) => i.message).join(' ')).toMatch(why);
    }
    const refused: [Partial<BacktestRunParams>, RegExp][] = [
      [{ symbol: 'NOPE/USD' }, /Unknown symbol "NOPE\/USD"/],
      [{ timeframe: '1h' }, /no 1h candles/],
      [{ strategyId: 'broken' }, /does not compile/],
      [{ strategyId: 'missing' }, /No strategy "missing"/],
      [{ params: { nope: 3 } }, /no parameter "nope"/],
      [{ from: Date.UTC(2020, 0, 1), to: Date.UTC(2021, 0, 1) }, /No GOOG\/USD 1d candles/],
      [{ exchange: undefined, brokerId: BROKER, symbol: 'NOPE/USDT' }, /Unknown symbol "NOPE\/USDT" on binance/],
      [{ exchange: undefined, brokerId: BROKER, symbol: 'BTC/USDT', timeframe: '10m' }, /binance has no 10m candles/],
    ];
    for (const [over, why] of refused) {
      const e = await svc.run(profileId, { ...goog(), ...over }).catch((x: unknown) => x);
      expect(e, JSON.stringify(over)).toMatchObject({ code: 'invalid_input' });
      expect((e as Error).message).toMatch(why);
    }
    expect(await runCount()).toBe(before);
    // a strategy that does not load: the field's message carries the key, the kernel's reason nested, and the line stays
    const broken = (await svc.run(profileId, goog({ strategyId: 'broken' })).catch((x: unknown) => x)) as AppError;
    expect(broken.details).toMatchObject({ issues: [{ path: 'strategyId', key: 'errors.backtest.strategyDoesNotCompile' }] });
    expect(broken.details).toHaveProperty('line');
    expect(wordField('fr', broken, 'strategyId')).toMatch(/^La stratégie ne compile pas ou ne se charge pas : /);
    // an imported data set may not take an exchange's name
    await expect(svc.importCsv({ exchange: 'binance', symbol: 'GOOG/USD', timeframe: '1d', csv: GOOG_CSV })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('a finished run can be deleted; a running one cannot be deleted', async () => {
    const { runId } = await svc.run(profileId, goog());
    await expect(svc.delete(profileId, runId)).rejects.toMatchObject({ code: 'conflict' });
    await waitDone(runId);
    await svc.delete(profileId, runId);
    await expect(svc.get(profileId, runId)).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('candles from a broker: downloaded first, cancellable, kept', () => {
  it('downloads the missing candles with progress, then computes', async () => {
    const now = Math.floor(Date.now() / MIN) * MIN;
    const { runId } = await svc.run(profileId, goog({ exchange: undefined, brokerId: BROKER, symbol: 'BTC/USDT', timeframe: '1m', from: now - 1500 * MIN, to: now - 5 * MIN }));
    expect((await waitDone(runId)).status).toBe('done');
    const phases = events.filter((e) => e.event === 'backtests.progress').map((e) => e.data.phase);
    expect(phases[0]).toBe('download');
    expect(phases.at(-1)).toBe('compute');
    const r = await svc.get(profileId, runId);
    expect(r.candles).toBe(1495);
    expect(r.inputs).toMatchObject({ exchange: 'binance', fees: { maker: 0.001, taker: 0.001 }, allowShort: false });
  });

  it('cancel during the download: cancelled, the candles already downloaded are kept', async () => {
    const now = Math.floor(Date.now() / MIN) * MIN;
    const from = now - 40_000 * MIN;
    const to = now - 20_000 * MIN;
    const { runId } = await svc.run(profileId, goog({ exchange: undefined, brokerId: BROKER, symbol: 'BTC/USDT', timeframe: '1m', from, to }));
    // wait for the first page to be stored
    for (let k = 0; k < 500 && !events.some((e) => e.event === 'backtests.progress' && e.data.phase === 'download' && (e.data.percent as number) > 0); k++) await new Promise((r) => setTimeout(r, 10));
    await svc.cancel(profileId, runId);
    expect((await waitDone(runId, 1000)).status).toBe('cancelled');
    const kept = await svc.candles.count('binance', 'BTC/USDT', '1m', from, to);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(20_000);
    expect(events.some((e) => e.event === 'backtests.progress' && e.data.phase === 'compute')).toBe(false);
  });
});

describe('lookahead check', () => {
  it('catches a strategy that reads this.close[this.i + 1]', async () => {
    const r = await svc.lookahead(profileId, goog({ strategyId: 'peek' }));
    expect(r.ok).toBe(false);
    expect(r.checked).toBeGreaterThan(5);
    expect(r.differences.length).toBeGreaterThan(0);
    for (const d of r.differences) expect(d.index).toBe(d.truncatedAt); // it differs where the future is cut off
  });

  it('passes a clean strategy', async () => {
    const r = await svc.lookahead(profileId, goog());
    expect(r).toMatchObject({ ok: true, differences: [] });
    expect(r.checked).toBeGreaterThan(5);
  });

  it('the trades on candles 1..k are the same whether the run stops at k or goes on', async () => {
    const kernel = new Kernel();
    const v = exampleVersion('example:sma-cross');
    const svc2 = service(kernel);
    const cols = await svc2.candles.load('csv-goog', 'GOOG/USD', '1d', 0, Date.UTC(2030, 0, 1));
    const cfg = { initialBalance: 10_000, fees: { maker: 0.001, taker: 0.001 }, slippageBps: 2, fillAt: 'open' as const, allowShort: false, amountStep: 0, minAmount: 0, closeAtEnd: false };
    const full = await kernel.backtest({ js: v.js }, undefined, cols, cfg);
    for (const k of [300, 900, 1500, 2000]) {
      const cut = { time: cols.time.slice(0, k + 1), open: cols.open.slice(0, k + 1), high: cols.high.slice(0, k + 1), low: cols.low.slice(0, k + 1), close: cols.close.slice(0, k + 1), volume: cols.volume.slice(0, k + 1) };
      const part = await kernel.backtest({ js: v.js }, undefined, cut, cfg);
      expect(part.trades).toEqual(full.trades.filter((x) => x.exitIndex <= k));
      expect([...part.equity]).toEqual([...full.equity.slice(0, k + 1)]);
    }
  });
});

describe('optimiser', () => {
  it('grid over declared params on worker isolates, ranked, with a held-out period; a row reopens as the same full run', async () => {
    const input = BacktestOptimiseInput.parse({ ...goog(), grid: { fast: [5, 10, 15], slow: [20, 30] }, rankBy: 'sharpe', holdout: Date.UTC(2011, 0, 1) });
    const { runId, combinations } = await svc.optimise(profileId, input);
    expect(combinations).toBe(6);
    expect((await waitDone(runId)).status).toBe('done');
    const r = await svc.get(profileId, runId);
    expect(r.kind).toBe('optimise');
    expect(r.results).toHaveLength(6);
    const sharpes = r.results!.map((x) => x.metrics!.sharpe ?? -Infinity);
    expect(sharpes).toEqual([...sharpes].sort((a, b) => b - a));
    expect(r.results!.every((x) => x.holdout !== null && x.error === null)).toBe(true);
    const progress = events.filter((e) => e.event === 'backtests.progress' && e.data.runId === runId);
    expect(progress.at(-1)!.data.percent).toBe(100);
    // reopen the best row as a full run on the ranked part: the same figures
    const best = r.results![0]!;
    const full = await svc.run(profileId, goog({ params: best.params, to: Date.UTC(2011, 0, 1) }));
    await waitDone(full.runId);
    expect((await svc.get(profileId, full.runId)).metrics).toEqual(best.metrics);
  });

  it('refuses more than 500 combinations, unknown params, values outside the declared range', async () => {
    const before = await runCount();
    const many = Array.from({ length: 30 }, (_, i) => i + 2);
    await expect(svc.optimise(profileId, BacktestOptimiseInput.parse({ ...goog(), grid: { fast: many, slow: many } }))).rejects.toThrow(/more than 500/);
    await expect(svc.optimise(profileId, BacktestOptimiseInput.parse({ ...goog(), grid: { nope: [1] } }))).rejects.toThrow(/no parameter "nope"/);
    await expect(svc.optimise(profileId, BacktestOptimiseInput.parse({ ...goog(), grid: { fast: [1] } }))).rejects.toThrow(/outside/);
    await expect(svc.optimise(profileId, BacktestOptimiseInput.parse({ ...goog(), grid: { fast: [5] }, rankBy: 'luck' }))).rejects.toThrow(/Unknown metric/);
    expect(await runCount()).toBe(before);
  });

  it('cancel during the optimisation', async () => {
    const { runId } = await svc.optimise(profileId, BacktestOptimiseInput.parse({ ...goog({ strategyId: 'spin' }), grid: { spin: [3000000, 3000001, 3000002, 3000003] } }));
    await new Promise((r) => setTimeout(r, 200));
    await svc.cancel(profileId, runId);
    expect((await waitDone(runId, 1000)).status).toBe('cancelled');
    expect((await svc.get(profileId, runId)).results).toBeNull();
  });
});
