import { z } from 'zod';
import { DecimalString, Id, method, NoInput, Ok } from './define';
import { TIMEFRAMES } from '../timeframes';

/**
 * The trading bot: activations (a strategy version running on a broker, a symbol and a timeframe the
 * heartbeat builds, between two dates, within a budget), their books, their decisions, and the
 * engine switch.
 */

export const ActivationState = z.enum(['running', 'suspended', 'stopped', 'error']);
const PositiveDecimal = DecimalString.refine((s) => Number(s) > 0, 'the budget must be more than 0');
const Symbol = z.string().trim().min(1).max(60);
const Params = z.record(z.string(), z.number().finite());
/** ISO 8601 date-time or epoch ms. */
/** A core sentence's catalogue parameters (shared/i18n `Params`: a value may itself be a `{key, params}` message). */
export const TextParams = z.record(z.string(), z.unknown());
const When = z.union([z.string().datetime({ offset: true }), z.number().int().nonnegative()]);

export const BotPosition = z.object({
  side: z.enum(['long', 'short']),
  amount: DecimalString,
  entryPrice: DecimalString.nullable(),
  entryTime: z.string().nullable(),
  /** Prices (null: none). */
  stopLoss: DecimalString.nullable(),
  takeProfit: DecimalString.nullable(),
  /**
   * Who holds them: 'native' — protective orders at the exchange (an OCO list on Binance spot), which
   * run even while the app is closed; 'engine' — watched by the engine on every 1m candle and
   * executed at market (the exchange cannot hold them, or `ARISTOBOT_BOT_NATIVE_STOPS=0`).
   */
  protection: z.enum(['engine', 'native']),
});

