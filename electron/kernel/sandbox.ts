import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ivm from 'isolated-vm';
import { AppError, externalError } from '../../shared/errors';
import { COLUMN_KEYS, shareColumns } from './columns';
import { RUNTIME_SOURCE } from './runtime-source';
import { mapToSource, WRAP_PREFIX } from './source-map';
import type { Action, Columns, CompiledStrategy, Decision, ExitReason, SimTrade, DecideConfig, DecideState, KernelLimits, RunOptions, SimConfig, SimResult, StrategyInfo } from './types';

/** Defaults: generous for a backtest on millions of candles, tight enough to stop a runaway quickly. */
export const DEFAULT_LIMITS: KernelLimits = {
  memoryMb: 256,
  callTimeoutMs: 5_000,
  runTimeoutMs: 120_000,
};

let runtimeText: string | null = null;
/** The runtime with @ixjb94/indicators' self-contained UMD bundle inlined (read once per process). */
function runtimeSource(): string {
  if (runtimeText === null) {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@ixjb94/indicators/dist/browser-indicators-sync.js');
    const lib = readFileSync(file, 'utf8');
    runtimeText = RUNTIME_SOURCE.replace('__INDICATORS__', () => lib);
  }
  return runtimeText;
}

/**
 * The strategy's CommonJS text wrapped on its first line, so its line numbers stay its own. The
 * script ends with `void 0`: its completion value would otherwise be the module function, which
 * isolated-vm hands to the host as a callable holding the context alive until Node's own GC
 * collects it (see `withContext`).
 */
function wrapStrategy(js: string): string {
  return `${WRAP_PREFIX}${js}\n};void 0;`;
}

interface KernelErrorResult {
  kernelError: true;
  code: string;
  name: string;
  message: string;
  stack: string;
  phase: string;
}

function isKernelError(v: unknown): v is KernelErrorResult {
  return typeof v === 'object' && v !== null && (v as { kernelError?: unknown }).kernelError === true;
}

const STRATEGY_FRAME = /strategy\.js:(\d+):(\d+)/;

/** A strategy's error with its own line (mapped back to the TypeScript source when a map is inline). */
function strategyError(r: KernelErrorResult, compiled: CompiledStrategy): AppError {
  if (r.code === 'invalid_input') return externalError('invalid_input', r.message);
  const m = STRATEGY_FRAME.exec(r.stack);
  let line: number | null = null;
  let column: number | null = null;
  if (m) {
    const pos = mapToSource(compiled.js, Number(m[1]), Number(m[2]));
    line = pos.line;
    column = pos.column;
  }
  // the fragments by key, so the whole sentence reads in the user's language (the phase is a method name)
  const where = line === null ? '' : column === null ? { key: 'errors.kernel.whereLine', params: { line } } : { key: 'errors.kernel.whereLineColumn', params: { line, column } };
  const during = r.phase && r.phase !== 'load' ? { key: 'errors.kernel.duringPhase', params: { phase: r.phase } } : { key: 'errors.kernel.duringLoad', params: {} };
  return new AppError('strategy_error', 'errors.kernel.message', { name: r.name, reason: r.message, where, during }, { line, column, phase: r.phase });
}

/**
 * What the isolate gets of the columns: the distinct SharedArrayBuffers behind them (each passed
 * once: isolated-vm counts a shared buffer against the heap limit each time it is passed) and,
 * per column, [buffer index, byte offset, length]. Columns not on a SharedArrayBuffer are copied
 * into one first (a copy per run, as a transfer would be).
 */
function shareForRun(c: Columns): { buffers: SharedArrayBuffer[]; layout: number[]; bytes: number } {
  const cols = shareColumns(c);
  const buffers: SharedArrayBuffer[] = [];
  const layout: number[] = [];
  for (const k of COLUMN_KEYS) {
    const buf = cols[k].buffer as SharedArrayBuffer;
    let idx = buffers.indexOf(buf);
    if (idx < 0) idx = buffers.push(buf) - 1;
    layout.push(idx, cols[k].byteOffset, cols[k].length);
  }
  return { buffers, layout, bytes: buffers.reduce((s, b) => s + b.byteLength, 0) };
}

/** The isolate's arguments for prepare(): the layout, then six buffer slots (unused ones null). */
function columnArgs(c: Columns): unknown[] {
  const { buffers, layout } = shareForRun(c);
  const slots: unknown[] = buffers.map((b) => new ivm.ExternalCopy(b).copyInto({ release: true }));
  while (slots.length < COLUMN_KEYS.length) slots.push(null);
  return [new ivm.ExternalCopy(layout).copyInto({ release: true }), ...slots];
}

/**
 * Scratch buffers lent to backtest runs and taken back after them (runtime-source.ts, scratchFor):
 * the strategy's column copies and the indicator arrays init() computes, one candle-column in
 * size each, and the run's equity and exposure (take/give). On a VM whose fresh pages are faulted
 * in one by one (this machine: ~40 ms of faults per 10 M-value array against ~3 ms of
 * arithmetic; a Firecracker guest that reports freed pages to its host, so memory given back is
 * faulted in again from the host), reusing memory is most of a backtest's speed.
 *
 * Any size serves: a run gets the smallest pooled buffer of at least the bytes it needs and at
 * most FIT× them (a view on its first bytes; the rest zeroed, so nothing an earlier run wrote is
 * readable there), so runs of different sizes share the memory of the largest. Bounded (maxBytes)
 * and emptied when idle (idleMs), so the memory goes back to the system — except the buffers
 * `reserve` made (the app's start: the first backtest of a session then runs on warm memory, not
 * only the second). Buffers lent are out of the pool until the run returns them; a failed run's
 * are dropped (a reserved one is made again by the next `reserve`).
 */
