import Decimal from 'decimal.js';
import type { z } from 'zod';
import type { Fill, Order, OrderSource, OrderStatus } from '../../shared/contract/trading';
import { translate, type Params } from '../../shared/i18n';
import type { Queryable } from '../db/database';
import type { ParsedOrder, ParsedTrade } from './ccxt-io';
import { positionFromFills } from './positions';

/**
 * The order journal's SQL (tables `orders` and `order_fills`, migrations 0004 and 0005). Every
 * function takes a client inside `Database.withProfile`, so Row-Level Security confines it to one
 * profile. Every row belongs to one mode (`sandbox`: the exchange's testnet, or live), recorded when
 * the order is placed; lookups by client or exchange order id are per broker AND mode.
 */

export type OrderStatusT = z.infer<typeof OrderStatus>;
export type OrderSourceT = z.infer<typeof OrderSource>;
export type OrderDto = z.input<typeof Order>;
export type FillDto = z.input<typeof Fill>;

export const OPEN_STATUSES: readonly OrderStatusT[] = ['open', 'partially_filled'];
export const PENDING_STATUSES: readonly OrderStatusT[] = ['intent', 'sent', 'unknown'];
export const TERMINAL_STATUSES: readonly OrderStatusT[] = ['filled', 'cancelled', 'rejected'];

export interface OrderRow {
  id: string;
  profile_id: string;
  broker_id: string | null;
  exchange: string;
  source: OrderSourceT;
  source_ref: string | null;
  symbol: string;
  side: 'buy' | 'sell';
  type: 'market' | 'limit';
  requested_amount: Decimal | null;
  requested_cost: Decimal | null;
  requested_price: Decimal | null;
  amount: Decimal | null;
  price: Decimal | null;
  client_order_id: string;
  exchange_order_id: string | null;
  status: OrderStatusT;
  filled: Decimal;
  average_price: Decimal | null;
  cost: Decimal | null;
  /** The fee when the order paid it in one currency (else null: see `fees`). */
  fee: Decimal | null;
  fee_currency: string | null;
  /** Every fee currency the order paid, summed per currency (migration 0007; amounts as decimal strings). */
  fees: { cost: string; currency: string }[];
  error_code: string | null;
  error_message: string | null;
  /** error_message by catalogue key and parameters (migration 0020); NULL on older rows and on the exchange's own words. */
  error_key?: string | null;
  error_params?: Params | null;
  replaces_order_id: string | null;
  /** Placed on the exchange's testnet (sandbox) rather than live. */
  sandbox: boolean;
  /** Placed on a paper broker (migration 0013; set from the broker when the row is written). */
  paper?: boolean;
  /** When the reconciliation last looked the order up (pending rows). */
  checked_at: Date | null;
  /** A conditional (protective) order's trigger price (migration 0013). */
  trigger_price: Decimal | null;
  /** Which leg of a position's protection it is. */
  protects: 'stop_loss' | 'take_profit' | null;
  /** The protective pair it belongs to (both legs share it). */
  oco_ref: string | null;
  created_at: Date;
  sent_at: Date | null;
  updated_at: Date;
  closed_at: Date | null;
}

interface FillRow {
  id: string;
  order_id: string | null;
  symbol: string;
  side: 'buy' | 'sell';
  trade_id: string;
  price: Decimal;
  amount: Decimal;
  cost: Decimal;
  fee: Decimal | null;
  fee_currency: string | null;
  taker_or_maker: string | null;
  executed_at: Date;
}

const s = (x: Decimal | null): string | null => (x === null ? null : x.toFixed());
const feeDto = (f: { cost: string; currency: string }) => ({ cost: new Decimal(f.cost).toFixed(), currency: f.currency });
/** An answer's fees as the jsonb `orders.fees` holds them; null when it names none. */
const feesJson = (fees: readonly { cost: Decimal; currency: string }[]): string | null => (fees.length ? JSON.stringify(fees.map((f) => ({ cost: f.cost.toFixed(), currency: f.currency }))) : null);
const iso = (x: Date | null): string | null => (x === null ? null : x.toISOString());