export const Activation = z.object({
  id: z.string(),
  strategyId: z.string().nullable(),
  strategyName: z.string(),
  version: z.number().int(),
  params: Params,
  brokerId: z.string().nullable(),
  symbol: z.string(),
  timeframe: z.enum(TIMEFRAMES),
  from: z.string().nullable(),
  to: z.string().nullable(),
  budget: DecimalString,
  state: ActivationState,
  /** Why it is in this state, in English (scripts); `reasonKey`/`reasonParams` word it in the profile's language (null on older rows). */
  reason: z.string().nullable(),
  reasonKey: z.string().nullable().optional(),
  reasonParams: TextParams.nullable().optional(),
  position: BotPosition.nullable(),
  realisedPnl: DecimalString,
  lastDecisionAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const BotTrade = z.object({
  id: z.string(),
  side: z.enum(['long', 'short']),
  amount: DecimalString,
  entryPrice: DecimalString,
  exitPrice: DecimalString,
  entryTime: z.string(),
  exitTime: z.string(),
  fees: DecimalString,
  pnl: DecimalString,
  exitReason: z.enum(['signal', 'reverse', 'stop_loss', 'take_profit', 'sell', 'stop']),
  entryOrderId: z.string().nullable(),
  exitOrderId: z.string().nullable(),
});

export const BotDecision = z.object({
  id: z.string(),
  activationId: z.string(),
  kind: z.enum(['signal', 'stop_loss', 'take_profit', 'sell', 'stop', 'skipped', 'reconcile', 'adopt']),
  /** Open time of the candle decided on (ISO). */
  candleTime: z.string(),
  action: z.string(),
  /** In English (scripts); `reasonKey`/`reasonParams` (and `errorKey`/`errorParams`) word it in the profile's language (null on older rows). */
  reason: z.string(),
  reasonKey: z.string().nullable().optional(),
  reasonParams: TextParams.nullable().optional(),
  status: z.enum(['pending', 'done', 'error']),
  orderIds: z.array(z.string()),
  error: z.string().nullable(),
  errorKey: z.string().nullable().optional(),
  errorParams: TextParams.nullable().optional(),
  /** Milliseconds from the candle's close to the order request. */
  latencyMs: z.number().nullable(),
  createdAt: z.string(),
});

export const EngineState = z.object({
  running: z.boolean(),
  /** Activations in state running. */
  live: z.number().int().nonnegative(),
  /** Stop-loss and take-profit keep being executed while the engine is off. */
  note: z.string(),
  noteKey: z.string().optional(),
});

const CreateInput = z
  .object({
    strategyId: Id,
    version: z.number().int().min(1).optional(),
    params: Params.optional(),
    brokerId: Id,
    symbol: Symbol,
    timeframe: z.enum(TIMEFRAMES),
    from: When.optional(),
    to: When.optional(),
    budget: PositiveDecimal,
    /** The explicit confirmation that starts a live activation whose road to live has red steps (recorded). */
    override: z.literal(true).optional(),
  })
  .strict();

export const botMethods = {
  'bot.list': method({ input: NoInput, output: z.array(Activation), auth: 'profile', description: "The profile's activations, newest first." }),
  'bot.get': method({ input: z.object({ id: Id }).strict(), output: Activation, auth: 'profile', description: 'One activation with its book.' }),
  'bot.create': method({
    input: CreateInput,
    output: Activation,
    auth: 'profile',
    description:
      'Activate a strategy version (default: the current one) on a broker, symbol and timeframe (one the heartbeat builds), between `from` and `to`, with a budget in the quote currency. It starts running, and the symbol is added to the heartbeat. Refused (`invalid_input`, nothing created) for a strategy that does not compile, a symbol the broker does not list, a budget ≤ 0 or above the free balance, an end before the start. On a live broker (real money) with red steps on the road to live (bot.gate): `gate_closed`, nothing created, unless `override: true` (recorded).',
  }),
  'bot.update': method({
    input: z.object({ id: Id, params: Params.optional(), budget: PositiveDecimal.optional(), from: When.nullable().optional(), to: When.nullable().optional() }).strict(),
    output: Activation,
    auth: 'profile',
    description: "Change an activation's params, budget or dates (its strategy, broker, symbol and timeframe are fixed: create another).",
  }),
  'bot.start': method({
    input: z.object({ id: Id, override: z.literal(true).optional() }).strict(),
    output: Activation,
    auth: 'profile',
    description: 'Run (or resume) an activation. A live activation (real money) whose road to live (bot.gate) has red steps is refused with `gate_closed` naming them, unless `override: true` (recorded with the activation).',
  }),
  'bot.suspend': method({ input: z.object({ id: Id }).strict(), output: Activation, auth: 'profile', description: 'Pause an activation: no decisions; its settings and its position are kept (stop-loss and take-profit stay watched).' }),
  'bot.stop': method({
    input: z.object({ id: Id, closePosition: z.boolean() }).strict(),
    output: Activation,
    auth: 'profile',
    description: 'Deactivate. With `closePosition` the open position is sold at market first; otherwise it is left on the account (no longer watched).',
  }),
  'bot.sell': method({ input: z.object({ id: Id }).strict(), output: Activation, auth: 'profile', description: "Close the activation's position at market now; the activation keeps running." }),
  'bot.reconcile.adopt': method({
    input: z.object({ id: Id }).strict(),
    output: Activation,
    auth: 'profile',
    description:
      "Adopt the exchange's state for an activation whose book no longer matches it (suspended by the reconciliation): its position becomes what the account holds for it, journaled as an `adopt` decision. Refused (`conflict`) when the book matches or there is no position.",
  }),
  'bot.delete': method({ input: z.object({ id: Id }).strict(), output: Ok, auth: 'profile', description: 'Delete a stopped activation (or one in error without a position) with its trades and decisions.' }),
  'bot.trades': method({ input: z.object({ id: Id, limit: z.number().int().min(1).max(1000).default(10) }).strict(), output: z.array(BotTrade), auth: 'profile', description: "The activation's closed trades, newest first." }),
  'bot.decisions': method({ input: z.object({ id: Id, limit: z.number().int().min(1).max(1000).default(50) }).strict(), output: z.array(BotDecision), auth: 'profile', description: "The activation's decisions journal, newest first." }),
  'engine.get': method({ input: NoInput, output: EngineState, auth: 'profile', description: 'The trading engine switch and the number of live activations.' }),
  'engine.set': method({
    input: z.object({ running: z.boolean() }).strict(),
    output: EngineState,
    auth: 'profile',
    description: 'Turn the trading engine on or off (remembered across restarts). Off: no activation opens or closes anything on a signal; stop-loss and take-profit are still executed.',
  }),
} as const;

export const botEvents = {
  'bot.updated': z.object({ id: z.string(), state: ActivationState, reason: z.string().nullable(), reasonKey: z.string().nullable().optional(), reasonParams: TextParams.nullable().optional() }),
  'bot.decision': BotDecision,
  'engine.changed': EngineState,
} as const;
