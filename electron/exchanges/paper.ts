import ccxt, { type Exchange, type Market, type Order as CcxtOrder, type Trade as CcxtTrade } from 'ccxt';
import Decimal from 'decimal.js';
import type pg from 'pg';
import { AppError, invalidField } from '../../shared/errors';
import type { MessageKey } from '../../shared/i18n';
import { listText, worded, type Worded } from './texts';
import type { Database } from '../db/database';

/**
 * The paper exchange: a broker's CCXT instance of the REAL exchange class (markets, precision,
 * limits, fees, tickers and order books come from the exchange's public API, through the gateway's
 * URL overrides like any other instance), whose private methods — balance, orders, trades — are
 * answered from the paper account in the database instead of the exchange. The order service,
 * positions, the journal and reconcile use it exactly as they use a live instance; nothing private
 * is ever sent (the instance has no keys: a private call that reached CCXT would fail on them).
 *
 * Fills, as the exchange (and the Binance simulator) makes them:
 * - a market order fills at once at the live price (the ticker's last) moved against the order by
 *   the broker's slippage (rounded to the market's tick, against the order), as taker;
 * - a limit order that crosses when it arrives (buy: live ≤ limit; sell: live ≥ limit) fills at once
 *   at the live price (never past its limit), as taker; otherwise it rests, locking its funds (buy:
 *   limit × amount of the quote, rounded up to 8 places; sell: the amount of the base), and fills at
 *   its limit, as maker, when a later read finds the live price crossed it;
 * - the fee is the market's taker or maker rate, charged in the asset received (buy: base, sell:
 *   quote), rounded to 8 places, as Binance charges it without BNB; cost = price × amount to 8 places.
 * Resting orders are matched at every read of the account (balance, orders, trades): the order
 * service's sync reads them regularly, so a limit order fills at the first read after the price
 * crossed it.
 */

export interface PaperAccount {
  db: Database;
  profileId: string;
  brokerId: string;
  /** Fraction (0.001 = 0.1 %) by which a market order's price is worse than the live price. */
  slippage: Decimal;
}

/** Marks an instance as paper (and lets callers recognise it). */
export const PAPER = Symbol('aristobot.paper');
export const isPaper = (ex: Exchange): boolean => (ex as unknown as Record<symbol, unknown>)[PAPER] === true;

const ZERO = new Decimal(0);
const d = (v: unknown): Decimal => (v instanceof Decimal ? v : new Decimal(String(v ?? 0)));
const num = (v: Decimal | null): number | undefined => (v === null ? undefined : Number(v.toFixed()));
const cost8 = (amount: Decimal, price: Decimal): Decimal => amount.times(price).toDecimalPlaces(8, Decimal.ROUND_DOWN);

/** Whether an exchange publishes what a paper broker needs: its markets and a ticker. */
export function hasPublicMarketData(ex: Exchange): boolean {
  return !!ex.has.fetchMarkets && !!ex.has.fetchTicker;
}

/**
 * Starting balances: asset → a non-negative decimal string. Returns the clean map or throws
 * invalid_input naming each bad entry.
 */
export function parseBalances(input: unknown): Record<string, Decimal> {
  const issues: ({ path: string } & Worded)[] = [];
  const issue = (path: string, key: MessageKey, params: Record<string, unknown> = {}) => issues.push({ path, ...worded(key, params) });
  const out: Record<string, Decimal> = {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalidField('balances', 'errors.exchanges.startingBalancesAreObject');
  }
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > 50) issue('balances', 'errors.exchanges.balance.tooMany', { max: 50 });
  for (const [asset, raw] of entries) {
    if (!/^[A-Za-z0-9]{1,20}$/.test(asset)) {
      issue(`balances.${asset}`, 'errors.exchanges.balance.notAsset', { asset });
      continue;
    }
    const s = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    if (!/^\d+(\.\d+)?$/.test(s) && !/^-\d+(\.\d+)?$/.test(s)) {
      issue(`balances.${asset}`, 'errors.exchanges.balance.notNumber', { asset, raw: String(raw) });
      continue;
    }
    const v = new Decimal(s);
    if (v.isNegative()) {
      issue(`balances.${asset}`, 'errors.exchanges.balance.negative', { asset, value: s });
      continue;
    }
    if (v.decimalPlaces() > 18 || v.gte('1e24')) {
      issue(`balances.${asset}`, 'errors.exchanges.balance.outOfRange', { asset, value: s });
      continue;
    }
    out[asset.toUpperCase()] = v;
  }
  if (issues.length) throw new AppError('invalid_input', 'errors.exchanges.badStartingBalances', { reason: listText(issues) }, { issues });
  return out;
}