export function toOrderDto(r: OrderRow): OrderDto {
  const remaining = r.amount && OPEN_STATUSES.includes(r.status) ? Decimal.max(r.amount.minus(r.filled), 0) : null;
  return {
    id: r.id,
    brokerId: r.broker_id,
    exchange: r.exchange,
    source: r.source,
    sourceRef: r.source_ref,
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    requestedAmount: s(r.requested_amount),
    requestedCost: s(r.requested_cost),
    requestedPrice: s(r.requested_price),
    amount: s(r.amount),
    price: s(r.price),
    clientOrderId: r.client_order_id,
    exchangeOrderId: r.exchange_order_id,
    status: r.status,
    filled: r.filled.toFixed(),
    remaining: s(remaining),
    averagePrice: s(r.average_price),
    cost: s(r.cost),
    fee: r.fees.length === 1 ? feeDto(r.fees[0]!) : r.fees.length === 0 && r.fee !== null && r.fee_currency ? { cost: r.fee.toFixed(), currency: r.fee_currency } : null,
    fees: r.fees.map(feeDto),
    errorCode: r.error_code,
    errorMessage: r.error_message,
    errorKey: r.error_key ?? null,
    errorParams: r.error_params ?? null,
    replacesOrderId: r.replaces_order_id,
    sandbox: r.sandbox,
    mode: r.paper ? 'paper' : r.sandbox ? 'testnet' : 'live',
    createdAt: r.created_at.toISOString(),
    sentAt: iso(r.sent_at),
    updatedAt: r.updated_at.toISOString(),
    closedAt: iso(r.closed_at),
    triggerPrice: s(r.trigger_price ?? null),
    protects: r.protects ?? null,
    ocoRef: r.oco_ref ?? null,
  };
}

export function toFillDto(r: FillRow): FillDto {
  return {
    id: r.id,
    orderId: r.order_id,
    symbol: r.symbol,
    side: r.side,
    tradeId: r.trade_id,
    price: r.price.toFixed(),
    amount: r.amount.toFixed(),
    cost: r.cost.toFixed(),
    fee: r.fee !== null && r.fee_currency ? { cost: r.fee.toFixed(), currency: r.fee_currency } : null,
    takerOrMaker: r.taker_or_maker,
    executedAt: r.executed_at.toISOString(),
  };
}

export interface NewOrder {
  brokerId: string;
  /** The mode the order is placed in (the exchange instance's `isSandboxModeEnabled`). */
  sandbox: boolean;
  exchange: string;
  source: OrderSourceT;
  sourceRef?: string | null;
  symbol: string;
  side: 'buy' | 'sell';
  type: 'market' | 'limit';
  requestedAmount: Decimal | null;
  requestedCost: Decimal | null;
  requestedPrice: Decimal | null;
  amount: Decimal | null;
  price: Decimal | null;
  clientOrderId: string;
  status: 'intent' | 'rejected';
  errorCode?: string | null;
  errorMessage?: string | null;
  errorKey?: string | null;
  errorParams?: Params | null;
  replacesOrderId?: string | null;
  /** A protective leg: its trigger price, which leg, and its pair. */
  triggerPrice?: Decimal | null;
  protects?: 'stop_loss' | 'take_profit' | null;
  ocoRef?: string | null;
}

/** Inserts an attempt; null when the client order id is already journaled for this broker and mode. */
export async function insertOrder(c: Queryable, o: NewOrder): Promise<OrderRow | null> {
  const { rows } = await c.query<OrderRow>(
    `INSERT INTO orders (broker_id, exchange, source, source_ref, symbol, side, type, requested_amount, requested_cost, requested_price, amount, price,
                         client_order_id, status, error_code, error_message, replaces_order_id, sandbox, closed_at, trigger_price, protects, oco_ref, error_key, error_params)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18, CASE WHEN $14 = 'rejected' THEN now() END, $19, $20, $21, $22, $23::jsonb)
     ON CONFLICT (profile_id, broker_id, sandbox, client_order_id) WHERE source <> 'external' DO NOTHING
     RETURNING *`,
    [
      o.brokerId, o.exchange, o.source, o.sourceRef ?? null, o.symbol, o.side, o.type, s(o.requestedAmount), s(o.requestedCost), s(o.requestedPrice), s(o.amount), s(o.price),
      o.clientOrderId, o.status, o.errorCode ?? null, o.errorMessage ?? null, o.replacesOrderId ?? null, o.sandbox, s(o.triggerPrice ?? null), o.protects ?? null, o.ocoRef ?? null,
      o.errorKey ?? null, o.errorParams ? JSON.stringify(o.errorParams) : null,
    ],
  );
  return rows[0] ?? null;
}

