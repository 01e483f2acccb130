import { availableParallelism } from 'node:os';
import ccxt, { type Exchange, type Market } from 'ccxt';
import { AppError, invalidField, isAppError } from '../../shared/errors';
import { translate, type MessageKey, type Params, type Text } from '../../shared/i18n';
import type { BacktestTimeframe } from '../../shared/backtest-timeframes';
import type { BacktestOptimiseParams, BacktestRunDetailDto, BacktestRunParams, BacktestRunSummaryDto, EquityDto, OptimiseRowDto } from '../../shared/contract/backtest';
import type { EventData } from '../../shared/contract';
import type { Database } from '../db/database';
import type { Logger } from '../log';
import type { Columns, CompiledStrategy, ParamSpec, RunOptions, SimConfig, SimResult, StrategyInfo } from '../kernel/types';
import { BacktestCandles } from './candles';
import { exampleVersion } from './examples';
import { sharedColumns } from '../kernel/columns';
import { computeMetrics, METRIC_KEYS, type Metrics } from './metrics';

/**
 * The backtester: runs a stored strategy version over stored (or downloaded) candles through the
 * strategy kernel — the same sandbox and decision rule as the live bot; no second copy of the rule
 * or of the simulated loop lives here. It resolves inputs, downloads missing candles, drives the
 * kernel (whose isolate runs on isolated-vm's own threads, so the core keeps answering), computes
 * the metrics, stores the run, and reports progress. One run per profile at a time.
 */

/** A saved strategy version as the strategies service gives it (electron/strategies/). */
export interface StrategyVersion {
  strategyId: string;
  name: string;
  version: number;
  code: string;
  /** transpileStrategy output: the kernel's CompiledStrategy.js. */
  js: string;
  params: Record<string, ParamSpec>;
  warmup: number;
}

/** Where strategy versions come from (the strategies service; core.ts wires it). */
export interface StrategySource {
  getVersion(profileId: string, strategyId: string, version?: number): Promise<StrategyVersion>;
  /** The profile's runnable strategies (latest versions). */
  list?(profileId: string): Promise<{ strategyId: string; name: string; version: number }[]>;
}

/** What the backtester needs of the kernel (electron/kernel/: `Kernel`). */
export interface BacktestKernel {
  info(compiled: CompiledStrategy): Promise<StrategyInfo>;
  backtest(compiled: CompiledStrategy, params: Record<string, number> | undefined, columns: Columns, config: SimConfig, opts?: RunOptions): Promise<SimResult>;
  /** The result's equity and exposure memory back to the kernel for the next run (Kernel.recycle). */
  recycle?(result: SimResult): void;
  /** Memory made ready for runs of up to `candles` candles, `buffers` float64 columns of it (Kernel.reserve). */
  reserve?(candles: number, buffers?: number): void;
}

/** A broker's CCXT instance (markets loaded) and its exchange id. */
export interface BrokerExchanges {
  forBroker(profileId: string, brokerId: string): Promise<{ exchange: string; ex: Exchange }>;
}

export interface BacktestDeps {
  db: Database;
  log: Logger;
  kernel: BacktestKernel;
  strategies: StrategySource;
  brokers: BrokerExchanges;
  emit: <E extends 'backtests.progress' | 'backtests.done'>(event: E, data: EventData<E>, scope: { profileId: string }) => void;
  /** CCXT exchange ids (a data set may not take one of these names). */
  exchangeIds?: readonly string[];
  /** Minimum time between two progress events of one phase (default 250 ms: ≤ 4 a second). */
  progressIntervalMs?: number;
  /** Parallel kernel runs of the optimiser (default: the machine's cores). */
  optimiseConcurrency?: number;
  /**
   * Memory made ready at start for backtests of up to this many candles (`prewarm`): ~81 bytes a
   * candle (the kernel's scratch, equity and exposure: 33; the loaded columns: 48), kept for the
   * app's life. Default RESERVE_CANDLES (1 M: ~81 MB); 0: none (the parser and kernel warm-up still run).
   */
  reserveCandles?: number;
}

/** BacktestDeps.reserveCandles's default: a 1m series of two years (the load target's size). */
export const RESERVE_CANDLES = 1_000_000;

/** Everything a run needs, resolved and checked before anything is stored. */
interface Prepared {
  strategy: StrategyVersion;
  compiled: CompiledStrategy;
  info: StrategyInfo;
  params: Record<string, number>;
  exchange: string;
  brokerId: string | null;
  ex: Exchange | null;
  symbol: string;
  timeframe: BacktestTimeframe;
  from: number;
  to: number;
  config: SimConfig;
  /** The inputs as stored (decimal strings for amounts). */
  inputs: Record<string, unknown>;
}