interface PaperOrderRow {
  id: string;
  client_order_id: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: 'market' | 'limit';
  amount: Decimal;
  price: Decimal | null;
  filled: Decimal;
  cost: Decimal;
  locked: Decimal;
  status: 'open' | 'closed' | 'canceled';
  created_at: Date;
  updated_at: Date;
}
interface PaperTradeRow {
  id: string;
  order_id: string;
  symbol: string;
  side: 'buy' | 'sell';
  price: Decimal;
  amount: Decimal;
  cost: Decimal;
  fee: Decimal;
  fee_currency: string;
  taker_or_maker: 'taker' | 'maker';
  executed_at: Date;
}

/** Writes a paper account's balances from scratch (create and reset); open orders are cancelled. */
export async function resetPaperAccount(c: pg.PoolClient, brokerId: string, balances: Record<string, Decimal>): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`paper:${brokerId}`]);
  await c.query("UPDATE paper_orders SET status = 'canceled', locked = 0, updated_at = now() WHERE broker_id = $1 AND status = 'open'", [brokerId]);
  await c.query('DELETE FROM paper_balances WHERE broker_id = $1', [brokerId]);
  for (const [asset, v] of Object.entries(balances)) {
    await c.query('INSERT INTO paper_balances (broker_id, asset, free, used) VALUES ($1, $2, $3, 0)', [brokerId, asset, v.toFixed()]);
  }
  const json = JSON.stringify(Object.fromEntries(Object.entries(balances).map(([a, v]) => [a, v.toFixed()])));
  await c.query(
    'INSERT INTO paper_accounts (broker_id, starting_balances, reset_at) VALUES ($1, $2, now()) ON CONFLICT (broker_id) DO UPDATE SET starting_balances = EXCLUDED.starting_balances, reset_at = now()',
    [brokerId, json],
  );
}

/**
 * Turns a fresh instance of the exchange's CCXT class (no keys) into the paper exchange of `acct`.
 * Public methods stay the exchange's own.
 */