export async function getOrder(c: Queryable, id: string): Promise<OrderRow | null> {
  return (await c.query<OrderRow>('SELECT * FROM orders WHERE id = $1', [id])).rows[0] ?? null;
}

export async function getByClientId(c: Queryable, brokerId: string, sandbox: boolean, clientOrderId: string): Promise<OrderRow | null> {
  return (await c.query<OrderRow>("SELECT * FROM orders WHERE broker_id = $1 AND sandbox = $2 AND client_order_id = $3 AND source <> 'external'", [brokerId, sandbox, clientOrderId])).rows[0] ?? null;
}

/**
 * Marks an attempt 'sent' — only while it is still an 'intent' (null otherwise: e.g. a reconciliation
 * concluded meanwhile that it was never sent, and it must then not be sent).
 */
export async function markSent(c: Queryable, id: string): Promise<OrderRow | null> {
  return (await c.query<OrderRow>("UPDATE orders SET status = 'sent', sent_at = now(), updated_at = now() WHERE id = $1 AND status = 'intent' RETURNING *", [id])).rows[0] ?? null;
}

/**
 * Why an order is where it is: the English message (the public API) and, beside it, its catalogue key
 * and parameters (none for the exchange's own words, shown as they are).
 */
export interface JournalError {
  code: string | null;
  message: string | null;
  key?: string | null;
  params?: Params | null;
}

/**
 * A status transition, made only from the statuses in `from` (checked in the UPDATE itself, so two
 * writers never both win); null when the row is in another status by now (re-read it to decide).
 */
export async function markStatus(c: Queryable, id: string, status: OrderStatusT, error: JournalError | null, from: readonly OrderStatusT[]): Promise<OrderRow | null> {
  // A new message brings its own key (or none: the exchange's own words); no message keeps both.
  const { rows } = await c.query<OrderRow>(
    `UPDATE orders SET status = $2, error_code = coalesce($3, error_code), error_message = coalesce($4, error_message),
            error_key = CASE WHEN $4::text IS NULL THEN error_key ELSE $6 END, error_params = CASE WHEN $4::text IS NULL THEN error_params ELSE $7::jsonb END, updated_at = now(),
            closed_at = CASE WHEN $2 IN ('filled', 'cancelled', 'rejected') THEN coalesce(closed_at, now()) ELSE closed_at END
      WHERE id = $1 AND status = ANY($5) RETURNING *`,
    [id, status, error?.code ?? null, error?.message ?? null, from, error?.key ?? null, error?.params ? JSON.stringify(error.params) : null],
  );
  return rows[0] ?? null;
}

/** The journal status an exchange answer means. */
export function statusFromExchange(p: ParsedOrder, amount: Decimal | null): OrderStatusT {
  const filled = p.filled ?? new Decimal(0);
  switch (p.ccxtStatus) {
    case 'open':
      return filled.gt(0) ? 'partially_filled' : 'open';
    case 'closed':
      return 'filled';
    case 'canceled':
    case 'cancelled':
    case 'expired':
      return 'cancelled';
    case 'rejected':
      return 'rejected';
    default: {
      const total = p.amount ?? amount;
      if (total && filled.gte(total) && filled.gt(0)) return 'filled';
      return filled.gt(0) ? 'partially_filled' : 'open';
    }
  }
}

/** The order's fills are recorded: its fees come from them, not from an exchange answer. */
const HAS_FILLS = 'EXISTS (SELECT 1 FROM order_fills f WHERE f.order_id = orders.id)';

/**
 * Settles a journal row from the exchange's view of the order. Never moves a row back from a final
 * state to an open one (a stale answer), and never lowers the filled amount.
 */
