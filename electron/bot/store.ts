import Decimal from 'decimal.js';
import type pg from 'pg';
import type { z } from 'zod';
import type { Activation, BotDecision, BotTrade } from '../../shared/contract/bot';
import type { Params } from '../../shared/i18n';
import type { Timeframe } from '../../shared/timeframes';

/** Rows of migrations/0012_bot.sql and their wire form (shared/contract/bot.ts). */

export type ActivationState = 'running' | 'suspended' | 'stopped' | 'error';

export interface ActivationRow {
  id: string;
  profile_id: string;
  strategy_id: string | null;
  strategy_name: string;
  version: number;
  version_id: string | null;
  params: Record<string, number>;
  broker_id: string | null;
  symbol: string;
  timeframe: Timeframe;
  starts_at: Date | null;
  ends_at: Date | null;
  budget: Decimal;
  state: ActivationState;
  state_reason: string | null;
  /** The state reason's catalogue key and parameters (NULL on rows older than migration 0020). */
  state_reason_key: string | null;
  state_reason_params: Params | null;
  position_side: 'long' | 'short' | null;
  position_amount: Decimal;
  entry_price: Decimal | null;
  entry_cost: Decimal | null;
  entry_fee: Decimal | null;
  entry_time: Date | null;
  entry_order_id: string | null;
  stop_loss: Decimal | null;
  take_profit: Decimal | null;
  /** Who holds the stop-loss / take-profit: the exchange ('native', a protective pair) or the engine. */
  protection: 'engine' | 'native';
  realised_pnl: Decimal;
  last_decision_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type DecisionKind = 'signal' | 'stop_loss' | 'take_profit' | 'sell' | 'stop' | 'skipped' | 'reconcile' | 'adopt';

/** One order of a decision, planned before anything is sent (replayed as is after a restart). */
export interface Leg {
  leg: 'open' | 'close';
  side: 'buy' | 'sell';
  /** base amount (closing) or quote cost (opening) */
  amount?: string;
  cost?: string;
  clientOrderId: string;
  /** fractions of the entry price, for an opening leg */
  stopLoss?: number | null;
  takeProfit?: number | null;
  exitReason?: 'signal' | 'reverse' | 'stop_loss' | 'take_profit' | 'sell' | 'stop';
}

export interface DecisionRow {
  id: string;
  profile_id: string;
  activation_id: string;
  kind: DecisionKind;
  candle_time: Date;
  action: string;
  reason: string;
  status: 'pending' | 'done' | 'error';
  order_ids: string[];
  error: string | null;
  /** The reason's and the error's catalogue keys and parameters (NULL on rows older than migration 0020). */
  reason_key: string | null;
  reason_params: Params | null;
  error_key: string | null;
  error_params: Params | null;
  latency_ms: Decimal | null;
  plan: Leg[];
  legs_done: number;
  created_at: Date;
}

export interface TradeRow {
  id: string;
  side: 'long' | 'short';
  amount: Decimal;
  entry_price: Decimal;
  exit_price: Decimal;
  entry_time: Date;
  exit_time: Date;
  fees: Decimal;
  pnl: Decimal;
  exit_reason: z.infer<typeof BotTrade>['exitReason'];
  entry_order_id: string | null;
  exit_order_id: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const dec = (d: Decimal | null) => (d ? d.toFixed() : null);

export function toActivationDto(r: ActivationRow): z.input<typeof Activation> {
  return {
    id: r.id,
    strategyId: r.strategy_id,
    strategyName: r.strategy_name,
    version: r.version,
    params: r.params,
    brokerId: r.broker_id,
    symbol: r.symbol,
    timeframe: r.timeframe,
    from: iso(r.starts_at),
    to: iso(r.ends_at),
    budget: r.budget.toFixed(),
    state: r.state,
    reason: r.state_reason,
    reasonKey: r.state_reason_key ?? null,
    reasonParams: r.state_reason_params ?? null,
    position: r.position_side
      ? { side: r.position_side, amount: r.position_amount.toFixed(), entryPrice: dec(r.entry_price), entryTime: iso(r.entry_time), stopLoss: dec(r.stop_loss), takeProfit: dec(r.take_profit), protection: r.protection === 'native' ? 'native' : 'engine' }
      : null,
    realisedPnl: r.realised_pnl.toFixed(),
    lastDecisionAt: iso(r.last_decision_at),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export function toDecisionDto(r: DecisionRow): z.input<typeof BotDecision> {
  return {
    id: r.id,
    activationId: r.activation_id,
    kind: r.kind,
    candleTime: r.candle_time.toISOString(),
    action: r.action,
    reason: r.reason,
    reasonKey: r.reason_key ?? null,
    reasonParams: r.reason_params ?? null,
    status: r.status,
    orderIds: r.order_ids,
    error: r.error,
    errorKey: r.error_key ?? null,
    errorParams: r.error_params ?? null,
    latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
    createdAt: r.created_at.toISOString(),
  };
}

export function toTradeDto(r: TradeRow): z.input<typeof BotTrade> {
  return {
    id: r.id,
    side: r.side,
    amount: r.amount.toFixed(),
    entryPrice: r.entry_price.toFixed(),
    exitPrice: r.exit_price.toFixed(),
    entryTime: r.entry_time.toISOString(),
    exitTime: r.exit_time.toISOString(),
    fees: r.fees.toFixed(),
    pnl: r.pnl.toFixed(),
    exitReason: r.exit_reason,
    entryOrderId: r.entry_order_id,
    exitOrderId: r.exit_order_id,
  };
}

export async function getActivation(c: pg.PoolClient, id: string, lock = false): Promise<ActivationRow | null> {
  const { rows } = await c.query<ActivationRow>(`SELECT * FROM bot_activations WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ?? null;
}

export const D = (v: Decimal.Value) => new Decimal(v);