export class ScratchPool {
  /** A pooled buffer serves a request of at least 1/FIT of its size. */
  static readonly FIT = 4;
  private free: SharedArrayBuffer[] = [];
  /** Buffers `reserve` made: kept when the pool empties on idle. */
  private readonly pinned = new Set<SharedArrayBuffer>();
  /** Per size: how many buffers the last run of that size used (what the next one is lent). */
  private readonly wanted = new Map<number, number>();
  /** How many the last run of any size used (what a run of a new size is lent). */
  private lastWanted = 0;
  private bytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxBytes = 1024 * 2 ** 20,
    private readonly idleMs = 30_000,
    /** What an idle pool keeps besides the reserve: its largest buffers, up to this many bytes (the kernel's: IDLE_KEEP_BYTES). */
    private readonly idleKeepBytes = 0,
  ) {}

  /**
   * The buffers to lend a run whose columns hold `byteLength` bytes each: as many as the last run
   * of that size asked for (of any size when none was that size; none before the first run),
   * from the pool, made here for the rest (always by the host: see runtime-source.ts). Made here,
   * they are fresh memory for this run, reused by the next.
   */
  lend(byteLength: number): SharedArrayBuffer[] {
    const want = byteLength === 0 ? 0 : Math.min(this.wanted.get(byteLength) ?? this.lastWanted, Math.floor(this.maxBytes / byteLength));
    if (byteLength === 0 || want === 0) return [];
    const out: SharedArrayBuffer[] = [];
    for (let b = this.pick(byteLength); b && out.length < want; b = out.length < want ? this.pick(byteLength) : undefined) out.push(b);
    while (out.length < want) out.push(new SharedArrayBuffer(byteLength));
    return out;
  }

  /** A run's buffers back; `used`: how many it asked for (lent or not). */
  takeBack(byteLength: number, buffers: SharedArrayBuffer[], used: number): void {
    if (byteLength === 0) return;
    this.wanted.set(byteLength, used);
    this.lastWanted = used;
    for (const b of buffers) if (b instanceof SharedArrayBuffer && b.byteLength >= byteLength) this.keep(b);
    this.touch();
  }

  /**
   * One buffer of at least `byteLength` bytes for a run's output (the equity curve, the exposure):
   * a pooled one when one fits (holding whatever its last user wrote in its first `byteLength`
   * bytes: the loop writes every value), else fresh memory.
   */
  take(byteLength: number): SharedArrayBuffer {
    return (byteLength > 0 ? this.pick(byteLength) : undefined) ?? new SharedArrayBuffer(byteLength);
  }

  /** Buffers whose user is done with them (Kernel.recycle: a result's equity and exposure), pooled within the bound. */
  give(buffers: SharedArrayBuffer[]): void {
    for (const b of buffers) if (b instanceof SharedArrayBuffer && b.byteLength > 0) this.keep(b);
    this.touch();
  }

  /**
   * `count` buffers of `byteLength` bytes made now and written once (their pages faulted in now,
   * not during a run), kept past the idle timer. For the app's start (BacktestService.start):
   * ~49 bytes a candle per size (four float64 columns and an exposure) make a backtest of up to
   * that many candles run on warm memory the first time.
   */
  reserve(byteLength: number, count: number): void {
    if (byteLength <= 0) return;
    const have = [...this.pinned].filter((b) => b.byteLength === byteLength).length;
    for (let k = have; k < count; k++) {
      const b = new SharedArrayBuffer(byteLength);
      new Uint8Array(b).fill(0); // written (zeros too: a write faults each page in, a read would only map the zero page)
      this.pinned.add(b);
      this.free.push(b);
      this.bytes += byteLength;
    }
  }

  /** The smallest pooled buffer of byteLength..FIT×byteLength bytes, out of the pool, its tail zeroed. */
  private pick(byteLength: number): SharedArrayBuffer | undefined {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i]!.byteLength;
      if (size >= byteLength && size <= byteLength * ScratchPool.FIT && (best < 0 || size < this.free[best]!.byteLength)) best = i;
    }
    if (best < 0) return undefined;
    const b = this.free.splice(best, 1)[0]!;
    this.bytes -= b.byteLength;
    // a run sees the whole buffer (a strategy can view it): nothing past its own values is left to read
    if (b.byteLength > byteLength) new Uint8Array(b, byteLength).fill(0);
    return b;
  }

  private keep(b: SharedArrayBuffer): void {
    if (this.free.includes(b)) return;
    if (!this.pinned.has(b) && this.bytes + b.byteLength > this.maxBytes) return;
    this.free.push(b);
    this.bytes += b.byteLength;
  }

  /** (Re)starts the idle timer that empties the pool (of all but the reserved buffers). */
  private touch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.release(), this.idleMs);
    this.timer.unref();
  }

  /**
   * Gives back the pooled buffers but the reserved ones and, within idleKeepBytes, the largest
   * others (grow-only up to that bound: a user's next backtest, minutes later, still finds the
   * memory of the largest run so far; any smaller run down to 1/FIT of it uses it too).
   */
  private release(): void {
    let keep = this.idleKeepBytes;
    const others = this.free.filter((b) => !this.pinned.has(b)).sort((a, b) => b.byteLength - a.byteLength);
    const kept = new Set<SharedArrayBuffer>();
    for (const b of others) {
      if (b.byteLength > keep) continue;
      kept.add(b);
      keep -= b.byteLength;
    }
    this.free = this.free.filter((b) => this.pinned.has(b) || kept.has(b));
    this.bytes = this.free.reduce((s, b) => s + b.byteLength, 0);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Bytes currently pooled. */
  get pooledBytes(): number {
    return this.bytes;
  }

  /** Bytes reserved (pooled or lent). */
  get reservedBytes(): number {
    let s = 0;
    for (const b of this.pinned) s += b.byteLength;
    return s;
  }

  /** Buffers a failed run held: not reused (they leave the reserve; the next `reserve` makes new ones). */
  forget(buffers: SharedArrayBuffer[]): void {
    for (const b of buffers) this.pinned.delete(b);
  }

  /** Empties the pool, the reserve included. */
  clear(): void {
    this.pinned.clear();
    this.free = [];
    this.bytes = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** The loop's result as it leaves the isolate: trades and decisions packed in typed arrays. */
interface RawResult {
  trades: Float64Array;
  equity: Float64Array;
  exposure: Int8Array;
  finalEquity: number;
  firstDecisionIndex: number;
  decisions: Int32Array;
  refused: number;
  scratch?: { buffers: SharedArrayBuffer[]; used: number } | null;
}

const TRADE_FIELDS = 13;
const EXIT_REASONS: ExitReason[] = ['signal', 'reverse', 'stop_loss', 'take_profit', 'end'];
const ACTIONS: Action[] = ['none', 'open_long', 'open_short', 'close', 'reverse_to_long', 'reverse_to_short'];

function decodeResult(r: RawResult, time: Float64Array): SimResult {
  const trades: SimTrade[] = [];
  const t = r.trades;
  for (let o = 0; o < t.length; o += TRADE_FIELDS) {
    const entryIndex = t[o + 1]!;
    const exitIndex = t[o + 2]!;
    const sl = t[o + 10]!;
    const tp = t[o + 11]!;
    trades.push({
      side: t[o] === 1 ? 'long' : 'short',
      entryIndex,
      exitIndex,
      entryTime: time[entryIndex]!,
      exitTime: time[exitIndex]!,
      entryPrice: t[o + 3]!,
      exitPrice: t[o + 4]!,
      amount: t[o + 5]!,
      fees: t[o + 6]!,
      pnl: t[o + 7]!,
      pnlPct: t[o + 8]!,
      balanceAfter: t[o + 9]!,
      exitReason: EXIT_REASONS[t[o + 12]!]!,
      stopLoss: Number.isNaN(sl) ? null : sl,
      takeProfit: Number.isNaN(tp) ? null : tp,
    });
  }
  const result = { trades, equity: r.equity, exposure: r.exposure, finalEquity: r.finalEquity, firstDecisionIndex: r.firstDecisionIndex, refused: r.refused } as SimResult;
  // Decisions are unpacked on first read (only the lookahead check reads them): a run with 500 k
  // trades has a million decisions, and as objects they cost more than the loop that took them.
  const packed = r.decisions;
  Object.defineProperty(result, 'decisions', {
    enumerable: true,
    configurable: true,
    get(): SimResult['decisions'] {
      const decisions: SimResult['decisions'] = [];
      for (let k = 0; k < packed.length; k += 2) decisions.push({ index: packed[k]!, action: ACTIONS[packed[k + 1]!]! });
      Object.defineProperty(result, 'decisions', { value: decisions, enumerable: true, configurable: true, writable: true });
      return decisions;
    },
  });
  return result;
}

function checkColumns(c: Columns): void {
  const n = c.close.length;
  for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
    const col = c[k];
    if (!(col instanceof Float64Array)) throw new AppError('invalid_input', 'errors.kernel.columnsMustFloat64array', { k });
    if (col.length !== n) throw new AppError('invalid_input', 'errors.kernel.columnsHasValuesClose', { k, col: col.length, n });
  }
}

export function checkSimConfig(cfg: SimConfig): void {
  // programming errors of the caller (the contract validated the person's input before): technical English
  const bad = (why: string): never => {
    throw externalError('invalid_input', why);
  };
  if (!(Number.isFinite(cfg.initialBalance) && cfg.initialBalance > 0)) bad('initialBalance must be a number above 0');
  for (const k of ['maker', 'taker'] as const) {
    const f = cfg.fees?.[k];
    if (!(typeof f === 'number' && f >= 0 && f < 1)) bad(`fees.${k} must be a fraction in 0–1`);
  }
  if (!(Number.isFinite(cfg.slippageBps) && cfg.slippageBps >= 0 && cfg.slippageBps < 10_000)) bad('slippageBps must be between 0 and 10000');
  if (cfg.fillAt !== 'open' && cfg.fillAt !== 'close') bad("fillAt must be 'open' or 'close'");
  if (!(Number.isFinite(cfg.amountStep) && cfg.amountStep >= 0)) bad('amountStep must be 0 or more');
  if (!(Number.isFinite(cfg.minAmount) && cfg.minAmount >= 0)) bad('minAmount must be 0 or more');
  if (cfg.closeAtEnd !== undefined && typeof cfg.closeAtEnd !== 'boolean') bad('closeAtEnd must be true or false');
  if (cfg.feeModel !== undefined && cfg.feeModel !== 'per_fill' && cfg.feeModel !== 'entry_price') bad("feeModel must be 'per_fill' or 'entry_price'");
}

/**
 * One strategy loaded into its own isolate (memory limit, no host references). Each backtest or
 * decision runs in a fresh context of that isolate (runtime + strategy module evaluated anew), so
 * nothing a strategy leaves in its globals carries over from one run to the next.
 */
export class StrategySandbox {
  readonly info: StrategyInfo;
  private readonly isolate: ivm.Isolate;
  private readonly runtimeScript: ivm.Script;
  private readonly strategyScript: ivm.Script;
  private readonly compiled: CompiledStrategy;
  private readonly limits: KernelLimits;
  private memoryExceeded = false;
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Calls queued or running (one at a time per sandbox). */
  private calls = 0;

  /**
   * One call at a time: after the previous one. An idle sandbox starts the call at once, in the
   * caller's turn (the live bot's decision begins while the rest of a burst is still being read).
   */
  private serial<T>(run: () => Promise<T>): Promise<T> {
    const start = (): Promise<T> => {
      try {
        return run();
      } catch (e) {
        return Promise.reject(e as Error);
      }
    };
    const p = this.calls === 0 ? start() : this.queue.then(start, start);
    this.calls++;
    this.queue = p.then(
      () => void this.calls--,
      () => void this.calls--,
    );
    return p;
  }

  private constructor(compiled: CompiledStrategy, limits: KernelLimits, isolate: ivm.Isolate, runtimeScript: ivm.Script, strategyScript: ivm.Script, info: StrategyInfo) {
    this.compiled = compiled;
    this.limits = limits;
    this.isolate = isolate;
    this.runtimeScript = runtimeScript;
    this.strategyScript = strategyScript;
    this.info = info;
  }

  /** Loads the strategy into a new isolate and reads `static params` and `static warmup`. */
  static async load(compiled: CompiledStrategy, limits: Partial<KernelLimits> = {}): Promise<StrategySandbox> {
    const lim: KernelLimits = { ...DEFAULT_LIMITS, ...limits };
    const isolate = new ivm.Isolate({ memoryLimit: lim.memoryMb });
    try {
      const runtimeScript = await isolate.compileScript(runtimeSource(), { filename: 'aristobot-runtime.js' });
      let strategyScript: ivm.Script;
      try {
        strategyScript = await isolate.compileScript(wrapStrategy(compiled.js), { filename: 'strategy.js' });
      } catch (e) {
        throw syntaxError(e, compiled);
      }
      const sb = new StrategySandbox(compiled, lim, isolate, runtimeScript, strategyScript, { params: {}, warmup: 200 });
      const info = await sb.withContext(async () => undefined, lim.callTimeoutMs);
      (sb as { info: StrategyInfo }).info = info.info;
      return sb;
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      throw e;
    }
  }

  /**
   * A fresh context: the runtime, then the strategy module, then `load()` (params, warmup).
   * `fn` gets the kernel API and runs while the context lives; the context is released after.
   *
   * Memory: a context (with its columns, indicators and results: ~50 bytes a candle) is freed by
   * the isolate's GC only once NO host handle into it is left. `context.release()` alone is not
   * enough: every Reference (the API object, each function fetched from it) and any function value
   * a script returns (isolated-vm turns it into a host callable) also pin the context, and those
   * are freed only when Node's own GC finalises the host objects — which a small host heap may
   * never do before the isolate reaches its limit. So every handle is released here, explicitly.
   */
  private async withContext<T>(fn: (api: ivm.Reference<Record<string, unknown>>, info: StrategyInfo) => Promise<T>, timeout: number): Promise<{ info: StrategyInfo; value: T }> {
    const run = async (): Promise<{ info: StrategyInfo; value: T }> => {
      if (this.disposed) throw new AppError('unavailable', 'errors.kernel.strategySandboxWasDisposed');
      const context = await this.isolate.createContext();
      let api: ivm.Reference<Record<string, unknown>> | undefined;
      try {
        api = (await this.runtimeScript.run(context, { reference: true, timeout })) as ivm.Reference<Record<string, unknown>>;
        await this.call(() => this.strategyScript.run(context, { timeout }), 'load', timeout);
        const loaded = await this.invoke(api, 'load', [], timeout, 'load');
        const info = (loaded as { info: StrategyInfo }).info;
        const value = await fn(api, info);
        return { info, value };
      } finally {
        api?.release();
        context.release();
      }
    };
    return this.serial(run);
  }

  /**
   * Calls `api[name](...args)` in the isolate and releases the function's Reference right after:
   * every Reference pins its context (and all the run's arrays) until released.
   */
  private async apply(api: ivm.Reference<Record<string, unknown>>, name: string, args: unknown[], options: ivm.ReferenceApplyOptions): Promise<unknown> {
    const fn = (await api.get(name, { reference: true })) as unknown as ivm.Reference<(...a: unknown[]) => unknown>;
    try {
      return await fn.apply(undefined, args as ivm.Transferable[], options);
    } finally {
      fn.release();
    }
  }

  /** Calls a kernel function with copied arguments; maps the kernel's own error results. */
  private async invoke(api: ivm.Reference<Record<string, unknown>>, name: string, args: unknown[], timeout: number, what: string): Promise<unknown> {
    const result = await this.call(() => this.apply(api, name, args, { timeout, arguments: { copy: true }, result: { copy: true } }), what, timeout, api);
    if (isKernelError(result)) throw strategyError(result, this.compiled);
    return result;
  }

  /** Runs isolate work, turning isolated-vm's timeout and memory failures into the kernel's codes. */
  private async call<T>(work: () => Promise<T>, what: string, timeout: number, api?: ivm.Reference<Record<string, unknown>>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (this.isolate.isDisposed || /memory limit/i.test(msg)) {
        if (this.memoryExceeded || /memory limit/i.test(msg)) {
          throw new AppError('strategy_memory', 'errors.kernel.strategyExceededMemoryLimit', { memoryMb: this.limits.memoryMb }, { limitMb: this.limits.memoryMb });
        }
        if (this.cancelledByDispose) throw new AppError('cancelled', 'errors.kernel.runWasCancelled');
        throw new AppError('unavailable', 'errors.kernel.strategySandboxWasDisposed2');
      }
      if (/timed out/i.test(msg)) {
        let phase = what;
        if (api) {
          try {
            phase = String(await this.apply(api, 'phase', [], { timeout: 1000, result: { copy: true } }));
          } catch {
            /* keep what */
          }
        }
        throw new AppError('strategy_timeout', phase === 'load' ? 'errors.kernel.cpuLimitLoading' : 'errors.kernel.cpuLimitIn', { timeout, phase }, { limitMs: timeout, phase });
      }
      if (e instanceof AppError) throw e;
      if (e instanceof Error && e.name === 'SyntaxError') throw syntaxError(e, this.compiled);
      throw externalError('strategy_error', msg);
    }
  }

  private cancelledByDispose = false;

  /**
   * The whole simulation inside the isolate: see docs/ARCHITECTURE.md ("Strategy kernel").
   * `scratch`: a pool lending the run reusable memory (Kernel.backtest passes one; the isolate's
   * memory limit must leave room for what the pool lends: ScratchPool.lend before load).
   */
  async backtest(params: Record<string, number> | undefined, columns: Columns, config: SimConfig, opts: RunOptions = {}, scratch?: { pool: ScratchPool; lent: SharedArrayBuffer[]; equity?: SharedArrayBuffer; exposure?: SharedArrayBuffer }): Promise<SimResult> {
    checkColumns(columns);
    checkSimConfig(config);
    if (opts.signal?.aborted) throw new AppError('cancelled', 'errors.kernel.runWasCancelled');
    const ctrl = new SharedArrayBuffer(16);
    const flags = new Int32Array(ctrl);
    const n = columns.close.length;
    let lastReported = -1;
    const report = (): void => {
      if (!opts.onProgress || n === 0) return;
      const pct = Math.min(100, Math.floor((Atomics.load(flags, 1) / n) * 100));
      if (pct !== lastReported) {
        lastReported = pct;
        opts.onProgress(pct);
      }
    };
    let forceTimer: NodeJS.Timeout | null = null;
    const onAbort = (): void => {
      Atomics.store(flags, 0, 1);
      // The loop checks the flag every few thousand candles; init() or a runaway call cannot, so
      // the isolate is disposed if the run has not stopped within half a second.
      forceTimer = setTimeout(() => {
        this.cancelledByDispose = true;
        this.dispose();
      }, 500);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.onProgress ? setInterval(report, 250) : null;
    try {
      const { value } = await this.withContext(async (api) => {
        const colArgs = columnArgs(columns);
        const ctrlCopy = new ivm.ExternalCopy(ctrl).copyInto({ release: true });
        // init() runs over the whole columns: its limit grows by 2 µs per candle (+20 s at 10 M).
        const initTimeout = this.limits.callTimeoutMs + Math.ceil(n * 0.002);
        const lent = scratch ? new ivm.ExternalCopy(scratch.lent).copyInto({ release: true }) : null;
        const prep = await this.call(() => this.apply(api, 'prepare', [new ivm.ExternalCopy(params ?? {}).copyInto({ release: true }), ...colArgs, ctrlCopy, lent], { timeout: initTimeout, result: { copy: true } }), 'init()', initTimeout, api);
        if (isKernelError(prep)) throw strategyError(prep, this.compiled);
        if (opts.signal?.aborted) throw new AppError('cancelled', 'errors.kernel.runWasCancelled');
        const runTimeout = opts.timeoutMs ?? this.limits.runTimeoutMs;
        // The loop writes every value of both: with a pool, buffers a caller recycled serve again
        // (fresh pages cost this VM more than the loop writing them: Kernel.recycle).
        const equitySab = scratch?.equity ?? (scratch ? scratch.pool.take(n * 8) : new SharedArrayBuffer(n * 8));
        const exposureSab = scratch?.exposure ?? (scratch ? scratch.pool.take(n) : new SharedArrayBuffer(n));
        const args = [new ivm.ExternalCopy({ ...config, fees: { ...config.fees } }).copyInto({ release: true }), new ivm.ExternalCopy(equitySab).copyInto({ release: true }), new ivm.ExternalCopy(exposureSab).copyInto({ release: true })];
        const out = (await this.call(() => this.apply(api, 'run', args, { timeout: runTimeout, result: { copy: true } }), 'the backtest loop', runTimeout, api)) as RawResult | { cancelled: true } | KernelErrorResult;
        if (isKernelError(out)) throw strategyError(out, this.compiled);
        if ('cancelled' in out) throw new AppError('cancelled', 'errors.kernel.runWasCancelled');
        // the host's own objects go back (those coming out of the isolate are new handles on the same memory: the reserve knows the host's)
        if (scratch && out.scratch) scratch.pool.takeBack(n * 8, scratch.lent, out.scratch.used);
        return decodeResult({ ...out, equity: new Float64Array(equitySab, 0, n), exposure: new Int8Array(exposureSab, 0, n) }, columns.time);
      }, this.limits.callTimeoutMs);
      report();
      return value;
    } catch (e) {
      if (opts.signal?.aborted && !(e instanceof AppError && (e.code === 'strategy_error' || e.code === 'invalid_input'))) throw new AppError('cancelled', 'errors.kernel.runWasCancelled');
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (forceTimer) clearTimeout(forceTimer);
      if (timer) clearInterval(timer);
    }
  }

  /** Live: `init()` on the window, then the rule on its last candle. */
  async decide(params: Record<string, number> | undefined, window: Columns, state: DecideState, config: DecideConfig): Promise<Decision> {
    checkColumns(window);
    if (!(Number.isFinite(state.balance) && state.balance >= 0)) throw new AppError('invalid_input', 'errors.kernel.balanceMustNumber0');
    const { value } = await this.withContext(async (api) => {
      const colArgs = columnArgs(window);
      const prep = await this.call(() => this.apply(api, 'prepare', [new ivm.ExternalCopy(params ?? {}).copyInto({ release: true }), ...colArgs, null], { timeout: this.limits.callTimeoutMs, result: { copy: true } }), 'init()', this.limits.callTimeoutMs, api);
      if (isKernelError(prep)) throw strategyError(prep, this.compiled);
      const st = { position: state.position ? { side: state.position.side, amount: state.position.amount, entryPrice: state.position.entryPrice } : null, balance: state.balance };
      return (await this.invoke(api, 'decide', [st, !!config.allowShort], this.limits.callTimeoutMs, 'decision')) as Decision;
    }, this.limits.callTimeoutMs);
    return value;
  }

  /**
   * `ta.<name>(...args)` computed in this sandbox exactly as a strategy gets it (arrays are copied
   * in as Float64Array). For tests and for charting a strategy's indicators.
   */
  async indicator(name: string, args: (ArrayLike<number> | number)[]): Promise<Float64Array | Record<string, Float64Array>> {
    const { value } = await this.withContext(async (api) => {
      const conv = args.map((a) => (typeof a === 'number' ? a : Float64Array.from(a).buffer));
      return (await this.invoke(api, 'indicator', [name, conv], this.limits.callTimeoutMs, `ta.${name}()`)) as Float64Array | Record<string, Float64Array>;
    }, this.limits.callTimeoutMs);
    return value;
  }

  /** Frees the isolate (a run in progress ends with an error). */
  dispose(): void {
    this.disposed = true;
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The context `decideKept` keeps between decisions (dropped after any failure). */
  private kept: KeptContext | null = null;
  /** The isolate's CPU time of the last two kept decisions, ms (the last first): they pick how the next one runs. */
  private lastDecisionMs = 0;
  private previousDecisionMs = 0;

  /** The isolate's CPU time so far, ms (all its calls; for the benches and diagnostics). */
  get cpuMs(): number {
    return this.isolate.isDisposed ? Number.NaN : Number(this.isolate.cpuTime) / 1e6;
  }

  /** How the next kept decision runs: on the calling thread (`sync`) or on isolated-vm's pool (`async`). */
  get decisionMode(): 'sync' | 'async' {
    const budget = this.limits.syncDecisionMs ?? DEFAULT_SYNC_DECISION_MS;
    // off the thread when the last two were costly: one costly decision alone (a garbage
    // collection in the isolate, a function compiled) does not move the next one
    return budget > 0 && (this.lastDecisionMs <= SYNC_DECISION_CPU_MS || this.previousDecisionMs <= SYNC_DECISION_CPU_MS) ? 'sync' : 'async';
  }

  private recordDecision(ms: number): void {
    this.previousDecisionMs = this.lastDecisionMs;
    this.lastDecisionMs = ms;
  }

  /** Sets up the kept context ahead of the first decision (the live bot, when an activation is loaded). */
  keepContext(): Promise<void> {
    return this.serial(async () => {
      if (this.disposed) throw new AppError('unavailable', 'errors.kernel.strategySandboxWasDisposed');
      if (!this.kept) await this.newKept(this.limits.callTimeoutMs);
    });
  }

  private async newKept(timeout: number): Promise<KeptContext> {
    const context = await this.isolate.createContext();
    let api: ivm.Reference<Record<string, unknown>> | undefined;
    let fn: ivm.Reference<(...a: unknown[]) => unknown> | undefined;
    try {
      api = (await this.runtimeScript.run(context, { reference: true, timeout })) as ivm.Reference<Record<string, unknown>>;
      // read before the strategy's code runs (the same for every context of this runtime)
      decisionTables ??= (await this.invoke(api, 'decisionTables', [], timeout, 'load')) as DecisionTables;
      await this.call(() => this.strategyScript.run(context, { timeout }), 'load', timeout);
      await this.invoke(api, 'load', [], timeout, 'load');
      fn = (await api.get('decideBound', { reference: true })) as unknown as ivm.Reference<(...a: unknown[]) => unknown>;
    } catch (e) {
      api?.release();
      context.release();
      throw e;
    }
    const k: KeptContext = { context, api, fn, cols: null, length: 0, params: null, out: new Float64Array(new SharedArrayBuffer(3 * 8)), decided: false };
    this.kept = k;
    return k;
  }

  private dropKept(k: KeptContext): void {
    if (this.kept === k) this.kept = null;
    k.fn.release();
    k.api.release();
    if (!this.isolate.isDisposed) k.context.release();
  }

  /**
   * `decide`, on a context kept from one call to the next (the live bot): the runtime and the
   * strategy module are set up once, not at every decision (~5 ms each), and the window's shared
   * buffers and the params are bound to the context once (passed again only when they change: the
   * engine updates its window in place), so a decision crosses the isolate boundary once, with
   * its state. The rule and the result are `decide`'s: a new strategy instance and `init()` on the
   * window every time; only module-level variables live on between decisions, as they do between
   * the candles of a backtest. After a failure (an error, the CPU limit) the context is dropped and
   * the next call sets up a fresh one.
   *
   * A cheap decision (one of the last two took at most SYNC_DECISION_CPU_MS of the isolate's CPU
   * time; the first decision on a context, cold, counts as cheap when it ran on the thread) runs
   * synchronously on the calling thread, limited to `syncDecisionMs`: no hop to isolated-vm's
   * pool and back (two thread wake-ups, which under load cost milliseconds each, and twice the
   * CPU). One that goes over that limit is stopped, its context dropped, and it is decided again
   * on a fresh context off the calling thread with the full `callTimeoutMs`; costly decisions keep
   * running there until one is cheap again. So a runaway strategy holds the app's thread for
   * `syncDecisionMs` once, and a heavy one (under that limit) for its first three decisions; one
   * costly decision alone (a collection of the isolate's garbage) does not send the next one off
   * the thread, where the hop costs more than it saves.
   */
  async decideKept(params: Record<string, number> | undefined, window: Columns, state: DecideState, config: DecideConfig): Promise<Decision> {
    checkColumns(window);
    if (!(Number.isFinite(state.balance) && state.balance >= 0)) throw new AppError('invalid_input', 'errors.kernel.balanceMustNumber0');
    const timeout = this.limits.callTimeoutMs;
    const budget = this.limits.syncDecisionMs ?? DEFAULT_SYNC_DECISION_MS;
    const p = state.position;
    const st: KeptState = { side: p ? (p.side === 'long' ? 1 : -1) : 0, amount: p ? p.amount : 0, entryPrice: p ? p.entryPrice : 0, balance: state.balance };
    const run = async (): Promise<Decision> => {
      if (this.disposed) throw new AppError('unavailable', 'errors.kernel.strategySandboxWasDisposed');
      if (this.kept && this.decisionMode === 'sync') {
        // no await before this call: an idle sandbox decides in the caller's turn
        const out = this.decideSync(this.kept, params, window, st, !!config.allowShort, budget);
        if (out !== OVER_BUDGET) return out;
        // over the budget: off the thread from now on, until a decision there is cheap again
        this.lastDecisionMs = this.previousDecisionMs = Number.POSITIVE_INFINITY;
      }
      const k = this.kept ?? (await this.newKept(timeout));
      return this.decideAsync(k, params, window, st, !!config.allowShort, timeout);
    };
    return this.serial(run);
  }

  /**
   * The arguments of `decideBound`: params, columns and the packed result's buffer (null where
   * the context has them bound already), the state as numbers, allowShort. Columns on SharedArrayBuffers are bound by
   * identity (the isolate reads their memory: the engine updates them in place); plain ones are
   * copied into a shared buffer at every call, as `decide` does (a caller may change them in place).
   */
  private boundArgs(k: KeptContext, params: Record<string, number> | undefined, window: Columns, st: KeptState, allowShort: boolean): unknown[] {
    const paramsKey = JSON.stringify(params ?? {});
    const args: unknown[] = [paramsKey === k.params ? null : new ivm.ExternalCopy(params ?? {}).copyInto({ release: true })];
    const cols = COLUMN_KEYS.map((key) => window[key]);
    const onShared = cols.every((c) => c.buffer instanceof SharedArrayBuffer);
    // the same views (a view's buffer and offset never change; its length can, on a growable buffer)
    if (onShared && k.cols !== null && k.length === window.close.length && cols.every((c, i) => c === k.cols![i])) args.push(null, null, null, null, null, null, null, null);
    else {
      const { buffers, layout } = shareForRun(window);
      args.push(new ivm.ExternalCopy(layout).copyInto({ release: true }), ...buffers.map((b) => new ivm.ExternalCopy(b).copyInto({ release: true })));
      for (let i = buffers.length; i < COLUMN_KEYS.length; i++) args.push(null);
      args.push(new ivm.ExternalCopy(k.out.buffer).copyInto({ release: true }));
    }
    args.push(st.side, st.amount, st.entryPrice, st.balance, allowShort);
    // bound from this call on (a failed call drops the context, and its bindings with it)
    k.cols = onShared ? cols : null;
    k.length = window.close.length;
    k.params = paramsKey;
    return args;
  }

  /** A kept decision on the calling thread; OVER_BUDGET when it was stopped at `budget` ms (its context dropped). */
  private decideSync(k: KeptContext, params: Record<string, number> | undefined, window: Columns, st: KeptState, allowShort: boolean, budget: number): Decision | typeof OVER_BUDGET {
    const cpu = this.isolate.cpuTime;
    let out: unknown;
    try {
      out = k.fn.applySync(undefined, this.boundArgs(k, params, window, st, allowShort) as ivm.Transferable[], { timeout: budget, result: { copy: true } });
    } catch (e) {
      this.dropKept(k);
      if (!this.isolate.isDisposed && /timed out/i.test(e instanceof Error ? e.message : String(e))) return OVER_BUDGET;
      throw this.mapSyncError(e);
    }
    const ms = Number(this.isolate.cpuTime - cpu) / 1e6;
    // the first decision on a context is cold (the runtime's and the strategy's functions compiled
    // on first use): it says nothing of the next ones, and it ran within the budget
    this.recordDecision(k.decided ? ms : 0);
    k.decided = true;
    if (isKernelError(out)) {
      this.dropKept(k);
      throw strategyError(out, this.compiled);
    }
    return unpackDecision(out, k.out);
  }

  /** isolated-vm's failures of a synchronous call as the kernel's codes (`call`'s mapping; a timeout is handled by the caller). */
  private mapSyncError(e: unknown): AppError {
    const msg = e instanceof Error ? e.message : String(e);
    if (this.isolate.isDisposed || /memory limit/i.test(msg)) {
      if (this.memoryExceeded || /memory limit/i.test(msg)) return new AppError('strategy_memory', 'errors.kernel.strategyExceededMemoryLimit', { memoryMb: this.limits.memoryMb }, { limitMb: this.limits.memoryMb });
      return new AppError('unavailable', 'errors.kernel.strategySandboxWasDisposed2');
    }
    if (e instanceof AppError) return e;
    if (e instanceof Error && e.name === 'SyntaxError') return syntaxError(e, this.compiled);
    return externalError('strategy_error', msg);
  }

  /** A kept decision on isolated-vm's pool, with the full CPU limit. */
  private async decideAsync(k: KeptContext, params: Record<string, number> | undefined, window: Columns, st: KeptState, allowShort: boolean, timeout: number): Promise<Decision> {
    const cpu = this.isolate.cpuTime;
    try {
      const args = this.boundArgs(k, params, window, st, allowShort);
      const out = await this.call(() => k.fn.apply(undefined, args as ivm.Transferable[], { timeout, result: { copy: true } }), 'init()', timeout, k.api);
      if (isKernelError(out)) throw strategyError(out, this.compiled);
      if (!this.isolate.isDisposed) this.recordDecision(Number(this.isolate.cpuTime - cpu) / 1e6);
      k.decided = true;
      return unpackDecision(out, k.out);
    } catch (e) {
      this.dropKept(k);
      throw e;
    }
  }
}

/** The most a kept decision holds the calling thread (KernelLimits.syncDecisionMs's default). */
export const DEFAULT_SYNC_DECISION_MS = 100;
/** A kept decision runs on the calling thread when the previous one took at most this much of the isolate's CPU time (ms). */
export const SYNC_DECISION_CPU_MS = 2;
const OVER_BUDGET = Symbol('over the synchronous budget');

interface KeptContext {
  context: ivm.Context;
  api: ivm.Reference<Record<string, unknown>>;
  /** `api.decideBound`, fetched once. */
  fn: ivm.Reference<(...a: unknown[]) => unknown>;
  /** What the context has bound: the columns (by identity; null when they were not on shared buffers), the params (JSON). */
  cols: Float64Array[] | null;
  /** Their length when bound. */
  length: number;
  params: string | null;
  /** Where `decideBound` writes a packed decision's size, stop-loss and take-profit (shared with the isolate). */
  out: Float64Array;
  /** A decision ran on it (it is warm). */
  decided: boolean;
}

/** The runtime's reasons ([English, key] by index) and actions by number, for packed decisions (read once per process). */
interface DecisionTables {
  whys: [string, string][];
  actions: Action[];
}
let decisionTables: DecisionTables | null = null;

/**
 * `decideBound`'s answer as a Decision: past the warm-up it comes packed (no object copied out of
 * the isolate): action * 64 + the reason's index, size / stop-loss / take-profit in `out` (NaN for
 * null); a warm-up answer comes as the object itself.
 */
function unpackDecision(r: unknown, out: Float64Array): Decision {
  if (typeof r !== 'number') return r as Decision;
  const [reason, reasonKey] = decisionTables!.whys[r % 64]!;
  const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
  return { action: decisionTables!.actions[Math.floor(r / 64)]!, size: orNull(out[0]!), stopLoss: orNull(out[1]!), takeProfit: orNull(out[2]!), reason, reasonKey, reasonParams: {} };
}

/** A kept decision's state as `decideBound` takes it: side 0 flat, 1 long, -1 short. */
interface KeptState {
  side: number;
  amount: number;
  entryPrice: number;
  balance: number;
}

function syntaxError(e: unknown, compiled: CompiledStrategy): AppError {
  const msg = e instanceof Error ? e.message : String(e);
  const m = STRATEGY_FRAME.exec(msg) ?? STRATEGY_FRAME.exec(e instanceof Error ? (e.stack ?? '') : '');
  const pos = m ? mapToSource(compiled.js, Number(m[1]), Number(m[2])) : { line: null, column: null };
  const reason = msg.replace(/ \[strategy\.js:\d+:\d+\]$/, '');
  return new AppError('strategy_error', pos.line === null ? 'errors.kernel.syntaxError' : 'errors.kernel.syntaxErrorLine', { reason, line: pos.line }, { line: pos.line, column: pos.column, phase: 'load' });
}
