/**
 * The strategy kernel: one code path that runs a strategy in the sandbox with the one decision
 * rule — the backtester calls `backtest`, the bot calls `decide`. See docs/ARCHITECTURE.md
 * ("Strategy kernel") and types.ts.
 */
import { shareColumns, sharedBytes, sharedColumns } from './columns';
import { DEFAULT_LIMITS, ScratchPool, StrategySandbox, checkSimConfig } from './sandbox';
import type { Columns, CompiledStrategy, Decision, DecideConfig, DecideState, KernelLimits, RunOptions, SimConfig, SimResult, StrategyInfo } from './types';

export * from './types';
export { StrategySandbox, ScratchPool, DEFAULT_LIMITS, checkSimConfig, shareColumns, sharedColumns };

/**
 * What the kernel's scratch pool keeps when idle besides the reserve: the largest buffers, up to
 * 384 MB (a 10 M-candle run's scratch, equity and exposure: ~330 MB). A session's later backtests,
 * however long after, then run on warm memory up to the largest size run so far.
 */
export const IDLE_KEEP_BYTES = 384 * 2 ** 20;

/**
 * Owns the sandboxes it creates (one isolate per load: a backtest run or a bot activation) so the
 * app can dispose them all at shutdown.
 */
export class Kernel {
  private readonly limits: KernelLimits;
  private readonly live = new Set<StrategySandbox>();
  /** Memory lent from one backtest to the next (see ScratchPool); idle, it keeps up to IDLE_KEEP_BYTES of the largest runs' buffers. */
  readonly scratch = new ScratchPool(undefined, undefined, IDLE_KEEP_BYTES);
  /** Results of `backtest` whose equity and exposure buffers `recycle` may take back. */
  private readonly issued = new WeakMap<SimResult, SharedArrayBuffer[]>();

  constructor(limits: Partial<KernelLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** A strategy in its own isolate, for repeated use (a bot activation). Dispose it when done. */
  async load(compiled: CompiledStrategy, limits: Partial<KernelLimits> = {}): Promise<StrategySandbox> {
    const sb = await StrategySandbox.load(compiled, { ...this.limits, ...limits });
    this.live.add(sb);
    const dispose = sb.dispose.bind(sb);
    sb.dispose = () => {
      this.live.delete(sb);
      dispose();
    };
    return sb;
  }

  /** `static params` and `static warmup`, read in a throwaway isolate. */
  async info(compiled: CompiledStrategy): Promise<StrategyInfo> {
    const sb = await this.load(compiled);
    try {
      return sb.info;
    } finally {
      sb.dispose();
    }
  }

  /**
   * One backtest in its own isolate, disposed after. The heap limit grows with the data: at least
   * 32 MB + the shared columns' buffers + 3× the columns' bytes (the strategy's own copies of the
   * columns it reads, the equity curve and a few indicator arrays) + the scratch buffers lent.
   */
  async backtest(compiled: CompiledStrategy, params: Record<string, number> | undefined, columns: Columns, config: SimConfig, opts: RunOptions = {}, limits: Partial<KernelLimits> = {}): Promise<SimResult> {
    checkSimConfig(config);
    const base = limits.memoryMb ?? this.limits.memoryMb;
    const n = columns.close.length;
    // pooled buffers may be larger than the run needs (ScratchPool.FIT): the limit counts their real size
    const lent = this.scratch.lend(n * 8);
    const equity = this.scratch.take(n * 8);
    const exposure = this.scratch.take(n);
    const lentBytes = [...lent, equity, exposure].reduce((s, b) => s + b.byteLength, 0) - n * 9;
    const memoryMb = Math.max(base, 32 + Math.ceil((sharedBytes(columns) + n * 8 * 6 * 3) / 2 ** 20)) + Math.ceil(lentBytes / 2 ** 20);
    let sb: StrategySandbox | undefined;
    try {
      sb = await this.load(compiled, { ...limits, memoryMb });
      const result = await sb.backtest(params, columns, config, opts, { pool: this.scratch, lent, equity, exposure });
      this.issued.set(result, [equity, exposure]);
      return result;
    } catch (e) {
      this.scratch.forget([...lent, equity, exposure]);
      throw e;
    } finally {
      sb?.dispose();
    }
  }

  /**
   * Memory made ready now for backtests of up to `candles` candles (ScratchPool.reserve: `buffers`
   * float64 columns — the strategy's column copies and indicators, and the equity curve — and one
   * exposure column), kept for the kernel's life: the first backtest of a session runs on warm
   * memory. ~(8 × buffers + 1) bytes a candle. BacktestService.start calls it.
   */
  reserve(candles: number, buffers = 4): void {
    if (!(Number.isSafeInteger(candles) && candles > 0)) return;
    this.scratch.reserve(candles * 8, buffers);
    this.scratch.reserve(candles, 1);
  }

  /**
   * The caller is done with a result of `backtest` (its metrics computed, its curve downsampled):
   * its equity and exposure buffers go to the scratch pool for the next run, whose loop writes them
   * anew — on this VM writing 90 MB of fresh pages (10 M candles) cost more than the loop itself.
   * The result's `equity` and `exposure` become empty arrays; a view kept on them elsewhere would
   * see the next run's values, so call it only once nothing reads them. A result not from this
   * kernel, or recycled already, is left alone.
   */
  recycle(result: SimResult): void {
    const buffers = this.issued.get(result);
    if (!buffers) return;
    this.issued.delete(result);
    result.equity = new Float64Array(0);
    result.exposure = new Int8Array(0);
    this.scratch.give(buffers);
  }

  /** One decision in its own isolate (a bot keeps a loaded sandbox instead: `load().decide`). */
  async decide(compiled: CompiledStrategy, params: Record<string, number> | undefined, window: Columns, state: DecideState, config: DecideConfig): Promise<Decision> {
    const sb = await this.load(compiled);
    try {
      return await sb.decide(params, window, state, config);
    } finally {
      sb.dispose();
    }
  }

  /** Disposes every sandbox still alive (runs in progress end with an error). */
  dispose(): void {
    for (const sb of [...this.live]) sb.dispose();
    this.scratch.clear();
  }
}

const shared = new Kernel();

/** A backtest with the default limits (see Kernel.backtest). */
export function backtest(compiled: CompiledStrategy, params: Record<string, number> | undefined, columns: Columns, config: SimConfig, opts: RunOptions = {}): Promise<SimResult> {
  return shared.backtest(compiled, params, columns, config, opts);
}

/** A live decision with the default limits (see Kernel.decide). */
export function decide(compiled: CompiledStrategy, params: Record<string, number> | undefined, window: Columns, state: DecideState, config: DecideConfig): Promise<Decision> {
  return shared.decide(compiled, params, window, state, config);
}

/** `static params` / `static warmup` with the default limits. */
export function strategyInfo(compiled: CompiledStrategy): Promise<StrategyInfo> {
  return shared.info(compiled);
}