export async function settleOrder(c: Queryable, stale: OrderRow, p: ParsedOrder): Promise<OrderRow> {
  // Judged from the row as it is now (locked until the caller's transaction ends), not from the
  // caller's copy: another settle, cancel or reconcile may have moved it on since.
  const row = (await c.query<OrderRow>('SELECT * FROM orders WHERE id = $1 FOR UPDATE', [stale.id])).rows[0] ?? stale;
  let status = statusFromExchange(p, row.amount);
  if (TERMINAL_STATUSES.includes(row.status) && !TERMINAL_STATUSES.includes(status)) status = row.status;
  const filled = Decimal.max(row.filled, p.filled ?? 0);
  const cost = p.cost && p.cost.gt(0) ? p.cost : row.cost;
  const average = filled.gt(0) && cost && cost.gt(0) ? averageOf(cost, filled) : (p.average ?? row.average_price);
  const { rows } = await c.query<OrderRow>(
    `UPDATE orders SET status = $2, exchange_order_id = coalesce($3, exchange_order_id), filled = $4, cost = $5, average_price = $6,
            amount = coalesce(amount, $7), price = CASE WHEN type = 'limit' THEN coalesce(price, $8) ELSE price END,
            fee = CASE WHEN ${HAS_FILLS} THEN fee ELSE coalesce($9, fee) END, fee_currency = CASE WHEN ${HAS_FILLS} THEN fee_currency ELSE coalesce($10, fee_currency) END,
            fees = CASE WHEN ${HAS_FILLS} THEN fees ELSE coalesce($11::jsonb, fees) END,
            error_code = CASE WHEN $2 = 'rejected' THEN coalesce(error_code, 'exchange_error') ELSE error_code END,
            error_key = CASE WHEN $2 = 'rejected' AND error_message IS NULL THEN 'coreTrading.journal.exchangeRejected' ELSE error_key END,
            error_message = CASE WHEN $2 = 'rejected' THEN coalesce(error_message, '${translate('en', 'coreTrading.journal.exchangeRejected').replace(/'/g, "''")}') ELSE error_message END,
            updated_at = now(), closed_at = CASE WHEN $2 IN ('filled', 'cancelled', 'rejected') THEN coalesce($12, closed_at, now()) ELSE NULL END
      WHERE id = $1 RETURNING *`,
    [row.id, status, p.id, filled.toFixed(), s(cost), s(average), s(p.amount), s(p.price), p.fees.length === 1 ? p.fees[0]!.cost.toFixed() : null, p.fees.length === 1 ? p.fees[0]!.currency : null, feesJson(p.fees),
      p.lastUpdate !== null ? new Date(p.lastUpdate) : null],
  );
  return rows[0]!;
}

const AVG = Decimal.clone({ precision: 60 });
/** cost / filled, to 12 decimals (exact enough for any price; the fills keep the exact prices). */
export function averageOf(cost: Decimal, filled: Decimal): Decimal {
  return new Decimal(new AVG(cost.toFixed()).div(new AVG(filled.toFixed())).toDecimalPlaces(12).toFixed());
}

/** An order found at the exchange (in mode `sandbox`) that the journal does not know (placed outside the app). */
export async function insertExternal(c: Queryable, brokerId: string, sandbox: boolean, exchange: string, p: ParsedOrder): Promise<OrderRow | null> {
  if (!p.id || !p.symbol || !p.side || !p.type) return null;
  const status = statusFromExchange(p, p.amount);
  const filled = p.filled ?? new Decimal(0);
  const average = filled.gt(0) && p.cost && p.cost.gt(0) ? averageOf(p.cost, filled) : p.average;
  const created = p.timestamp !== null ? new Date(p.timestamp) : new Date();
  const { rows } = await c.query<OrderRow>(
    `INSERT INTO orders (broker_id, exchange, source, symbol, side, type, amount, price, client_order_id, exchange_order_id, status, filled, cost, average_price,
                         fee, fee_currency, fees, created_at, sent_at, sandbox, closed_at)
     VALUES ($1,$2,'external',$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,coalesce($16::jsonb, '[]'),$17,$17,$18, CASE WHEN $10 IN ('filled','cancelled','rejected') THEN coalesce($19, now()) END)
     ON CONFLICT (broker_id, sandbox, symbol, exchange_order_id) WHERE exchange_order_id IS NOT NULL DO NOTHING
     RETURNING *`,
    [brokerId, exchange, p.symbol, p.side, p.type, s(p.amount), p.type === 'limit' ? s(p.price) : null, p.clientOrderId ?? `external-${p.id}`, p.id, status, filled.toFixed(), s(p.cost), s(average),
      p.fees.length === 1 ? p.fees[0]!.cost.toFixed() : null, p.fees.length === 1 ? p.fees[0]!.currency : null, feesJson(p.fees), created, sandbox, p.lastUpdate !== null ? new Date(p.lastUpdate) : null],
  );
  return rows[0] ?? null;
}

