import { z } from 'zod';
import { DecimalString, Id, method, NoInput, Ok } from './define';
import { BACKTEST_TIMEFRAMES } from '../backtest-timeframes';

/** The backtester's part of the API contract (electron/backtest/). */

const Symbol_ = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9.-]{1,20}\/[A-Z0-9.-]{1,20}(:[A-Z0-9]{1,20})?$/, 'expected a symbol such as "BTC/USDT"');
export const BacktestTimeframeSchema = z.enum(BACKTEST_TIMEFRAMES);
const Ms = z.number().int().nonnegative();
const Fraction = z.number().min(0, 'fees must be between 0 and 1').max(1, 'fees must be between 0 and 1');
/** A data-set name (an imported CSV) or an exchange id whose stored candles are used. */
const DataSetName = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^[a-zA-Z0-9_.-]+$/, 'letters, digits, "_", "-" and "." only');

const ParamValues = z.record(z.string(), z.number().finite());

const RunFields = {
  strategyId: z.string().min(1).max(100),
  version: z.number().int().positive().optional(),
  params: ParamValues.optional(),
  /** A broker: its exchange's candles (downloaded when missing), fees and amount step are used. */
  brokerId: Id.optional(),
  /** Or stored candles under this name: an imported data set, or an exchange's stored candles. */
  exchange: DataSetName.optional(),
  symbol: Symbol_,
  timeframe: BacktestTimeframeSchema,
  /** Open time ≥ from, < to (epoch ms). */
  from: Ms,
  to: Ms,
  initialBalance: DecimalString,
  fees: z.object({ maker: Fraction, taker: Fraction }).strict().optional(),
  slippageBps: z.number().min(0).max(10_000).optional(),
  fillAt: z.enum(['open', 'close']).optional(),
  allowShort: z.boolean().optional(),
  amountStep: z.number().min(0).optional(),
};

function checkRun<T extends { brokerId?: string; exchange?: string; from: number; to: number; initialBalance: string }>(v: T, ctx: z.RefinementCtx): void {
  if (!v.brokerId === !v.exchange) ctx.addIssue({ code: 'custom', path: ['brokerId'], message: 'give either brokerId (a broker) or exchange (stored candles or an imported data set)' });
  if (v.to <= v.from) ctx.addIssue({ code: 'custom', path: ['to'], message: v.to === v.from ? 'the date range is empty' : 'the date range is inverted (to is before from)' });
  if (!(Number(v.initialBalance) > 0)) ctx.addIssue({ code: 'custom', path: ['initialBalance'], message: 'the starting balance must be greater than zero' });
}

export const BacktestRunInput = z.object(RunFields).strict().superRefine(checkRun);

export const GridSchema = z.record(z.string(), z.array(z.number().finite()).min(1).max(500));
export const BacktestOptimiseInput = z
  .object({
    ...RunFields,
    grid: GridSchema,
    /** Rank by this metric (higher is better, except maxDrawdownPct: closer to 0 is better). */
    rankBy: z.string().default('returnPct'),
    /** The last part of the range held out: ranked on [from, holdout), shown on [holdout, to). */
    holdout: Ms.optional(),
  })
  .strict()
  .superRefine(checkRun);

export const BacktestStatus = z.enum(['running', 'done', 'cancelled', 'failed']);

const Nullable = z.number().nullable();
export const MetricsSchema = z.object({
  finalEquity: z.number(),
  returnPct: z.number(),
  buyHoldReturnPct: z.number(),
  annualReturnPct: Nullable,
  annualVolatilityPct: Nullable,
  sharpe: Nullable,
  sortino: Nullable,
  calmar: Nullable,
  maxDrawdownPct: z.number(),
  maxDrawdownDuration: Nullable,
  tradeCount: z.number(),
  winRatePct: Nullable,
  bestTradePct: Nullable,
  worstTradePct: Nullable,
  avgWinPct: Nullable,
  avgLossPct: Nullable,
  profitFactor: Nullable,
  expectancy: Nullable,
  exposurePct: z.number(),
  totalFees: z.number(),
});

export const TradeSchema = z.object({
  side: z.enum(['long', 'short']),
  entryTime: Ms,
  exitTime: Ms,
  entryPrice: z.number(),
  exitPrice: z.number(),
  amount: z.number(),
  fees: z.number(),
  pnl: z.number(),
  pnlPct: z.number(),
  balanceAfter: z.number(),
  exitReason: z.enum(['signal', 'reverse', 'stop_loss', 'take_profit', 'end']),
});

/** Downsampled for display: at most a few thousand points. */
export const EquitySchema = z.object({
  time: z.array(z.number()),
  equity: z.array(z.number()),
  buyHold: z.array(z.number()),
  /** The candles, merged into as many bars as points (open first, high max, low min, close last). */
  open: z.array(z.number()),
  high: z.array(z.number()),
  low: z.array(z.number()),
  close: z.array(z.number()),
});

/** A core text's parameters: strings, numbers, or nested {key, params} messages. */
const CoreParams = z.record(z.string(), z.unknown());

