import { z } from 'zod';
import { DecimalString, Id, method } from './define';

/**
 * Statistics: P&L per book (manual, each bot activation, each webhook sender, outside the app), equity
 * over time with deposits and withdrawals apart, the backtest's trade metrics, round-trip trades.
 * Amounts are decimal strings in the profile's valuation currency (`currency`, USDT by default) unless
 * said otherwise; percentages are decimal strings too.
 */

const Iso = z.string().datetime({ offset: true });
export const PeriodName = z.enum(['today', '7d', '30d', '90d', 'year', 'all']);
/** A named period (ending now; `today` from 00:00 UTC) or a custom one. */
export const Period = z.union([
  PeriodName,
  z
    .object({ from: Iso, to: Iso })
    .strict()
    .refine((p) => Date.parse(p.to) > Date.parse(p.from), { message: 'the end of a custom period must be after its start', path: ['to'] }),
]);
export const StatsSource = z.enum(['manual', 'strategy', 'webhook', 'external', 'opening']);

const Filter = z.object({ period: Period, brokerId: Id.optional() });

/** A valuation the figures could not make (never counted as zero). */
/** `reason` in English (scripts); `reasonKey`/`reasonParams` word it in the profile's language. */
export const Missing = z.object({
  brokerId: z.string().nullable(),
  asset: z.string(),
  reason: z.string(),
  reasonKey: z.string().optional(),
  reasonParams: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});

export const Figures = z.object({
  trades: z.number().int(),
  wins: z.number().int(),
  losses: z.number().int(),
  realisedPnl: DecimalString,
  /** Fees paid in the quote or base currency (valued), entry and exit of the trades closed. */
  fees: DecimalString,
  /** Trades with P&L > 0, × 100 / trades (the backtest's definition); null without trades. */
  winRatePct: DecimalString.nullable(),
  /** Σ winning trade returns / |Σ losing trade returns| (returns in %, as the backtest); null without losses. */
  profitFactor: DecimalString.nullable(),
  avgWin: DecimalString.nullable(),
  avgLoss: DecimalString.nullable(),
  avgWinPct: DecimalString.nullable(),
  avgLossPct: DecimalString.nullable(),
  bestTrade: DecimalString.nullable(),
  worstTrade: DecimalString.nullable(),
  bestTradePct: DecimalString.nullable(),
  worstTradePct: DecimalString.nullable(),
  /** P&L of the lots still open at the latest snapshot's prices; null when none could be priced. */
  unrealisedPnl: DecimalString.nullable(),
});

export const Summary = Figures.extend({
  currency: z.string(),
  from: z.string().nullable(),
  to: z.string(),
  /** Equity (sum of the brokers' last snapshots) at the start and the end of the period. */
  equityStart: DecimalString.nullable(),
  equityEnd: DecimalString.nullable(),
  /** Deposits − withdrawals within the period (valued when found). */
  netFlows: DecimalString,
  /** equityEnd − equityStart − netFlows: what the accounts made, deposits not counted. */
  equityPnl: DecimalString.nullable(),
  /** Time-weighted return of the equity (deposits neutral), %. */
  returnPct: DecimalString.nullable(),
  /** Deepest fall of the (deposit-neutral) equity from its running peak, %, ≤ 0. */
  maxDrawdownPct: DecimalString.nullable(),
  /** Fees paid in a third currency (e.g. BNB), not in the P&L: per currency. */
  otherFees: z.array(z.object({ currency: z.string(), amount: DecimalString })),
  /** Units sold that no known lot covered (counted at their sale price: no P&L). */
  unmatchedTrades: z.number().int(),
  missing: z.array(Missing),
  snapshotAt: z.string().nullable(),
});

export const BreakdownRow = Figures.extend({ key: z.string(), source: StatsSource.nullable(), label: z.string() });
export const Breakdown = z.object({ currency: z.string(), rows: z.array(BreakdownRow), total: Figures, missing: z.array(Missing) });