interface Job {
  runId: string;
  abort: AbortController;
  done: Promise<void>;
}

const MAX_COMBINATIONS = 500;
const DISPLAY_POINTS = 1500;
/** Metrics where a smaller value ranks first. */
const LOWER_IS_BETTER = new Set<string>(['annualVolatilityPct', 'maxDrawdownDuration', 'totalFees']);

/** The reason of a run left 'running' by a previous process. */
const STOPPED: MessageKey = 'coreRest.backtest.appStopped';

const invalid = (key: MessageKey, params: Record<string, unknown>, path = '(params)') => invalidField(path, key, params);

/** The run's equity and candles merged into at most `points` bars, with buy-and-hold beside. */
export function downsample(c: Columns, equity: Float64Array, initial: number, points = DISPLAY_POINTS): EquityDto {
  const n = c.close.length;
  const k = Math.max(1, Math.ceil(n / points));
  const out: EquityDto = { time: [], equity: [], buyHold: [], open: [], high: [], low: [], close: [] };
  const base = n ? c.close[0]! : 1;
  for (let a = 0; a < n; a += k) {
    const b = Math.min(n, a + k) - 1;
    let hi = -Infinity;
    let lo = Infinity;
    for (let i = a; i <= b; i++) {
      if (c.high[i]! > hi) hi = c.high[i]!;
      if (c.low[i]! < lo) lo = c.low[i]!;
    }
    out.time.push(c.time[a]!);
    out.open.push(c.open[a]!);
    out.high.push(hi);
    out.low.push(lo);
    out.close.push(c.close[b]!);
    out.equity.push(equity[b]!);
    out.buyHold.push((initial * c.close[b]!) / base);
  }
  return out;
}

/** Views, not copies: the loaded columns are shared with the kernel's isolates (no copy per run of the optimiser or the lookahead check). */
function sliceColumns(c: Columns, a: number, b: number): Columns {
  return { time: c.time.subarray(a, b), open: c.open.subarray(a, b), high: c.high.subarray(a, b), low: c.low.subarray(a, b), close: c.close.subarray(a, b), volume: c.volume.subarray(a, b) };
}

/** Every combination of the grid's values, in a stable order. */
export function gridCombinations(grid: Record<string, number[]>): Record<string, number>[] {
  let out: Record<string, number>[] = [{}];
  for (const [name, values] of Object.entries(grid)) {
    const uniq = [...new Set(values)];
    const next: Record<string, number>[] = [];
    for (const base of out) for (const v of uniq) next.push({ ...base, [name]: v });
    out = next;
    if (out.length > MAX_COMBINATIONS) break;
  }
  return out;
}

/** Compare two metric values for ranking (nulls last). */
function rank(metric: string, a: Metrics | null, b: Metrics | null): number {
  const x = a ? (a[metric as keyof Metrics] as number | null) : null;
  const y = b ? (b[metric as keyof Metrics] as number | null) : null;
  if (x === null && y === null) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return LOWER_IS_BETTER.has(metric) ? x - y : y - x;
}

/**
 * Why a run failed, as a catalogue key and parameters: an AppError's own (the kernel's, a download's),
 * anything else (an exception from outside the app) passed as is in `errors.external`.
 */
export function failureText(e: unknown): Text {
  if (isAppError(e)) return e.text;
  return { key: 'errors.external', params: { reason: e instanceof Error ? e.message : String(e) } };
}

function errorLine(e: unknown): number | null {
  const d = (e as { details?: { line?: unknown } }).details;
  return d && typeof d.line === 'number' ? d.line : null;
}

interface RunRow {
  id: string;
  kind: 'run' | 'optimise';
  status: 'running' | 'done' | 'cancelled' | 'failed';
  strategy_id: string;
  strategy_version: number;
  strategy_name: string | null;
  params: Record<string, number>;
  exchange: string;
  symbol: string;
  timeframe: string;
  from_ms: string;
  to_ms: string;
  initial_balance: string;
  inputs: Record<string, unknown>;
  candles: number | null;
  metrics: Metrics | null;
  trades: BacktestRunDetailDto['trades'] | null;
  equity: EquityDto | null;
  results: OptimiseRowDto[] | null;
  error: string | null;
  error_key: string | null;
  error_params: Params | null;
  error_line: number | null;
  created_at: Date;
  duration_ms: number | null;
}