export const OptimiseRow = z.object({
  params: ParamValues,
  metrics: MetricsSchema.nullable(),
  /** The same parameters on the held-out period, when one was given. */
  holdout: MetricsSchema.nullable(),
  error: z.string().nullable(),
  /** `error` as a catalogue key and parameters (worded in the profile's language); absent on older rows. */
  errorKey: z.string().nullable().optional(),
  errorParams: CoreParams.nullable().optional(),
});

export const BacktestInputs = z.record(z.string(), z.unknown());

export const BacktestRunSummary = z.object({
  runId: Id,
  kind: z.enum(['run', 'optimise']),
  status: BacktestStatus,
  strategyId: z.string(),
  strategyName: z.string().nullable(),
  version: z.number().int(),
  params: ParamValues,
  exchange: z.string(),
  symbol: z.string(),
  timeframe: z.string(),
  from: Ms,
  to: Ms,
  initialBalance: DecimalString,
  candles: z.number().int().nullable(),
  returnPct: z.number().nullable(),
  tradeCount: z.number().int().nullable(),
  /** Why the run failed, in English (scripts); `errorKey`/`errorParams` word it (null on older rows). */
  error: z.string().nullable(),
  errorKey: z.string().nullable().optional(),
  errorParams: CoreParams.nullable().optional(),
  createdAt: z.string(),
  durationMs: z.number().int().nullable(),
});

export const BacktestRunDetail = BacktestRunSummary.extend({
  inputs: BacktestInputs,
  metrics: MetricsSchema.nullable(),
  trades: z.array(TradeSchema),
  equity: EquitySchema.nullable(),
  results: z.array(OptimiseRow).nullable(),
  errorLine: z.number().int().nullable(),
});

export const LookaheadResult = z.object({
  ok: z.boolean(),
  /** Truncated runs compared with the full one. */
  checked: z.number().int(),
  differences: z.array(z.object({ index: z.number().int(), time: Ms, truncatedAt: z.number().int(), full: z.string(), truncated: z.string() })),
});

export const CandlesImportInput = z
  .object({
    exchange: DataSetName,
    symbol: Symbol_,
    timeframe: BacktestTimeframeSchema,
    csv: z.string().max(200_000_000),
  })
  .strict();

export const backtestMethods = {
  'backtests.run': method({ input: BacktestRunInput, output: z.object({ runId: Id }), auth: 'profile', description: 'Start a backtest (one per profile at a time); progress and the end come as events.' }),
  'backtests.cancel': method({ input: z.object({ runId: Id }).strict(), output: Ok, auth: 'profile', description: 'Cancel a running backtest or optimisation (downloaded candles are kept).' }),
  'backtests.get': method({ input: z.object({ runId: Id }).strict(), output: BacktestRunDetail, auth: 'profile', description: 'A run with its inputs, metrics, trades and equity curve.' }),
  'backtests.list': method({ input: NoInput, output: z.array(BacktestRunSummary), auth: 'profile', description: 'Past runs, newest first.' }),
  'backtests.delete': method({ input: z.object({ runId: Id }).strict(), output: Ok, auth: 'profile', description: 'Delete a finished run.' }),
  'backtests.lookahead': method({ input: BacktestRunInput, output: LookaheadResult, auth: 'profile', description: 'Run on the full range and on ranges cut at sampled candles; report every decision that differs (a strategy reading the future).' }),
  'backtests.optimise': method({ input: BacktestOptimiseInput, output: z.object({ runId: Id, combinations: z.number().int() }), auth: 'profile', description: 'Grid search over declared params (≤ 500 combinations), ranked by a metric; results in backtests.get.' }),
  'candles.import': method({ input: CandlesImportInput, output: z.object({ rows: z.number().int(), from: Ms, to: Ms }), auth: 'profile', description: 'Import a CSV of candles as a named data set (all rows or none).' }),
  'backtests.strategies': method({ input: NoInput, output: z.array(z.object({ strategyId: z.string(), name: z.string(), version: z.number().int(), params: z.record(z.string(), z.object({ default: z.number(), min: z.number().optional(), max: z.number().optional(), step: z.number().optional(), label: z.string().optional(), description: z.string().optional() })), warmup: z.number() })), auth: 'profile', description: 'Strategies a backtest can run (saved ones and the examples), with their declared params.' }),
  'candles.datasets': method({ input: NoInput, output: z.array(z.object({ exchange: z.string(), symbol: z.string(), timeframe: z.string(), count: z.number().int(), from: Ms, to: Ms })), auth: 'profile', description: 'Stored candle series usable by backtests.' }),
} as const;

export const backtestEvents = {
  'backtests.progress': z.object({ runId: Id, phase: z.enum(['download', 'compute']), percent: z.number().min(0).max(100) }),
  'backtests.done': z.object({ runId: Id, status: BacktestStatus, error: z.string().nullable(), errorKey: z.string().nullable().optional(), errorParams: CoreParams.nullable().optional() }),
} as const;

export type BacktestRunParams = z.output<typeof BacktestRunInput>;
export type BacktestOptimiseParams = z.output<typeof BacktestOptimiseInput>;
export type BacktestRunDetailDto = z.input<typeof BacktestRunDetail>;
export type BacktestRunSummaryDto = z.input<typeof BacktestRunSummary>;
export type OptimiseRowDto = z.input<typeof OptimiseRow>;
export type EquityDto = z.input<typeof EquitySchema>;