export const EquityPoint = z.object({ time: z.string(), value: DecimalString, flows: DecimalString });
export const Equity = z.object({
  currency: z.string(),
  interval: z.enum(['hour', 'day', 'week']),
  total: z.array(EquityPoint),
  brokers: z.array(z.object({ brokerId: z.string(), name: z.string(), points: z.array(EquityPoint) })),
  flows: z.array(z.object({ time: z.string(), brokerId: z.string(), asset: z.string(), amount: DecimalString, value: DecimalString.nullable(), origin: z.enum(['balance', 'exchange']) })),
  /** Realised P&L per UTC day. */
  daily: z.array(z.object({ day: z.string(), pnl: DecimalString, trades: z.number().int() })),
  missing: z.array(Missing),
});

export const StatsTrade = z.object({
  id: z.string(),
  brokerId: z.string(),
  symbol: z.string(),
  quote: z.string(),
  source: StatsSource,
  book: z.string(),
  label: z.string(),
  openedAt: z.string(),
  closedAt: z.string(),
  amount: DecimalString,
  entryPrice: DecimalString,
  exitPrice: DecimalString,
  /** In the market's quote currency. */
  fees: DecimalString,
  pnl: DecimalString,
  pnlPct: DecimalString.nullable(),
  /** P&L in the valuation currency; null when the quote currency could not be converted. */
  pnlValue: DecimalString.nullable(),
  fromOpening: DecimalString,
  unmatched: DecimalString,
});

export const statsMethods = {
  'stats.settings': method({
    input: z.object({}).strict().optional(),
    output: z.object({ currency: z.string(), suggestions: z.array(z.string()) }),
    auth: 'profile',
    description: "The profile's valuation currency (USDT by default), and currencies to offer: the quote currencies of its brokers' markets, the most used first.",
  }),
  'stats.setCurrency': method({
    input: z.object({ currency: z.string().min(1).max(20) }).strict(),
    output: z.object({ currency: z.string() }),
    auth: 'profile',
    description: 'Change the valuation currency (a currency some exchange market lists; unknown → invalid_input). Snapshots from then on are valued in it.',
  }),
  'stats.summary': method({ input: Filter.strict(), output: Summary, auth: 'profile', description: 'P&L, fees, trade metrics (the backtest definitions), equity change net of deposits, max drawdown over the period.' }),
  'stats.equity': method({
    input: Filter.extend({ interval: z.enum(['hour', 'day', 'week']).default('day') }).strict(),
    output: Equity,
    auth: 'profile',
    description: 'Equity over time per broker and in total (the last snapshot of each interval), deposits/withdrawals, realised P&L per day.',
  }),
  'stats.bySource': method({ input: Filter.strict(), output: Breakdown, auth: 'profile', description: 'The figures per book: manual, each bot activation, each webhook sender, outside the app.' }),
  'stats.bySymbol': method({ input: Filter.strict(), output: Breakdown, auth: 'profile', description: 'The figures per market.' }),
  'stats.trades': method({
    input: Filter.extend({ source: z.string().max(200).optional(), symbol: z.string().max(40).optional(), limit: z.number().int().min(1).max(10_000).default(2000) }).strict(),
    output: z.object({ currency: z.string(), trades: z.array(StatsTrade), total: z.number().int() }),
    auth: 'profile',
    description: 'Round-trip trades closed in the period, newest first. `source`: a source (manual, strategy, webhook, external) or a book key (e.g. "webhook:tv-alpha").',
  }),
  'stats.export': method({ input: Filter.strict(), output: z.object({ filename: z.string(), csv: z.string() }), auth: 'profile', description: 'The round-trip trades of the period as CSV text.' }),
  'stats.snapshot': method({ input: z.object({ brokerId: Id }).strict(), output: z.object({ takenAt: z.string(), value: DecimalString, missing: z.array(z.string()) }), auth: 'profile', description: "Take an equity snapshot of the broker now (the app takes them hourly and after every fill)." }),
} as const;

export const statsEvents = {} as const;