export function makePaperExchange(ex: Exchange, acct: PaperAccount): Exchange {
  const target = ex as unknown as Record<string | symbol, unknown>;
  target[PAPER] = true;
  ex.has = {
    ...ex.has,
    fetchBalance: true,
    createOrder: true,
    cancelOrder: true,
    fetchOrder: true,
    fetchOpenOrders: true,
    fetchClosedOrders: true,
    fetchOrders: true,
    fetchMyTrades: true,
    fetchOrderTrades: true,
    editOrder: false,
    createStopOrder: false,
    createStopLossOrder: false,
    createTakeProfitOrder: false,
    createTriggerOrder: false,
    createStopMarketOrder: false,
    createStopLimitOrder: false,
    createOrderWithTakeProfitAndStopLoss: false,
  };
  const { db, profileId, brokerId } = acct;
  const id = ex.id;

  const market = (symbol: string): NonNullable<Market> => {
    const m = ex.markets?.[symbol];
    if (!m) throw new ccxt.BadSymbol(`${id} does not have market symbol ${symbol}`);
    return m;
  };
  const livePrice = async (symbol: string): Promise<Decimal> => {
    const t = await ex.fetchTicker(symbol);
    const last = t.last ?? t.close;
    if (typeof last !== 'number' || !(last > 0)) throw new ccxt.ExchangeNotAvailable(`${id} has no live price for ${symbol} right now`);
    return d(last);
  };
  const tick = (m: NonNullable<Market>): Decimal | null => {
    const p = m.precision?.price;
    if (p === undefined || p === null) return null;
    // CCXT's precision mode: TICK_SIZE (4) gives the step, DECIMAL_PLACES (2) the number of places
    return Number(ex.precisionMode) === 4 ? d(p) : new Decimal(10).pow(-Number(p));
  };
  const rate = (m: NonNullable<Market>, maker: boolean): Decimal => d((maker ? m.maker : m.taker) ?? 0);

  /** In one transaction holding the account's lock. */
  const locked = <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> =>
    db.withProfile(profileId, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`paper:${brokerId}`]);
      return fn(c);
    });

  const balanceOf = async (c: pg.PoolClient, asset: string): Promise<{ free: Decimal; used: Decimal }> => {
    const { rows } = await c.query<{ free: Decimal; used: Decimal }>('SELECT free, used FROM paper_balances WHERE broker_id = $1 AND asset = $2', [brokerId, asset]);
    return rows[0] ? { free: d(rows[0].free), used: d(rows[0].used) } : { free: ZERO, used: ZERO };
  };
  const move = async (c: pg.PoolClient, asset: string, freeDelta: Decimal, usedDelta: Decimal): Promise<void> => {
    const r = await c.query('UPDATE paper_balances SET free = free + $3, used = used + $4 WHERE broker_id = $1 AND asset = $2', [brokerId, asset, freeDelta.toFixed(), usedDelta.toFixed()]);
    if (r.rowCount === 0) await c.query('INSERT INTO paper_balances (broker_id, asset, free, used) VALUES ($1, $2, $3, $4)', [brokerId, asset, freeDelta.toFixed(), usedDelta.toFixed()]);
  };

  /** One fill of `qty` at `price`; moves the balances, records the trade, updates the order. */
  const fill = async (c: pg.PoolClient, o: PaperOrderRow, qty: Decimal, price: Decimal, maker: boolean): Promise<void> => {
    const m = market(o.symbol);
    const base = String(m.base);
    const quote = String(m.quote);
    const quoteQty = cost8(qty, price);
    const r = rate(m, maker);
    const resting = o.type === 'limit' && d(o.locked).gt(0);
    let fee: Decimal;
    let feeCurrency: string;
    let lockedLeft = d(o.locked);
    if (o.side === 'buy') {
      fee = qty.times(r).toDecimalPlaces(8);
      feeCurrency = base;
      if (resting) {
        const last = d(o.filled).plus(qty).gte(d(o.amount));
        const released = last ? lockedLeft : cost8(qty, d(o.price));
        await move(c, quote, released.minus(quoteQty), released.negated());
        lockedLeft = lockedLeft.minus(released);
      } else {
        await move(c, quote, quoteQty.negated(), ZERO);
      }
      await move(c, base, qty.minus(fee), ZERO);
    } else {
      fee = quoteQty.times(r).toDecimalPlaces(8);
      feeCurrency = quote;
      if (resting) {
        await move(c, base, ZERO, qty.negated());
        lockedLeft = lockedLeft.minus(qty);
      } else {
        await move(c, base, qty.negated(), ZERO);
      }
      await move(c, quote, quoteQty.minus(fee), ZERO);
    }
    await c.query(
      'INSERT INTO paper_trades (broker_id, order_id, symbol, side, price, amount, cost, fee, fee_currency, taker_or_maker) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
      [brokerId, o.id, o.symbol, o.side, price.toFixed(), qty.toFixed(), quoteQty.toFixed(), fee.toFixed(), feeCurrency, maker ? 'maker' : 'taker'],
    );
    const filled = d(o.filled).plus(qty);
    const status = filled.gte(d(o.amount)) ? 'closed' : 'open';
    await c.query('UPDATE paper_orders SET filled = $2, cost = cost + $3, locked = $4, status = $5, updated_at = now() WHERE id = $1', [o.id, filled.toFixed(), quoteQty.toFixed(), lockedLeft.toFixed(), status]);
  };

  /** Fills the resting limit orders (of `symbol`, or all) that the live price has crossed, at their limit. */
  const matchResting = async (symbol?: string): Promise<void> => {
    const open = await db.withProfile(profileId, async (c) =>
      (await c.query<{ symbol: string }>("SELECT DISTINCT symbol FROM paper_orders WHERE broker_id = $1 AND status = 'open' AND ($2::text IS NULL OR symbol = $2)", [brokerId, symbol ?? null])).rows.map((r) => r.symbol),
    );
    for (const s of open) {
      if (!ex.markets?.[s]) continue;
      const live = await livePrice(s);
      await locked(async (c) => {
        const { rows } = await c.query<PaperOrderRow>("SELECT * FROM paper_orders WHERE broker_id = $1 AND symbol = $2 AND status = 'open' ORDER BY id", [brokerId, s]);
        for (const o of rows) {
          const limit = d(o.price);
          const crosses = o.side === 'buy' ? live.lte(limit) : live.gte(limit);
          if (crosses) await fill(c, o, d(o.amount).minus(d(o.filled)), limit, true);
        }
      });
    }
  };

  const orderView = (o: PaperOrderRow, trades: PaperTradeRow[]): CcxtOrder => {
    const filled = d(o.filled);
    const cost = d(o.cost);
    const fees = new Map<string, Decimal>();
    for (const t of trades) fees.set(t.fee_currency, (fees.get(t.fee_currency) ?? ZERO).plus(d(t.fee)));
    const feeList = [...fees.entries()].map(([currency, c]) => ({ currency, cost: Number(c.toFixed()) }));
    const last = trades.at(-1);
    return {
      id: String(o.id),
      clientOrderId: o.client_order_id,
      timestamp: o.created_at.getTime(),
      datetime: o.created_at.toISOString(),
      lastTradeTimestamp: last ? last.executed_at.getTime() : undefined,
      lastUpdateTimestamp: o.updated_at.getTime(),
      status: o.status,
      symbol: o.symbol,
      type: o.type,
      timeInForce: 'GTC',
      side: o.side,
      price: num(o.price === null ? null : d(o.price)),
      amount: num(d(o.amount))!,
      filled: num(filled)!,
      remaining: num(d(o.amount).minus(filled))!,
      cost: num(cost)!,
      average: filled.gt(0) ? num(cost.div(filled)) : undefined,
      fee: feeList[0],
      fees: feeList,
      trades: trades.map(tradeView),
      reduceOnly: false,
      postOnly: false,
      info: { paper: true, id: String(o.id) },
    } as unknown as CcxtOrder;
  };
  const tradeView = (t: PaperTradeRow): CcxtTrade =>
    ({
      id: String(t.id),
      order: String(t.order_id),
      symbol: t.symbol,
      side: t.side,
      type: undefined,
      takerOrMaker: t.taker_or_maker,
      price: num(d(t.price))!,
      amount: num(d(t.amount))!,
      cost: num(d(t.cost))!,
      fee: { cost: num(d(t.fee))!, currency: t.fee_currency },
      fees: [{ cost: num(d(t.fee))!, currency: t.fee_currency }],
      timestamp: t.executed_at.getTime(),
      datetime: t.executed_at.toISOString(),
      info: { paper: true },
    }) as unknown as CcxtTrade;

  const viewsOf = async (c: pg.PoolClient, rows: PaperOrderRow[]): Promise<CcxtOrder[]> => {
    if (!rows.length) return [];
    const { rows: trades } = await c.query<PaperTradeRow>('SELECT * FROM paper_trades WHERE order_id = ANY($1::bigint[]) ORDER BY id', [rows.map((r) => r.id)]);
    return rows.map((o) => orderView(o, trades.filter((t) => String(t.order_id) === String(o.id))));
  };

  const overrides = {
    async fetchBalance() {
      await matchResting();
      const { rows } = await db.withProfile(profileId, (c) => c.query<{ asset: string; free: Decimal; used: Decimal }>('SELECT asset, free, used FROM paper_balances WHERE broker_id = $1 ORDER BY asset', [brokerId]));
      const out: Record<string, unknown> = { info: { paper: true }, free: {}, used: {}, total: {} };
      for (const r of rows) {
        const free = num(d(r.free))!;
        const used = num(d(r.used))!;
        const total = num(d(r.free).plus(d(r.used)))!;
        (out.free as Record<string, number>)[r.asset] = free;
        (out.used as Record<string, number>)[r.asset] = used;
        (out.total as Record<string, number>)[r.asset] = total;
        out[r.asset] = { free, used, total };
      }
      return out;
    },

    async createOrder(symbol: string, type: string, side: string, amount: number, price?: number, params: Record<string, unknown> = {}) {
      const m = market(symbol);
      if (type !== 'market' && type !== 'limit') throw new ccxt.InvalidOrder(`${id} paper trading supports market and limit orders, not ${type}`);
      if (side !== 'buy' && side !== 'sell') throw new ccxt.InvalidOrder(`${id} order side must be buy or sell`);
      const qty = d(amount);
      if (!qty.gt(0)) throw new ccxt.InvalidOrder(`${id} createOrder() amount must be positive`);
      const limit = type === 'limit' ? d(price) : null;
      if (limit !== null && !limit.gt(0)) throw new ccxt.InvalidOrder(`${id} createOrder() requires a price argument for a limit order`);
      const minAmount = m.limits?.amount?.min;
      if (typeof minAmount === 'number' && qty.lt(d(minAmount))) throw new ccxt.InvalidOrder(`${id} amount of ${symbol} must be greater than minimum amount precision of ${minAmount}`);
      const live = await livePrice(symbol);
      const clientOrderId = typeof params.clientOrderId === 'string' ? params.clientOrderId : `paper-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      const base = String(m.base);
      const quote = String(m.quote);
      return locked(async (c) => {
        const dup = await c.query("SELECT 1 FROM paper_orders WHERE broker_id = $1 AND client_order_id = $2 AND status = 'open'", [brokerId, clientOrderId]);
        if (dup.rows.length) throw new ccxt.InvalidOrder(`${id} Duplicate order sent.`);
        // The price a taker fill gets: the live price, moved against the order by the slippage.
        const t = tick(m);
        let takerPrice = live;
        if (acct.slippage.gt(0)) {
          const moved = side === 'buy' ? live.times(acct.slippage.plus(1)) : live.times(new Decimal(1).minus(acct.slippage));
          takerPrice = t && t.gt(0) ? moved.div(t).toDecimalPlaces(0, side === 'buy' ? Decimal.ROUND_UP : Decimal.ROUND_DOWN).times(t) : moved;
        }
        const crosses = limit === null || (side === 'buy' ? live.lte(limit) : live.gte(limit));
        if (limit !== null && crosses) takerPrice = side === 'buy' ? Decimal.min(takerPrice, limit) : Decimal.max(takerPrice, limit);
        const insufficient = () => new ccxt.InsufficientFunds(`${id} Account has insufficient balance for requested action.`);
        let lock = ZERO;
        if (limit === null || crosses) {
          const need = side === 'buy' ? cost8(qty, takerPrice) : qty;
          if ((await balanceOf(c, side === 'buy' ? quote : base)).free.lt(need)) throw insufficient();
        } else {
          lock = side === 'buy' ? limit.times(qty).toDecimalPlaces(8, Decimal.ROUND_UP) : qty;
          if ((await balanceOf(c, side === 'buy' ? quote : base)).free.lt(lock)) throw insufficient();
        }
        const { rows } = await c.query<PaperOrderRow>(
          "INSERT INTO paper_orders (broker_id, client_order_id, symbol, side, type, amount, price, locked, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open') RETURNING *",
          [brokerId, clientOrderId, symbol, side, type, qty.toFixed(), limit?.toFixed() ?? null, lock.toFixed()],
        );
        const o = rows[0]!;
        if (lock.gt(0)) await move(c, side === 'buy' ? quote : base, lock.negated(), lock);
        if (limit === null || crosses) await fill(c, o, qty, takerPrice, false);
        const { rows: now } = await c.query<PaperOrderRow>('SELECT * FROM paper_orders WHERE id = $1', [o.id]);
        return (await viewsOf(c, now))[0]!;
      });
    },

    async cancelOrder(orderId: string, symbol?: string) {
      await matchResting(symbol);
      return locked(async (c) => {
        const { rows } = await c.query<PaperOrderRow>('SELECT * FROM paper_orders WHERE broker_id = $1 AND id::text = $2 AND ($3::text IS NULL OR symbol = $3)', [brokerId, String(orderId), symbol ?? null]);
        const o = rows[0];
        if (!o) throw new ccxt.OrderNotFound(`${id} Unknown order sent.`);
        if (o.status !== 'open') throw new ccxt.OrderNotFound(`${id} Unknown order sent.`);
        const m = market(o.symbol);
        const lockedLeft = d(o.locked);
        if (lockedLeft.gt(0)) await move(c, o.side === 'buy' ? String(m.quote) : String(m.base), lockedLeft, lockedLeft.negated());
        const { rows: now } = await c.query<PaperOrderRow>("UPDATE paper_orders SET status = 'canceled', locked = 0, updated_at = now() WHERE id = $1 RETURNING *", [o.id]);
        return (await viewsOf(c, now))[0]!;
      });
    },

    async fetchOrder(orderId: string, symbol?: string, params: Record<string, unknown> = {}) {
      await matchResting(symbol);
      const byClient = typeof params.clientOrderId === 'string' ? params.clientOrderId : typeof params.origClientOrderId === 'string' ? params.origClientOrderId : null;
      return db.withProfile(profileId, async (c) => {
        const { rows } = byClient
          ? await c.query<PaperOrderRow>('SELECT * FROM paper_orders WHERE broker_id = $1 AND client_order_id = $2 AND ($3::text IS NULL OR symbol = $3) ORDER BY id DESC LIMIT 1', [brokerId, byClient, symbol ?? null])
          : await c.query<PaperOrderRow>('SELECT * FROM paper_orders WHERE broker_id = $1 AND id::text = $2 AND ($3::text IS NULL OR symbol = $3)', [brokerId, String(orderId), symbol ?? null]);
        if (!rows[0]) throw new ccxt.OrderNotFound(`${id} Order does not exist.`);
        return (await viewsOf(c, rows))[0]!;
      });
    },

    async fetchOpenOrders(symbol?: string) {
      await matchResting(symbol);
      return db.withProfile(profileId, async (c) =>
        viewsOf(c, (await c.query<PaperOrderRow>("SELECT * FROM paper_orders WHERE broker_id = $1 AND status = 'open' AND ($2::text IS NULL OR symbol = $2) ORDER BY id", [brokerId, symbol ?? null])).rows),
      );
    },

    async fetchOrders(symbol?: string, since?: number, limit?: number) {
      await matchResting(symbol);
      return db.withProfile(profileId, async (c) =>
        viewsOf(
          c,
          (await c.query<PaperOrderRow>('SELECT * FROM paper_orders WHERE broker_id = $1 AND ($2::text IS NULL OR symbol = $2) AND created_at >= to_timestamp($3 / 1000.0) ORDER BY id LIMIT $4', [brokerId, symbol ?? null, since ?? 0, limit ?? 1000])).rows,
        ),
      );
    },

    async fetchClosedOrders(symbol?: string, since?: number, limit?: number) {
      const all = (await overrides.fetchOrders(symbol, since, 100_000)) as CcxtOrder[];
      return all.filter((o) => o.status !== 'open').slice(0, limit ?? 1000);
    },

    async fetchMyTrades(symbol?: string, since?: number, limit?: number) {
      await matchResting(symbol);
      return db.withProfile(profileId, async (c) =>
        (await c.query<PaperTradeRow>('SELECT * FROM paper_trades WHERE broker_id = $1 AND ($2::text IS NULL OR symbol = $2) AND executed_at >= to_timestamp($3 / 1000.0) ORDER BY id LIMIT $4', [brokerId, symbol ?? null, since ?? 0, limit ?? 1000])).rows.map(tradeView),
      );
    },

    async fetchOrderTrades(orderId: string, symbol?: string) {
      await matchResting(symbol);
      return db.withProfile(profileId, async (c) =>
        (await c.query<PaperTradeRow>('SELECT * FROM paper_trades WHERE broker_id = $1 AND order_id::text = $2 ORDER BY id', [brokerId, String(orderId)])).rows.map(tradeView),
      );
    },

    async editOrder() {
      throw new ccxt.NotSupported(`${id} paper trading modifies orders by cancel-and-replace`);
    },
  };
  Object.assign(target, overrides);
  return ex;
}
