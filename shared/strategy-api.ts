/**
 * THE Strategy API, declared once. This text is the `'aristobot'` module as strategy authors see it:
 * the core's validator type-checks strategy code against it (electron/strategies/), the editor
 * (Monaco) is given it for completion, hover docs and inline errors, and the AI assistant's system
 * prompt carries it. The runtime behind it (the sandbox's `Strategy` base class, `ta.*`, the decision
 * rule) lives in electron/kernel/ and must keep to exactly these names.
 *
 * A strategy is a module that imports only from 'aristobot' and default-exports a class extending
 * `Strategy`. The engine calls `init()` once over whole columns (a backtest: the whole range; live: a
 * window of recent candles), then the decisions on each closed candle `i`:
 *
 *  - flat  → `shouldLong()` opens a long; else `shouldShort()` opens a short where shorting is allowed;
 *  - long  → `shouldShort()` or `shouldExit()` closes it; `shouldShort()` then opens a short where
 *            shorting is allowed (a reversal);
 *  - short → the mirror image (`shouldLong()` or `shouldExit()` closes; `shouldLong()` reverses).
 *
 * One position at a time per strategy run. The size of a new position is `calculatePositionSize()`
 * × `this.balance` (in the quote currency), rounded down to the market's amount step.
 */
export const STRATEGY_API_DTS = `declare module 'aristobot' {
  /** One declared parameter: a number the user can set (a form field, the optimiser's search space). */
  export interface ParamSpec {
    /** The value used when none is given. */
    default: number;
    min?: number;
    max?: number;
    /** Granularity of the value (the optimiser steps by it). */
    step?: number;
    /** What the form shows. */
    label?: string;
    description?: string;
  }

  /** The open position of this strategy run, or null when flat. */
  export interface Position {
    side: 'long' | 'short';
    /** In the base currency (e.g. BTC). */
    amount: number;
    /** Average entry price, in the quote currency. */
    entryPrice: number;
  }

  /**
   * The base class of every strategy. The engine sets the columns, \`i\`, \`balance\`, \`position\` and
   * \`params\` before each call; a strategy reads them and answers.
   */
  export abstract class Strategy {
    /** Declared parameters, e.g. \`{ fast: { default: 10, min: 2, max: 100, step: 1, label: 'Fast SMA' } }\`. */
    static params: Record<string, ParamSpec>;
    /** Candles needed before the first decision (default 200). */
    static warmup: number;

    /** This run's parameter values, by name (the declared defaults unless the user set them). */
    readonly params: Record<string, number>;

    /** Opening prices, one per candle, oldest first. */
    readonly open: Float64Array;
    /** Highest prices. */
    readonly high: Float64Array;
    /** Lowest prices. */
    readonly low: Float64Array;
    /** Closing prices. */
    readonly close: Float64Array;
    /** Volumes, in the base currency. */
    readonly volume: Float64Array;
    /** Opening time of each candle, epoch milliseconds (UTC). */
    readonly time: Float64Array;
    /** Index of the candle that just closed: the one being decided on. */
    readonly i: number;
    /** What the strategy may use, in the quote currency (e.g. USDT). */
    readonly balance: number;
    /** The open position, or null when flat. */
    readonly position: Position | null;

    /** Called once, before any decision: compute indicators over whole columns here. */
    init(): void;
    /** Open a long (when flat), or close a short and reverse to long. */
    abstract shouldLong(): boolean;
    /** Open a short (when flat, where shorting is allowed), or close a long (and reverse where allowed). */
    abstract shouldShort(): boolean;
    /** Close the open position without reversing. Optional: never exits by default. */
    shouldExit(): boolean;
    /** Fraction of \`balance\` (0–1) a new position uses. Default 1. */
    calculatePositionSize(): number;
    /** Stop-loss as a fraction of the entry price (0.02 = 2% away), or null for none. Default null. */
    calculateStopLoss(): number | null;
    /** Take-profit as a fraction of the entry price, or null for none. Default null. */
    calculateTakeProfit(): number | null;

    /** True when \`a\` crosses above \`b\` on this candle: \`a[i-1] < b[i-1] && a[i] > b[i]\`. */
    crossover(a: ArrayLike<number>, b: ArrayLike<number>): boolean;
    /** True when \`a\` crosses below \`b\` on this candle: \`a[i-1] > b[i-1] && a[i] < b[i]\`. */
    crossunder(a: ArrayLike<number>, b: ArrayLike<number>): boolean;
  }

  /** MACD lines, each aligned with the input. */
  export interface Macd { macd: Float64Array; signal: Float64Array; histogram: Float64Array }
  /** Bollinger bands, each aligned with the input. */
  export interface Bands { upper: Float64Array; middle: Float64Array; lower: Float64Array }
  /** Stochastic oscillator lines, each aligned with the input. */
  export interface Stoch { k: Float64Array; d: Float64Array }

  /**
   * Technical indicators over whole columns. Each returns arrays as long as the input and aligned
   * with it (index i is the value at candle i), NaN while warming up.
   */
  export const ta: {
    /** Simple moving average of the last \`period\` values. */
    sma(values: ArrayLike<number>, period: number): Float64Array;
    /** Exponential moving average (alpha = 2 / (period + 1), seeded with the SMA of the first \`period\` values). */
    ema(values: ArrayLike<number>, period: number): Float64Array;
    /** Relative strength index (Wilder's smoothing), 0–100; period 14 by default. */
    rsi(values: ArrayLike<number>, period: number): Float64Array;
    /**
     * MACD (defaults 12, 26, 9): EMA(fast) − EMA(slow), its signal line (EMA of MACD) and the
     * histogram (MACD − signal). As Tulip Indicators: these EMAs are seeded with the first value and
     * the lines start at candle slow − 1.
     */
    macd(values: ArrayLike<number>, fast?: number, slow?: number, signal?: number): Macd;
    /** Bollinger bands: SMA ± \`stdDev\` population standard deviations (defaults 20, 2). */
    bbands(values: ArrayLike<number>, period?: number, stdDev?: number): Bands;
    /** Average true range (Wilder's smoothing; period 14 by default; the first value is the mean of the first \`period\` true ranges). */
    atr(high: ArrayLike<number>, low: ArrayLike<number>, close: ArrayLike<number>, period?: number): Float64Array;
    /** Stochastic oscillator: %K over \`kPeriod\` candles smoothed by \`kSmooth\`, %D its SMA over \`dPeriod\` (defaults 14, 3, 3). */
    stoch(high: ArrayLike<number>, low: ArrayLike<number>, close: ArrayLike<number>, kPeriod?: number, kSmooth?: number, dPeriod?: number): Stoch;
    /** Volume-weighted average price over a rolling window of \`period\` candles (typical price × volume; period 20 by default). */
    vwap(high: ArrayLike<number>, low: ArrayLike<number>, close: ArrayLike<number>, volume: ArrayLike<number>, period?: number): Float64Array;
  };
}
`;