const SELECT = `SELECT id, kind, status, strategy_id, strategy_version, strategy_name, params, exchange, symbol, timeframe,
  (extract(epoch FROM range_from) * 1000)::bigint AS from_ms, (extract(epoch FROM range_to) * 1000)::bigint AS to_ms,
  initial_balance::text AS initial_balance, inputs, candles, metrics, error, error_key, error_params, error_line, created_at, duration_ms`;

export class BacktestService {
  readonly candles: BacktestCandles;
  private readonly jobs = new Map<string, Job>();
  /** Profiles with a run being prepared or running (the one-run rule, before the row exists). */
  private readonly busy = new Set<string>();
  private stopped = false;

  constructor(private readonly d: BacktestDeps) {
    this.candles = new BacktestCandles(d.db);
  }

  /** Runs left 'running' by a previous process (a crash) are marked failed; then `prewarm` starts (not awaited). */
  async start(): Promise<void> {
    const { rows } = await this.d.db.query<{ id: string }>('SELECT id FROM profiles');
    for (const p of rows) {
      await this.d.db.withProfile(p.id, (c) =>
        c.query(`UPDATE backtest_runs SET status = 'failed', error = $1, error_key = $2, error_params = '{}', finished_at = now() WHERE status = 'running'`, [translate('en', STOPPED), STOPPED]),
      );
    }
    this.warming = this.prewarm().catch((e: unknown) => this.d.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'backtest warm-up failed (the first backtest runs cold)'));
  }

  /** The start's warm-up, while it runs (stop waits for it). */
  private warming: Promise<void> = Promise.resolve();

  /** Resolves once the start's warm-up has ended (done, stopped, or failed and logged). */
  get warmedUp(): Promise<void> {
    return this.warming;
  }

  /**
   * What makes a session's first backtest as fast as its later ones, done in the background once
   * the core has started: memory for runs of up to `reserveCandles` candles made and written now
   * (the kernel's scratch and the loader's columns: on this VM fresh pages cost more than the
   * backtest's own loop), one tiny backtest of the EMA-cross example with its metrics (the host's
   * side of a run compiled), and the COPY parser run on a few thousand rows the server makes (no
   * table read). A few hundred ms of one core at start; the event loop is served between steps.
   */
  async prewarm(): Promise<void> {
    const step = () => new Promise<void>((r) => setImmediate(r));
    const t0 = performance.now();
    await step();
    const candles = this.d.reserveCandles ?? RESERVE_CANDLES;
    if (candles > 0) {
      // one buffer at a time: close copy and two indicators, the equity (EMA cross), and an exposure column
      for (let k = 1; k <= 4 && !this.stopped; k++) {
        this.d.kernel.reserve?.(candles, k);
        await step();
      }
      if (this.stopped) return;
      this.candles.reserve(candles);
      await step();
    }
    if (this.stopped) return;
    const n = 2000;
    const cols = sharedColumns(n);
    for (let i = 0; i < n; i++) {
      const p = 100 + 10 * Math.sin(i / 50);
      cols.time[i] = i * 60_000;
      cols.open[i] = p;
      cols.high[i] = p + 1;
      cols.low[i] = p - 1;
      cols.close[i] = p + 0.5 * Math.sin(i / 7);
      cols.volume[i] = 1;
    }
    const config: SimConfig = { initialBalance: 10_000, fees: { maker: 0.001, taker: 0.001 }, slippageBps: 1, fillAt: 'open', allowShort: true, amountStep: 0.0001, minAmount: 0 };
    const r = await this.d.kernel.backtest({ js: exampleVersion('example:ema-cross').js }, undefined, cols, config);
    computeMetrics(r, cols, config);
    this.d.kernel.recycle?.(r);
    if (this.stopped) return;
    await this.candles.prewarm();
    this.d.log.debug({ ms: Math.round(performance.now() - t0), reserveCandles: candles }, 'backtest warm-up done');
  }

  /** Cancels every job and waits for it to record its end. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.warming;
    const jobs = [...this.jobs.values()];
    for (const j of jobs) j.abort.abort();
    await Promise.all(jobs.map((j) => j.done.catch(() => undefined)));
  }

  // ─── Inputs ────────────────────────────────────────────────────────────────────────────────────

  private async prepare(profileId: string, input: BacktestRunParams, opts: { requireCandles: boolean }): Promise<Prepared> {
    let strategy: StrategyVersion;
    try {
      strategy = await this.d.strategies.getVersion(profileId, input.strategyId, input.version);
    } catch (e) {
      if (isAppError(e) && (e.code === 'not_found' || e.code === 'invalid_input')) throw invalid(e.key, e.params, 'strategyId');
      // not an id the storage knows the shape of (a uuid)
      if ((e as { code?: string }).code === '22P02') throw invalid('errors.backtest.noStrategy2', { strategyId: input.strategyId }, 'strategyId');
      throw e;
    }
    const compiled: CompiledStrategy = { js: strategy.js };
    let info: StrategyInfo;
    try {
      info = await this.d.kernel.info(compiled);
    } catch (e) {
      // the kernel's reason nests as a message; the issue carries the same key so the field is worded too
      const f = invalidField('strategyId', 'errors.backtest.strategyDoesNotCompile', { reason: failureText(e) });
      throw new AppError('invalid_input', 'errors.backtest.strategyDoesNotCompile', f.params, { ...(f.details as object), line: errorLine(e) });
    }
    const params: Record<string, number> = {};
    for (const [name, spec] of Object.entries(info.params)) params[name] = spec.default;
    for (const [name, v] of Object.entries(input.params ?? {})) {
      const spec = info.params[name];
      if (!spec) throw invalid('errors.backtest.strategyHasNoParameter', { name, params: Object.keys(info.params).join(', ') || 'none' }, `params.${name}`);
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) throw invalid('errors.backtest.parameterMustBetweenGot', { name, min: spec.min ?? '−∞', max: spec.max ?? '∞', v }, `params.${name}`);
      params[name] = v;
    }
    const initialBalance = Number(input.initialBalance);
    let exchange: string;
    let ex: Exchange | null = null;
    let fees = input.fees ?? { maker: 0, taker: 0 };
    let amountStep = input.amountStep ?? 0;
    let minAmount = 0;
    let allowShort = input.allowShort ?? false;
    if (input.brokerId) {
      const b = await this.d.brokers.forBroker(profileId, input.brokerId);
      exchange = b.exchange;
      ex = b.ex;
      const market = (ex.markets as Record<string, Market | undefined>)[input.symbol];
      if (!market) throw invalid('errors.backtest.unknownSymbol', { symbol: input.symbol, exchange }, 'symbol');
      if (!ex.timeframes || !Object.prototype.hasOwnProperty.call(ex.timeframes, input.timeframe)) {
        throw invalid('errors.backtest.hasNoCandlesOffers', { exchange, timeframe: input.timeframe, timeframes: Object.keys(ex.timeframes ?? {}).join(', ') }, 'timeframe');
      }
      if (!input.fees) fees = { maker: market.maker ?? 0, taker: market.taker ?? 0 };
      if (input.amountStep === undefined) amountStep = typeof market.precision?.amount === 'number' && ex.precisionMode === 4 /* TICK_SIZE */ ? market.precision.amount : 0;
      minAmount = market.limits?.amount?.min ?? 0;
      // shorts only on a derivative market
      allowShort = !market.spot;
    } else {
      exchange = input.exchange!;
      const { rows } = await this.d.db.query<{ timeframe: string }>('SELECT DISTINCT timeframe FROM candles WHERE exchange = $1 AND symbol = $2', [exchange, input.symbol]);
      if (rows.length === 0) throw invalid('errors.backtest.unknownSymbolNoCandles', { symbol: input.symbol, exchange }, 'symbol');
      if (!rows.some((r) => r.timeframe === input.timeframe)) throw invalid('errors.backtest.hasNoCandlesHas', { exchange, timeframe: input.timeframe, symbol: input.symbol, timeframe2: rows.map((r) => r.timeframe).join(', ') }, 'timeframe');
      if (opts.requireCandles && (await this.candles.count(exchange, input.symbol, input.timeframe, input.from, input.to)) === 0) {
        throw invalid('errors.backtest.noCandlesAreStored', { symbol: input.symbol, timeframe: input.timeframe, exchange, from: new Date(input.from).toISOString(), to: new Date(input.to).toISOString() }, 'from');
      }
    }
    const config: SimConfig = { initialBalance, fees, slippageBps: input.slippageBps ?? 0, fillAt: input.fillAt ?? 'open', allowShort, amountStep, minAmount };
    const inputs = {
      strategyId: input.strategyId,
      version: strategy.version,
      params,
      brokerId: input.brokerId ?? null,
      exchange,
      symbol: input.symbol,
      timeframe: input.timeframe,
      from: input.from,
      to: input.to,
      initialBalance: input.initialBalance,
      fees,
      slippageBps: config.slippageBps,
      fillAt: config.fillAt,
      allowShort,
      amountStep,
      minAmount,
    };
    return { strategy, compiled, info, params, exchange, brokerId: input.brokerId ?? null, ex, symbol: input.symbol, timeframe: input.timeframe, from: input.from, to: input.to, config, inputs };
  }

  // ─── Runs ──────────────────────────────────────────────────────────────────────────────────────

  private claim(profileId: string): void {
    if (this.stopped) throw new AppError('unavailable', 'errors.backtest.appStopping');
    if (this.busy.has(profileId)) throw new AppError('already_running', 'errors.backtest.backtestAlreadyRunningProfile');
    this.busy.add(profileId);
  }

  private async insert(profileId: string, p: Prepared, kind: 'run' | 'optimise', extra: Record<string, unknown> = {}): Promise<string> {
    const { rows } = await this.d.db.withProfile(profileId, (c) =>
      c.query<{ id: string }>(
        `INSERT INTO backtest_runs (kind, status, strategy_id, strategy_version, strategy_name, params, exchange, broker_id, symbol, timeframe, range_from, range_to, initial_balance, inputs)
         VALUES ($1, 'running', $2, $3, $4, $5, $6, $7, $8, $9, 'epoch'::timestamptz + $10::bigint * interval '1 millisecond', 'epoch'::timestamptz + $11::bigint * interval '1 millisecond', $12, $13)
         RETURNING id`,
        [kind, p.strategy.strategyId, p.strategy.version, p.strategy.name, JSON.stringify(p.params), p.exchange, p.brokerId, p.symbol, p.timeframe, p.from, p.to, p.inputs.initialBalance, JSON.stringify({ ...p.inputs, ...extra })],
      ),
    );
    return rows[0]!.id;
  }

  private progress(profileId: string, runId: string): (phase: 'download' | 'compute', percent: number) => void {
    const interval = this.d.progressIntervalMs ?? 250;
    const last = { download: -Infinity, compute: -Infinity };
    return (phase, percent) => {
      const now = performance.now();
      if (percent < 100 && now - last[phase] < interval) return;
      last[phase] = now;
      this.d.emit('backtests.progress', { runId, phase, percent: Math.max(0, Math.min(100, Math.round(percent * 10) / 10)) }, { profileId });
    };
  }

  /** Downloads what is missing (a broker's exchange only), then loads the columns. */
  private async candlesFor(p: Prepared, signal: AbortSignal, onProgress?: (percent: number) => void): Promise<Columns> {
    if (p.ex) {
      const missing = await this.candles.missing(p.exchange, p.symbol, p.timeframe, p.from, p.to);
      if (missing.length) {
        onProgress?.(0);
        await this.candles.download(p.ex, p.exchange, p.symbol, p.timeframe, missing, { signal, onProgress });
      }
    }
    if (signal.aborted) throw new AppError('cancelled', 'errors.backtest.cancelled');
    return this.candles.load(p.exchange, p.symbol, p.timeframe, p.from, p.to);
  }

  async run(profileId: string, input: BacktestRunParams): Promise<{ runId: string }> {
    this.claim(profileId);
    let runId: string;
    let p: Prepared;
    try {
      p = await this.prepare(profileId, input, { requireCandles: true });
      runId = await this.insert(profileId, p, 'run');
    } catch (e) {
      this.busy.delete(profileId);
      if (isAppError(e)) throw e;
      if ((e as { code?: string }).code === '23505') throw new AppError('already_running', 'errors.backtest.backtestAlreadyRunningProfile');
      throw e;
    }
    this.startJob(profileId, runId, async (signal) => {
      const progress = this.progress(profileId, runId);
      const started = performance.now();
      const columns = await this.candlesFor(p, signal, (x) => progress('download', x));
      if (columns.close.length === 0) throw new AppError('invalid_input', 'errors.backtest.noCandlesRangeExchange', { symbol: p.symbol, timeframe: p.timeframe });
      progress('compute', 0);
      const result = await this.d.kernel.backtest(p.compiled, p.params, columns, p.config, { signal, onProgress: (x) => progress('compute', x) });
      if (signal.aborted) throw new AppError('cancelled', 'errors.backtest.cancelled');
      const metrics = computeMetrics(result, columns, p.config);
      const trades = result.trades.map((t) => ({ side: t.side, entryTime: t.entryTime, exitTime: t.exitTime, entryPrice: t.entryPrice, exitPrice: t.exitPrice, amount: t.amount, fees: t.fees, pnl: t.pnl, pnlPct: t.pnlPct, balanceAfter: t.balanceAfter, exitReason: t.exitReason }));
      const equity = downsample(columns, result.equity, p.config.initialBalance);
      this.d.kernel.recycle?.(result);
      progress('compute', 100);
      await this.d.db.withProfile(profileId, (c) =>
        c.query(`UPDATE backtest_runs SET status = 'done', candles = $2, metrics = $3, trades = $4, equity = $5, finished_at = now(), duration_ms = $6 WHERE id = $1 AND status = 'running'`, [
          runId,
          columns.close.length,
          JSON.stringify(metrics),
          JSON.stringify(trades),
          JSON.stringify(equity),
          Math.round(performance.now() - started),
        ]),
      );
      this.candles.recycle(columns); // read by nothing after this point
    });
    return { runId };
  }

  /** Runs `work` as the profile's job; records cancelled/failed; emits `backtests.done`. */
  private startJob(profileId: string, runId: string, work: (signal: AbortSignal) => Promise<void>): void {
    const abort = new AbortController();
    const started = performance.now();
    const finish = async (status: 'cancelled' | 'failed', error: string | null, text: Text | null, line: number | null) => {
      await this.d.db.withProfile(profileId, (c) =>
        c.query(
          `UPDATE backtest_runs SET status = $2, error = $3, error_key = $4, error_params = $5, error_line = $6, metrics = NULL, trades = NULL, equity = NULL, results = NULL, finished_at = now(), duration_ms = $7
            WHERE id = $1 AND status = 'running'`,
          [runId, status, error, text?.key ?? null, text ? JSON.stringify(text.params ?? {}) : null, line, Math.round(performance.now() - started)],
        ),
      );
    };
    const done = (async () => {
      let status: 'done' | 'cancelled' | 'failed' = 'done';
      let error: string | null = null;
      let text: Text | null = null;
      try {
        await work(abort.signal);
      } catch (e) {
        if (abort.signal.aborted) {
          status = 'cancelled';
        } else {
          status = 'failed';
          text = failureText(e);
          error = translate('en', text.key, text.params);
          this.d.log.info({ runId, err: error }, 'backtest failed');
        }
        try {
          await finish(status, error, text, status === 'failed' ? errorLine(e) : null);
        } catch (e2) {
          this.d.log.error({ runId, err: (e2 as Error).message }, 'could not record the end of a backtest');
        }
      } finally {
        this.jobs.delete(profileId);
        this.busy.delete(profileId);
        this.d.emit('backtests.done', { runId, status, error, errorKey: text?.key ?? null, errorParams: text?.params ?? null }, { profileId });
      }
    })();
    this.jobs.set(profileId, { runId, abort, done });
  }

  async cancel(profileId: string, runId: string): Promise<{ ok: true }> {
    const job = this.jobs.get(profileId);
    if (!job || job.runId !== runId) {
      const row = await this.row(profileId, runId);
      throw new AppError('conflict', 'errors.backtest.runNotRunning', { status: row.status });
    }
    job.abort.abort();
    // the kernel stops within a chunk of candles, a download between pages: wait for the record
    await Promise.race([job.done, new Promise((r) => setTimeout(r, 2000))]);
    return { ok: true };
  }

  // ─── Reads ─────────────────────────────────────────────────────────────────────────────────────

  private async row(profileId: string, runId: string, full = false): Promise<RunRow> {
    const { rows } = await this.d.db.withProfile(profileId, (c) => c.query<RunRow>(`${SELECT}${full ? ', trades, equity, results' : ''} FROM backtest_runs WHERE id = $1`, [runId]));
    if (!rows[0]) throw new AppError('not_found', 'errors.backtest.noSuchBacktestRun');
    return rows[0];
  }

  private summary(r: RunRow): BacktestRunSummaryDto {
    return {
      runId: r.id,
      kind: r.kind,
      status: r.status,
      strategyId: r.strategy_id,
      strategyName: r.strategy_name,
      version: r.strategy_version,
      params: r.params,
      exchange: r.exchange,
      symbol: r.symbol,
      timeframe: r.timeframe,
      from: Number(r.from_ms),
      to: Number(r.to_ms),
      initialBalance: r.initial_balance,
      candles: r.candles,
      returnPct: r.metrics?.returnPct ?? null,
      tradeCount: r.metrics?.tradeCount ?? null,
      error: r.error,
      errorKey: r.error_key,
      errorParams: r.error_params,
      createdAt: r.created_at.toISOString(),
      durationMs: r.duration_ms,
    };
  }

  async get(profileId: string, runId: string): Promise<BacktestRunDetailDto> {
    const r = await this.row(profileId, runId, true);
    return { ...this.summary(r), inputs: r.inputs, metrics: r.metrics, trades: r.trades ?? [], equity: r.equity, results: r.results, errorLine: r.error_line };
  }

  async list(profileId: string): Promise<BacktestRunSummaryDto[]> {
    const { rows } = await this.d.db.withProfile(profileId, (c) => c.query<RunRow>(`${SELECT} FROM backtest_runs ORDER BY created_at DESC LIMIT 500`));
    return rows.map((r) => this.summary(r));
  }

  async delete(profileId: string, runId: string): Promise<{ ok: true }> {
    const r = await this.row(profileId, runId);
    if (r.status === 'running') throw new AppError('conflict', 'errors.backtest.runStillRunningCancel');
    await this.d.db.withProfile(profileId, (c) => c.query('DELETE FROM backtest_runs WHERE id = $1', [runId]));
    return { ok: true };
  }

  async datasets(): Promise<{ exchange: string; symbol: string; timeframe: string; count: number; from: number; to: number }[]> {
    const { rows } = await this.d.db.query<{ exchange: string; symbol: string; timeframe: string; count: number; from: string; to: string }>(
      `SELECT exchange, symbol, timeframe, count(*)::int AS count, (extract(epoch FROM min(open_time)) * 1000)::bigint AS "from", (extract(epoch FROM max(open_time)) * 1000)::bigint AS "to"
         FROM candles GROUP BY exchange, symbol, timeframe ORDER BY exchange, symbol, timeframe`,
    );
    return rows.map((r) => ({ ...r, from: Number(r.from), to: Number(r.to) }));
  }

  async importCsv(input: { exchange: string; symbol: string; timeframe: BacktestTimeframe; csv: string }): Promise<{ rows: number; from: number; to: number }> {
    if ((this.d.exchangeIds ?? ccxt.exchanges).includes(input.exchange.toLowerCase())) {
      throw invalid('errors.backtest.exchangeImportedDataSet', { exchange: input.exchange }, 'exchange');
    }
    return this.candles.importCsv(input.exchange, input.symbol, input.timeframe, input.csv);
  }

  /** Strategies a backtest can run, with the params and warm-up the kernel reads from their code. */
  async strategies(profileId: string): Promise<{ strategyId: string; name: string; version: number; params: Record<string, ParamSpec>; warmup: number }[]> {
    const listed = (await this.d.strategies.list?.(profileId)) ?? [];
    const out = [];
    for (const s of listed) {
      try {
        const v = await this.d.strategies.getVersion(profileId, s.strategyId, s.version);
        const info = await this.d.kernel.info({ js: v.js });
        out.push({ strategyId: s.strategyId, name: s.name, version: v.version, params: info.params, warmup: info.warmup });
      } catch (e) {
        this.d.log.info({ strategyId: s.strategyId, err: (e as Error).message }, 'a strategy cannot be backtested');
      }
    }
    return out;
  }

  // ─── Lookahead ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs the strategy on the whole range, then on ranges cut at sampled candles (evenly spread, and
   * at candles where the full run decided something), and compares every decision up to each cut:
   * a strategy that reads candles after `i` decides differently when they are not there.
   */
  async lookahead(profileId: string, input: BacktestRunParams, samples = 12): Promise<{ ok: boolean; checked: number; differences: { index: number; time: number; truncatedAt: number; full: string; truncated: string }[] }> {
    const p = await this.prepare(profileId, input, { requireCandles: true });
    const columns = await this.candlesFor(p, new AbortController().signal);
    const n = columns.close.length;
    const full = await this.d.kernel.backtest(p.compiled, p.params, columns, p.config);
    const first = Math.max(0, full.firstDecisionIndex);
    const cuts = new Set<number>();
    if (n > first + 1) {
      for (let j = 1; j <= samples; j++) cuts.add(first + Math.floor((j * (n - 1 - first)) / (samples + 1)));
      const decided = full.decisions.filter((x) => x.index < n - 1);
      for (let j = 0; j < Math.min(samples, decided.length); j++) cuts.add(decided[Math.floor((j * decided.length) / Math.min(samples, decided.length))]!.index);
    }
    const fullAt = new Map(full.decisions.map((x) => [x.index, x.action]));
    const differences: { index: number; time: number; truncatedAt: number; full: string; truncated: string }[] = [];
    const seen = new Set<number>();
    for (const k of [...cuts].sort((a, b) => a - b)) {
      const part = await this.d.kernel.backtest(p.compiled, p.params, sliceColumns(columns, 0, k + 1), p.config);
      const partAt = new Map(part.decisions.map((x) => [x.index, x.action]));
      for (let i = first; i <= k; i++) {
        const a = fullAt.get(i) ?? 'none';
        const b = partAt.get(i) ?? 'none';
        if (a !== b && !seen.has(i)) {
          seen.add(i);
          differences.push({ index: i, time: columns.time[i]!, truncatedAt: k, full: a, truncated: b });
        }
      }
    }
    return { ok: differences.length === 0, checked: cuts.size, differences: differences.sort((a, b) => a.index - b.index) };
  }

  // ─── Optimiser ─────────────────────────────────────────────────────────────────────────────────

  async optimise(profileId: string, input: BacktestOptimiseParams): Promise<{ runId: string; combinations: number }> {
    if (!(METRIC_KEYS as readonly string[]).includes(input.rankBy)) throw invalid('errors.backtest.unknownMetricOne', { rankBy: input.rankBy, METRIC_KEYS: METRIC_KEYS.join(', ') }, 'rankBy');
    if (input.holdout !== undefined && !(input.holdout > input.from && input.holdout < input.to)) throw invalid('errors.backtest.heldOutPeriodMust', {}, 'holdout');
    if (Object.keys(input.grid).length === 0) throw invalid('errors.backtest.gridEmptyGiveValues', {}, 'grid');
    const combos = gridCombinations(input.grid);
    if (combos.length > MAX_COMBINATIONS) throw invalid('errors.backtest.gridHasMoreThan', { MAX_COMBINATIONS }, 'grid');
    this.claim(profileId);
    let runId: string;
    let p: Prepared;
    try {
      p = await this.prepare(profileId, input, { requireCandles: true });
      for (const [name, values] of Object.entries(input.grid)) {
        const spec = p.info.params[name];
        if (!spec) throw invalid('errors.backtest.strategyHasNoParameter2', { name }, `grid.${name}`);
        const bad = values.find((v) => (spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max));
        if (bad !== undefined) throw invalid('errors.backtest.gridValueOutside', { bad, name, min: spec.min ?? '−∞', max: spec.max ?? '∞' }, `grid.${name}`);
      }
      runId = await this.insert(profileId, p, 'optimise', { grid: input.grid, rankBy: input.rankBy, holdout: input.holdout ?? null });
    } catch (e) {
      this.busy.delete(profileId);
      throw e;
    }
    const concurrency = Math.max(1, this.d.optimiseConcurrency ?? availableParallelism());
    this.startJob(profileId, runId, async (signal) => {
      const progress = this.progress(profileId, runId);
      const started = performance.now();
      const columns = await this.candlesFor(p, signal, (x) => progress('download', x));
      const n = columns.close.length;
      if (n === 0) throw new AppError('invalid_input', 'errors.backtest.noCandlesRange');
      let train = columns;
      let test: Columns | null = null;
      if (input.holdout !== undefined) {
        let h = 0;
        while (h < n && columns.time[h]! < input.holdout) h++;
        train = sliceColumns(columns, 0, h);
        // the held-out run starts a warm-up earlier so its first decision is at the held-out start
        test = sliceColumns(columns, Math.max(0, h - p.info.warmup), n);
      }
      const rows: OptimiseRowDto[] = new Array(combos.length);
      let next = 0;
      let finished = 0;
      progress('compute', 0);
      const worker = async () => {
        while (next < combos.length) {
          if (signal.aborted) throw new AppError('cancelled', 'errors.backtest.cancelled');
          const idx = next++;
          const params = { ...p.params, ...combos[idx]! };
          try {
            const r = await this.d.kernel.backtest(p.compiled, params, train, p.config, { signal });
            const metrics = computeMetrics(r, train, p.config);
            this.d.kernel.recycle?.(r);
            let holdout: Metrics | null = null;
            if (test) {
              const t = await this.d.kernel.backtest(p.compiled, params, test, p.config, { signal });
              holdout = computeMetrics(t, test, p.config);
              this.d.kernel.recycle?.(t);
            }
            rows[idx] = { params: combos[idx]!, metrics, holdout, error: null };
          } catch (e) {
            if (signal.aborted) throw e;
            const why = failureText(e);
            rows[idx] = { params: combos[idx]!, metrics: null, holdout: null, error: translate('en', why.key, why.params), errorKey: why.key, errorParams: why.params ?? {} };
          }
          finished++;
          progress('compute', (finished / combos.length) * 100);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, combos.length) }, worker));
      const ranked = rows.sort((a, b) => rank(input.rankBy, a.metrics as Metrics | null, b.metrics as Metrics | null));
      await this.d.db.withProfile(profileId, (c) =>
        c.query(`UPDATE backtest_runs SET status = 'done', candles = $2, metrics = $3, results = $4, finished_at = now(), duration_ms = $5 WHERE id = $1 AND status = 'running'`, [
          runId,
          n,
          ranked[0]?.metrics ? JSON.stringify(ranked[0].metrics) : null,
          JSON.stringify(ranked),
          Math.round(performance.now() - started),
        ]),
      );
    });
    return { runId, combinations: combos.length };
  }
}
