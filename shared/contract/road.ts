import { z } from 'zod';
import { DecimalString, Id, method } from './define';
import { TextParams } from './bot';

/**
 * Paper trading's road to live (electron/bot/gate.ts) and live versus backtest
 * (electron/bot/compare.ts), on each activation.
 */

export const GateStepKey = z.enum(['code', 'backtest', 'lookahead', 'paper']);
export const GateStep = z.object({
  key: GateStepKey,
  title: z.string(),
  ok: z.boolean(),
  /** In English (scripts); the keys and params word `title` and `detail` in the profile's language. */
  detail: z.string(),
  titleKey: z.string().optional(),
  titleParams: TextParams.optional(),
  detailKey: z.string().optional(),
  detailParams: TextParams.optional(),
  /** Run ids, activation ids and dates that prove the step (null: nothing yet). */
  evidence: z
    .object({
      runId: z.string().optional(),
      activationId: z.string().optional(),
      from: z.string().optional(),
      to: z.string().optional(),
      hours: z.number().optional(),
      at: z.string().optional(),
      versionId: z.string().optional(),
    })
    .nullable(),
});
export const GateResult = z.object({
  activationId: z.string().nullable(),
  strategyId: z.string().nullable(),
  version: z.number().int(),
  /** The broker trades real money (neither paper nor testnet): bot.start enforces the gate. */
  live: z.boolean(),
  mode: z.enum(['live', 'testnet', 'paper']),
  open: z.boolean(),
  red: z.array(GateStepKey),
  steps: z.array(GateStep),
  requiredPaperHours: z.number(),
  /** The explicit override that started this activation with red steps (this version), if any. */
  override: z.object({ at: z.string(), redSteps: z.array(z.string()) }).nullable(),
});

const CompareStatus = z.enum(['matched', 'different', 'missed', 'late', 'extra', 'refused']);
const TradeSide = z.object({ entryTime: z.string(), exitTime: z.string(), entryPrice: DecimalString, exitPrice: DecimalString, amount: DecimalString, fees: DecimalString, pnl: DecimalString });
export const Comparison = z.object({
  activationId: z.string(),
  version: z.number().int(),
  symbol: z.string(),
  timeframe: z.string(),
  /** The candles the backtest ran on: the activation's first to last signal, with the warmup before. */
  candles: z.object({ from: z.string().nullable(), to: z.string().nullable(), count: z.number().int() }),
  config: z.object({ fees: z.object({ maker: z.number(), taker: z.number() }), fillAt: z.literal('close'), amountStep: z.number() }),
  decisions: z.array(z.object({ candleTime: z.string(), backtest: z.string(), live: z.string(), status: CompareStatus, lateBy: z.number().int().optional(), message: z.string().optional(), messageKey: z.string().optional(), messageParams: TextParams.optional() })),
  counts: z.record(CompareStatus, z.number().int()),
  trades: z.array(
    z.object({
      entryCandle: z.string().nullable(),
      live: TradeSide.nullable(),
      backtest: TradeSide.nullable(),
      /** live − backtest */
      gaps: z.object({ entryPrice: DecimalString, exitPrice: DecimalString, amount: DecimalString, fees: DecimalString, pnl: DecimalString }).nullable(),
    }),
  ),
  /** Closed trades' P&L; `lines` add up to `gap` (= live − backtest) exactly. */
  pnl: z.object({ live: DecimalString, backtest: DecimalString, gap: DecimalString, lines: z.array(z.object({ label: z.string(), labelKey: z.string().optional(), labelParams: TextParams.optional(), amount: DecimalString })) }),
  /** In English (scripts); `noteKey`/`noteParams` (and each line's `labelKey`, each decision's `messageKey`) word it in the profile's language. */
  note: z.string().nullable(),
  noteKey: z.string().optional(),
  noteParams: TextParams.optional(),
});

export const roadMethods = {
  'bot.compare': method({
    input: z.object({ id: Id }).strict(),
    output: Comparison,
    auth: 'profile',
    description:
      'Live versus backtest: the backtest of the same version over exactly the candles the activation decided on, beside its decisions journal and trades — matched, different, missed, late, extra and refused decisions, per-trade price and fee gaps, and the P&L gap explained line by line (the lines add up to it exactly).',
  }),
  'bot.gate': method({
    input: z.object({ id: Id }).strict(),
    output: GateResult,
    auth: 'profile',
    description:
      "The activation's road to live: ① the code loads, ② a backtest of this version on this symbol and timeframe exists, ③ that run's lookahead check passed (run once per backtest run), ④ a paper activation of this version ran the required time without an error. Each step with its evidence; a new version starts again.",
  }),
} as const;
