/**
 * The strategy kernel's interface: ONE piece of code that runs a strategy (the Strategy API of
 * shared/strategy-api.ts) inside the sandbox with the one decision rule. The backtester drives it
 * over stored candles (`backtest`), the bot drives it on each heartbeat signal (`decide`) — never
 * two copies of the rule. Implemented in electron/kernel/ (sandbox.ts and the in-sandbox runtime).
 *
 * Numbers inside the kernel are float64 (a backtest must run ≥ 14 M candles/s); real orders go
 * through the order service with Decimal amounts.
 */

/** A strategy as transpiled once per save by electron/strategies/transpile.ts (CommonJS text). */
export interface CompiledStrategy {
  /** `transpileStrategy(source)` output: CommonJS that `require('aristobot')` and sets `exports.default`. */
  js: string;
}

/** Candles as columns, oldest first; all of one length. `time` is the open time, epoch ms. */
export interface Columns {
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export interface ParamSpec {
  default: number;
  min?: number;
  max?: number;
  step?: number;
  label?: string;
  description?: string;
}

/** What loading a strategy into the sandbox tells about it. */
export interface StrategyInfo {
  params: Record<string, ParamSpec>;
  warmup: number;
}

export type Side = 'long' | 'short';

export interface KernelPosition {
  side: Side;
  amount: number;
  entryPrice: number;
}

/** The decision rule's answer on one closed candle. */
export type Action = 'none' | 'open_long' | 'open_short' | 'close' | 'reverse_to_long' | 'reverse_to_short';

export interface Decision {
  action: Action;
  /** For opening actions: `calculatePositionSize()` clamped to 0–1. */
  size: number | null;
  /** For opening actions: `calculateStopLoss()` / `calculateTakeProfit()` (fractions of the entry price) or null. */
  stopLoss: number | null;
  takeProfit: number | null;
  /** Which calls decided, e.g. "shouldLong()" or "shouldExit()" or "warm-up (needs 200 candles)". */
  reason: string;
  /** `reason`'s catalogue key and parameters (shared/i18n/en/coreBot.ts `why`), worded in the profile's language. */
  reasonKey?: string;
  reasonParams?: Record<string, number>;
}

/** Settings of a simulated run (the backtest's semantics; see the README). */
export interface SimConfig {
  initialBalance: number;
  /** Fractions (0.001 = 0.1%) charged on every fill's notional: limit-like fills pay maker, market fills taker. */
  fees: { maker: number; taker: number };
  /** Against the trader on every market fill, in basis points. */
  slippageBps: number;
  /** 'open' (default): decisions fill at the next candle's open; 'close': at the decision candle's close. */
  fillAt: 'open' | 'close';
  allowShort: boolean;
  /** Amounts are rounded down to a multiple of this (the market's step); 0 = no rounding. */
  amountStep: number;
  /** Smallest amount an order may have (the market's minimum); 0 = none. */
  minAmount: number;
  /**
   * An open position at the end is closed on the last candle's close (taker fee and slippage,
   * exitReason 'end'): default true. false leaves it open, the final equity marked to market at
   * the last close (backtesting.py ≥ 0.6's default, used by the exactness test).
   */
  closeAtEnd?: boolean;
  /**
   * 'per_fill' (default): each fill pays its fee in cash (market fills taker, take-profit maker).
   * 'entry_price': the taker fee is folded into the entry price (a long buys at price × (1 + fee),
   * a short sells at price × (1 − fee)) and exits pay none — backtesting.py before 0.4, whose
   * published README figures the exactness test reproduces.
   */
  feeModel?: 'per_fill' | 'entry_price';
}

/** What `decide` needs of the run's settings. */
export type DecideConfig = Pick<SimConfig, 'allowShort'>;

/** The live state a decision is taken in (the activation's own book). */
export interface DecideState {
  position: KernelPosition | null;
  /** What the strategy may use, in the quote currency (`this.balance`). */
  balance: number;
}

/** The sandbox's limits (per strategy isolate). */
export interface KernelLimits {
  /** The isolate's heap limit, MB (columns passed in count against it). */
  memoryMb: number;
  /** CPU-time limit of one call: loading the module, init(), one decision. */
  callTimeoutMs: number;
  /** CPU-time limit of a whole backtest loop. */
  runTimeoutMs: number;
  /** The live bot's kept decisions: the most a cheap one may hold the calling thread (sandbox.ts decideKept; 0 = never on it). Default 100. */
  syncDecisionMs?: number;
}

export type ExitReason = 'signal' | 'reverse' | 'stop_loss' | 'take_profit' | 'end';

export interface SimTrade {
  side: Side;
  entryIndex: number;
  exitIndex: number;
  entryTime: number;
  exitTime: number;
  entryPrice: number;
  exitPrice: number;
  amount: number;
  /** Entry fee + exit fee, in the quote currency. */
  fees: number;
  /** Net of fees, in the quote currency. */
  pnl: number;
  /** pnl / (entryPrice × amount) × 100. */
  pnlPct: number;
  /** Cash after the exit. */
  balanceAfter: number;
  exitReason: ExitReason;
  stopLoss: number | null;
  takeProfit: number | null;
}

export interface SimResult {
  trades: SimTrade[];
  /** Equity marked to market at every candle's close (same length as the columns; backed by a SharedArrayBuffer the loop wrote into). */
  equity: Float64Array;
  /** Per candle: 1 long, -1 short, 0 flat (for exposure). */
  exposure: Int8Array;
  finalEquity: number;
  /** Index of the first candle a decision was taken on (after warm-up). */
  firstDecisionIndex: number;
  /** Every non-'none' decision, with the candle it was taken on (the lookahead check compares them). */
  decisions: { index: number; action: Action }[];
  /** Opening decisions refused because the amount rounded below the step or minAmount. */
  refused?: number;
}

export interface RunOptions {
  /** Called a few times a second at most, 0–100. */
  onProgress?: (percent: number) => void;
  signal?: AbortSignal;
  /** Overrides the kernel's run limit (ms) for this run. */
  timeoutMs?: number;
}