/** The journal row for an exchange order seen in mode `sandbox`: by exchange id, else by client order id. */
export async function findForExchangeOrder(c: Queryable, brokerId: string, sandbox: boolean, p: ParsedOrder): Promise<OrderRow | null> {
  if (p.id && p.symbol) {
    const r = (await c.query<OrderRow>('SELECT * FROM orders WHERE broker_id = $1 AND sandbox = $2 AND symbol = $3 AND exchange_order_id = $4', [brokerId, sandbox, p.symbol, p.id])).rows[0];
    if (r) return r;
  }
  if (p.clientOrderId) {
    const r = (await c.query<OrderRow>(
      "SELECT * FROM orders WHERE broker_id = $1 AND sandbox = $2 AND client_order_id = $3 AND source <> 'external' AND (exchange_order_id IS NULL OR exchange_order_id = $4)",
      [brokerId, sandbox, p.clientOrderId, p.id],
    )).rows[0];
    if (r) return r;
  }
  return null;
}

/** Upserts fills of an order (idempotent by trade id); returns how many were new. */
export async function insertFills(c: Queryable, order: OrderRow, trades: readonly ParsedTrade[]): Promise<number> {
  let added = 0;
  for (const t of trades) {
    const r = await c.query(
      `INSERT INTO order_fills (order_id, broker_id, exchange, symbol, side, trade_id, price, amount, cost, fee, fee_currency, taker_or_maker, executed_at, sandbox)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
       ON CONFLICT (broker_id, sandbox, symbol, trade_id) DO NOTHING`,
      [order.id, order.broker_id, order.exchange, t.symbol, t.side, t.id, t.price.toFixed(), t.amount.toFixed(), t.cost.toFixed(), t.fee ? t.fee.cost.toFixed() : null, t.fee?.currency ?? null, t.takerOrMaker, new Date(t.timestamp), order.sandbox],
    );
    added += r.rowCount ?? 0;
  }
  if (added > 0) {
    // The order's fees are its fills' fees summed per currency — every currency (an account paying
    // in BNB pays in the asset received once its BNB runs out). `fee` only when there is one.
    await c.query(
      `UPDATE orders o SET fees = f.fees, fee = CASE WHEN f.n = 1 THEN f.total END, fee_currency = CASE WHEN f.n = 1 THEN f.cur END, updated_at = now()
         FROM (SELECT jsonb_agg(jsonb_build_object('cost', x.cost::text, 'currency', x.cur) ORDER BY x.first_at, x.cur) AS fees, count(*) AS n, min(x.cur) AS cur, sum(x.cost) AS total
                 FROM (SELECT fee_currency AS cur, sum(fee) AS cost, min(executed_at) AS first_at FROM order_fills
                        WHERE order_id = $1 AND fee IS NOT NULL AND fee_currency IS NOT NULL GROUP BY fee_currency) x) f
        WHERE o.id = $1 AND f.n > 0`,
      [order.id],
    );
    // A filled order closed with its last fill (the exchange's time, not when the app noticed).
    await c.query(
      `UPDATE orders o SET closed_at = f.last
         FROM (SELECT max(executed_at) AS last, sum(amount) AS total FROM order_fills WHERE order_id = $1) f
        WHERE o.id = $1 AND o.status = 'filled' AND f.total >= o.filled`,
      [order.id],
    );
  }
  return added;
}

/** The first key of the per-position advisory locks (`hashtext('aristobot.positions')` would do as well; a constant is clearer). */
const POSITION_LOCK = 0x41525053; // 'ARPS'

