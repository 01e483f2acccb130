import { z } from 'zod';
import { Id, method } from './define';

/**
 * Paper trading's road to live (electron/bot/gate.ts) and live versus backtest
 * (electron/bot/compare.ts), on each activation.
 */

export const GateStepKey = z.enum(['code', 'backtest', 'lookahead', 'paper']);
export const GateStep = z.object({
  key: GateStepKey,
  title: z.string(),
  ok: z.boolean(),
  detail: z.string(),
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

export const roadMethods = {
  'bot.gate': method({
    input: z.object({ id: Id }).strict(),
    output: GateResult,
    auth: 'profile',
    description:
      "The activation's road to live: ① the code loads, ② a backtest of this version on this symbol and timeframe exists, ③ that run's lookahead check passed (run once per backtest run), ④ a paper activation of this version ran the required time without an error. Each step with its evidence; a new version starts again.",
  }),
} as const;