/**
 * Records an order's fills and, when any is new, recomputes the position of its (broker, mode,
 * symbol) from all of that symbol's fills. Runs inside the caller's transaction.
 */
export async function recordFills(c: Queryable, order: OrderRow, trades: readonly ParsedTrade[], market: { base: string; quote: string }): Promise<number> {
  // One writer at a time per (broker, mode, symbol) until the transaction ends: a concurrent
  // transaction's fills are then committed, and seen, before this one recomputes the position
  // (READ COMMITTED alone let two writers each recompute without the other's fill).
  await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [POSITION_LOCK, `${order.broker_id ?? ''}:${order.sandbox ? 's' : 'l'}:${order.symbol}`]);
  const added = await insertFills(c, order, trades);
  if (added > 0 && order.broker_id) await recomputePosition(c, order.broker_id, order.sandbox, order.exchange, order.symbol, market);
  return added;
}

/** The position of one (broker, mode, symbol), recomputed from its fills. */
export async function recomputePosition(c: Queryable, brokerId: string, sandbox: boolean, exchange: string, symbol: string, market: { base: string; quote: string }): Promise<void> {
  const { rows } = await c.query<{ side: 'buy' | 'sell'; amount: Decimal; price: Decimal; fee: Decimal | null; fee_currency: string | null; executed_at: Date }>(
    'SELECT side, amount, price, fee, fee_currency, executed_at FROM order_fills WHERE broker_id = $1 AND sandbox = $2 AND symbol = $3 ORDER BY executed_at, created_at, length(trade_id), trade_id',
    [brokerId, sandbox, symbol],
  );
  const pos = positionFromFills(rows.map((r) => ({ side: r.side, amount: r.amount, price: r.price, fee: r.fee, feeCurrency: r.fee_currency })), market);
  await c.query(
    `INSERT INTO positions (broker_id, sandbox, exchange, symbol, base, quote, quantity, average_entry, realised_pnl, fills, last_fill_at, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11, now())
     ON CONFLICT (profile_id, broker_id, sandbox, symbol) DO UPDATE SET quantity = EXCLUDED.quantity, average_entry = EXCLUDED.average_entry, realised_pnl = EXCLUDED.realised_pnl,
       fills = EXCLUDED.fills, last_fill_at = EXCLUDED.last_fill_at, updated_at = now()`,
    [brokerId, sandbox, exchange, symbol, market.base, market.quote, pos.quantity.toFixed(), pos.averageEntry?.toFixed() ?? null, pos.realisedPnl.toFixed(), rows.length, rows.at(-1)?.executed_at ?? null],
  );
}

export async function fillsOf(c: Queryable, orderId: string): Promise<FillDto[]> {
  const { rows } = await c.query<FillRow>('SELECT * FROM order_fills WHERE order_id = $1 ORDER BY executed_at, trade_id', [orderId]);
  return rows.map(toFillDto);
}

export async function filledByFills(c: Queryable, orderId: string): Promise<Decimal> {
  const { rows } = await c.query<{ total: Decimal | null }>('SELECT sum(amount) AS total FROM order_fills WHERE order_id = $1', [orderId]);
  return rows[0]?.total ?? new Decimal(0);
}

export interface JournalQuery {
  brokerId?: string;
  source?: OrderSourceT;
  status?: OrderStatusT[];
  symbol?: string;
  clientOrderId?: string;
  /** Only testnet (true) or only live (false) rows; both when absent. */
  sandbox?: boolean;
  since?: string;
  limit: number;
}

export async function queryJournal(c: Queryable, q: JournalQuery): Promise<OrderRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (q.brokerId) add('broker_id = ?', q.brokerId);
  if (q.source) add('source = ?', q.source);
  if (q.status?.length) add('status = ANY(?)', q.status);
  if (q.symbol) add('symbol = ?', q.symbol);
  if (q.clientOrderId) add('client_order_id = ?', q.clientOrderId);
  if (q.sandbox !== undefined) add('sandbox = ?', q.sandbox);
  if (q.since) add('created_at >= ?', q.since);
  params.push(q.limit);
  const { rows } = await c.query<OrderRow>(`SELECT * FROM orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT $${params.length}`, params);
  return rows;
}
