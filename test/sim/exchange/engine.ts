import { randomBytes } from 'node:crypto';
import type Decimal from 'decimal.js';
import { errors } from './errors';
import { checkFilters, isStopType, quantityForQuote, type NewOrderRequest, type OrderType, type RespType, type Side, type TimeInForce } from './filters';
import { D, fmt, type SimMarket } from './markets';

/**
 * Accounts, orders and the matching engine.
 *
 * - A LIMIT order locks its funds (BUY: price × quantity of the quote asset; SELL: the quantity of
 *   the base asset). MARKET orders settle at once and lock nothing.
 * - Against the live price: a BUY crosses when price ≤ limit, a SELL when price ≥ limit. An order
 *   that crosses when it arrives trades at the live price as taker; a resting order that the price
 *   reaches later trades at its own limit price as maker.
 * - `maxFillPerTick` caps the base quantity one order trades per matching pass, so big orders fill
 *   in several parts (PARTIALLY_FILLED, then FILLED). MARKET orders still fill completely at once,
 *   in several fills of at most that size.
 * - Commission as Binance charges it without BNB: on the asset received (BUY pays in the base
 *   asset, SELL in the quote asset), at the account's maker or taker rate. An account that pays fees
 *   in another asset (`feeAsset`, e.g. BNB — Binance's "use BNB to pay for fees") pays the same value
 *   in that asset, converted at its price in the market's quote, for as long as its free balance
 *   covers it; then again in the asset received.
 * - `repeatedCancels`: cancelling an order that is already cancelled answers it again (as some
 *   exchanges do) instead of Binance's -2011.
 */

export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED';

export interface AccountSpec {
  apiKey: string;
  secret: string;
  /** Free balances by asset, decimal strings: { USDT: '10000', BTC: '0.5' }. */
  balances?: Record<string, Decimal.Value>;
  makerRate?: Decimal.Value;
  takerRate?: Decimal.Value;
  /** false: the key may read but not trade (order endpoints answer -2015). */
  canTrade?: boolean;
  /** Pay commissions in this asset while its free balance covers them (e.g. 'BNB'). */
  feeAsset?: string;
}

export interface Account {
  apiKey: string;
  secret: string;
  uid: number;
  free: Map<string, Decimal>;
  locked: Map<string, Decimal>;
  makerRate: Decimal;
  takerRate: Decimal;
  canTrade: boolean;
  feeAsset: string | null;
  updateTime: number;
}

export interface Trade {
  id: number;
  orderId: number;
  apiKey: string;
  market: SimMarket;
  price: Decimal;
  qty: Decimal;
  quoteQty: Decimal;
  commission: Decimal;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
}

export interface Order {
  orderId: number;
  apiKey: string;
  market: SimMarket;
  clientOrderId: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  price: Decimal; // 0 for MARKET
  origQty: Decimal;
  origQuoteOrderQty: Decimal;
  executedQty: Decimal;
  cumQuote: Decimal;
  status: OrderStatus;
  time: number;
  updateTime: number;
  /** Funds still locked by this order (quote for BUY, base for SELL). */
  lockedLeft: Decimal;
  fills: Trade[];
  /** The trigger price of a conditional order (0 otherwise). */
  stopPrice: Decimal;
  /** A conditional order whose stop price was reached (it is working now). */
  triggered: boolean;
  /** The OCO order list it belongs to, -1 for none. */
  orderListId: number;
}

/** An OCO order list: two legs on one side sharing one lock; the first to trigger or fill expires the other. */
export interface OrderList {
  orderListId: number;
  listClientOrderId: string;
  apiKey: string;
  market: SimMarket;
  legs: Order[];
  time: number;
}

export interface OrderRef {
  orderId?: number;
  origClientOrderId?: string;
}

export interface EngineOptions {
  priceOf: (m: SimMarket) => Decimal;
  now: () => number;
  maxFillPerTick?: Decimal.Value;
  makerRate?: Decimal.Value;
  takerRate?: Decimal.Value;
  /** The price of `asset` in `quote` (for fees paid in another asset), null when not traded. */
  assetPrice?: (asset: string, quote: string) => Decimal | null;
}

const ZERO = new D(0);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Binance-style generated client order id (22 characters). */
export function randomClientId(): string {
  let out = '';
  for (const b of randomBytes(22)) out += ALNUM[b % ALNUM.length];
  return out;
}

/** A quote amount as Binance books it: 8 decimals, rounded down (never more than the exact product). */
const quoteOf = (qty: Decimal, price: Decimal): Decimal => qty.times(price).toDecimalPlaces(8, D.ROUND_DOWN);

const isOpen = (o: Order): boolean => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED';
const isMarketLike = (t: OrderType): boolean => t === 'MARKET' || t === 'STOP_LOSS' || t === 'TAKE_PROFIT';

/**
 * Whether a conditional order's stop price is reached at `live`: a stop-loss when the price falls to
 * it (SELL) or rises to it (BUY), a take-profit the other way round.
 */
export function stopReached(side: Side, type: OrderType, stopPrice: Decimal, live: Decimal): boolean {
  const loss = type === 'STOP_LOSS' || type === 'STOP_LOSS_LIMIT';
  const falling = side === 'SELL' ? loss : !loss;
  return falling ? live.lte(stopPrice) : live.gte(stopPrice);
}

export class Engine {
  readonly accounts = new Map<string, Account>();
  private readonly orders: Order[] = [];
  private readonly trades: Trade[] = [];
  readonly lists = new Map<number, OrderList>();
  private nextListId = 7000;
  private nextOrderId = 1000;
  private nextTradeId = 5000;
  private nextUid = 10_000;
  private maxFillPerTick: Decimal | undefined;
  /** Cancelling a cancelled order answers it again instead of -2011. */
  repeatedCancels = false;

  constructor(private readonly opts: EngineOptions) {
    this.maxFillPerTick = opts.maxFillPerTick === undefined ? undefined : new D(opts.maxFillPerTick);
  }

  setMaxFillPerTick(qty: Decimal.Value | null): void {
    this.maxFillPerTick = qty === null ? undefined : new D(qty);
  }

  addAccount(spec: AccountSpec): Account {
    const free = new Map<string, Decimal>();
    for (const [asset, v] of Object.entries(spec.balances ?? {})) free.set(asset, new D(v));
    const acct: Account = {
      apiKey: spec.apiKey,
      secret: spec.secret,
      uid: this.nextUid++,
      free,
      locked: new Map(),
      makerRate: new D(spec.makerRate ?? this.opts.makerRate ?? '0.001'),
      takerRate: new D(spec.takerRate ?? this.opts.takerRate ?? '0.001'),
      canTrade: spec.canTrade ?? true,
      feeAsset: spec.feeAsset ?? null,
      updateTime: this.opts.now(),
    };
    this.accounts.set(spec.apiKey, acct);
    return acct;
  }

  account(apiKey: string): Account {
    const a = this.accounts.get(apiKey);
    if (!a) throw new Error(`no simulated account with that API key`);
    return a;
  }

  // ── balances ──────────────────────────────────────────────────────────────────────────────
  free(a: Account, asset: string): Decimal {
    return a.free.get(asset) ?? ZERO;
  }

  locked(a: Account, asset: string): Decimal {
    return a.locked.get(asset) ?? ZERO;
  }

  setFree(a: Account, asset: string, amount: Decimal.Value): void {
    a.free.set(asset, new D(amount));
    a.updateTime = this.opts.now();
  }

  private move(a: Account, asset: string, freeDelta: Decimal, lockedDelta: Decimal): void {
    const f = this.free(a, asset).plus(freeDelta);
    const l = this.locked(a, asset).plus(lockedDelta);
    if (f.isNegative() || l.isNegative()) throw new Error(`simulator bookkeeping error: negative ${asset} balance`);
    a.free.set(asset, f);
    a.locked.set(asset, l);
    a.updateTime = this.opts.now();
  }

  // ── orders ────────────────────────────────────────────────────────────────────────────────
  openCount(a: Account, m: SimMarket, except?: Order): number {
    return this.orders.filter((o) => o.apiKey === a.apiKey && o.market === m && isOpen(o) && o !== except).length;
  }

  /** Runs the symbol filters (the REST layer calls this before anything changes). */
  validate(a: Account, req: NewOrderRequest, replacing?: Order): void {
    checkFilters(req, this.opts.priceOf(req.market), this.openCount(a, req.market, replacing));
  }

  /** Places a validated order: duplicate id and balance checks, locking, immediate matching. */
  place(a: Account, req: NewOrderRequest): Order {
    const m = req.market;
    const now = this.opts.now();
    const clientOrderId = req.newClientOrderId ?? randomClientId();
    if (this.orders.some((o) => o.apiKey === a.apiKey && isOpen(o) && o.clientOrderId === clientOrderId)) throw errors.duplicateOrder();
    const live = this.opts.priceOf(m);
    const order: Order = {
      orderId: this.nextOrderId++,
      apiKey: a.apiKey,
      market: m,
      clientOrderId,
      side: req.side,
      type: req.type,
      timeInForce: req.timeInForce ?? 'GTC',
      price: req.price ?? ZERO,
      origQty: ZERO,
      origQuoteOrderQty: req.quoteOrderQty ?? ZERO,
      executedQty: ZERO,
      cumQuote: ZERO,
      status: 'NEW',
      time: now,
      updateTime: now,
      lockedLeft: ZERO,
      fills: [],
      stopPrice: req.stopPrice ?? ZERO,
      triggered: false,
      orderListId: -1,
    };

    if (isStopType(req.type)) {
      // A conditional order rests untriggered; its funds are locked now (as on Binance).
      if (stopReached(req.side, req.type, order.stopPrice, live)) throw errors.wouldTrigger();
      order.origQty = req.quantity ?? ZERO;
      const { asset, amount } = this.lockOf(req);
      if (this.free(a, asset).lt(amount)) throw errors.insufficientBalance();
      this.move(a, asset, amount.negated(), amount);
      order.lockedLeft = amount;
      this.orders.push(order);
      return order;
    }

    if (req.type === 'MARKET') {
      const qty = req.quantity ?? quantityForQuote(req.quoteOrderQty ?? ZERO, live, m);
      order.origQty = qty;
      const enough = req.side === 'BUY' ? this.free(a, m.quote).gte(quoteOf(qty, live)) : this.free(a, m.base).gte(qty);
      if (!enough) throw errors.insufficientBalance();
      let left = qty;
      while (left.gt(0)) {
        const q = this.maxFillPerTick ? D.min(left, this.maxFillPerTick) : left;
        this.fill(a, order, q, live, false);
        left = left.minus(q);
      }
      this.orders.push(order);
      return order;
    }

    const qty = req.quantity ?? ZERO;
    const limit = order.price;
    order.origQty = qty;
    const crosses = req.side === 'BUY' ? live.lte(limit) : live.gte(limit);
    if (req.type === 'LIMIT_MAKER' && crosses) throw errors.wouldTake();
    const lock = req.side === 'BUY' ? limit.times(qty).toDecimalPlaces(8, D.ROUND_UP) : qty;
    const lockAsset = req.side === 'BUY' ? m.quote : m.base;
    if (this.free(a, lockAsset).lt(lock)) throw errors.insufficientBalance();

    const firstFill = crosses ? (this.maxFillPerTick ? D.min(qty, this.maxFillPerTick) : qty) : ZERO;
    if (order.timeInForce === 'FOK' && firstFill.lt(qty)) {
      order.status = 'EXPIRED';
      this.orders.push(order);
      return order;
    }
    this.move(a, lockAsset, lock.negated(), lock);
    order.lockedLeft = lock;
    this.orders.push(order);
    if (firstFill.gt(0)) this.fill(a, order, firstFill, live, false);
    if (order.timeInForce !== 'GTC' && isOpen(order)) this.expire(a, order);
    return order;
  }

  /** What a conditional order locks: SELL the base quantity; BUY at the limit price (the *_LIMIT ones), nothing for the market ones. */
  private lockOf(req: NewOrderRequest): { asset: string; amount: Decimal } {
    const m = req.market;
    const qty = req.quantity ?? ZERO;
    if (req.side === 'SELL') return { asset: m.base, amount: qty };
    return { asset: m.quote, amount: req.price ? req.price.times(qty).toDecimalPlaces(8, D.ROUND_UP) : ZERO };
  }

  /**
   * Places an OCO list (validated legs, same side and quantity): one lock for both — the larger of
   * the two legs' — held by the first leg until a leg triggers or fills and takes it.
   */
  placeList(a: Account, legs: [NewOrderRequest, NewOrderRequest], listClientOrderId: string): OrderList {
    const m = legs[0].market;
    const live = this.opts.priceOf(m);
    const now = this.opts.now();
    for (const l of legs) {
      const id = l.newClientOrderId;
      if (id !== undefined && this.orders.some((o) => o.apiKey === a.apiKey && isOpen(o) && o.clientOrderId === id)) throw errors.duplicateOrder();
      if (isStopType(l.type) && stopReached(l.side, l.type, l.stopPrice!, live)) throw errors.wouldTrigger();
      if (l.type === 'LIMIT_MAKER' && (l.side === 'BUY' ? live.lte(l.price!) : live.gte(l.price!))) throw errors.wouldTake();
    }
    const locks = legs.map((l) => (l.type === 'LIMIT_MAKER' ? { asset: l.side === 'BUY' ? m.quote : m.base, amount: l.side === 'BUY' ? l.price!.times(l.quantity!).toDecimalPlaces(8, D.ROUND_UP) : l.quantity! } : this.lockOf(l)));
    const lock = D.max(locks[0]!.amount, locks[1]!.amount);
    const asset = locks[0]!.asset;
    if (this.free(a, asset).lt(lock)) throw errors.insufficientBalance();
    const list: OrderList = { orderListId: this.nextListId++, listClientOrderId, apiKey: a.apiKey, market: m, legs: [], time: now };
    for (const l of legs) {
      const o: Order = {
        orderId: this.nextOrderId++,
        apiKey: a.apiKey,
        market: m,
        clientOrderId: l.newClientOrderId ?? randomClientId(),
        side: l.side,
        type: l.type,
        timeInForce: l.timeInForce ?? 'GTC',
        price: l.price ?? ZERO,
        origQty: l.quantity ?? ZERO,
        origQuoteOrderQty: ZERO,
        executedQty: ZERO,
        cumQuote: ZERO,
        status: 'NEW',
        time: now,
        updateTime: now,
        lockedLeft: ZERO,
        fills: [],
        stopPrice: l.stopPrice ?? ZERO,
        triggered: false,
        orderListId: list.orderListId,
      };
      list.legs.push(o);
      this.orders.push(o);
    }
    this.move(a, asset, lock.negated(), lock);
    list.legs[0]!.lockedLeft = lock;
    this.lists.set(list.orderListId, list);
    return list;
  }

  /** The other legs of `o`'s OCO list expire; `o` takes over their lock. */
  private expireSiblings(o: Order): void {
    if (o.orderListId < 0) return;
    const list = this.lists.get(o.orderListId);
    for (const s of list?.legs ?? []) {
      if (s === o || !isOpen(s)) continue;
      o.lockedLeft = o.lockedLeft.plus(s.lockedLeft);
      s.lockedLeft = ZERO;
      s.status = 'EXPIRED';
      s.updateTime = this.opts.now();
    }
  }

  /** One matching pass over every open order; returns the number of fills. */
  match(): number {
    let fills = 0;
    for (const o of this.orders) {
      if (!isOpen(o) || o.type === 'MARKET') continue;
      const live = this.opts.priceOf(o.market);
      let taker = false;
      if (isStopType(o.type) && !o.triggered) {
        if (!stopReached(o.side, o.type, o.stopPrice, live)) continue;
        o.triggered = true;
        o.updateTime = this.opts.now();
        this.expireSiblings(o);
        taker = true;
        if (isMarketLike(o.type)) {
          // STOP_LOSS / TAKE_PROFIT: a market order now, filled completely at the live price.
          const a = this.account(o.apiKey);
          let left = o.origQty.minus(o.executedQty);
          if (o.side === 'BUY' && this.free(a, o.market.quote).lt(quoteOf(left, live))) {
            this.expire(a, o);
            continue;
          }
          while (left.gt(0)) {
            const q = this.maxFillPerTick ? D.min(left, this.maxFillPerTick) : left;
            this.fill(a, o, q, live, false);
            left = left.minus(q);
            fills++;
          }
          continue;
        }
      }
      if (isMarketLike(o.type)) continue;
      const crosses = o.side === 'BUY' ? live.lte(o.price) : live.gte(o.price);
      if (!crosses) continue;
      const left = o.origQty.minus(o.executedQty);
      const q = this.maxFillPerTick ? D.min(left, this.maxFillPerTick) : left;
      this.fill(this.account(o.apiKey), o, q, taker ? live : o.price, !taker);
      fills++;
    }
    return fills;
  }

  private fill(a: Account, o: Order, qty: Decimal, price: Decimal, isMaker: boolean): void {
    this.expireSiblings(o);
    const m = o.market;
    const now = this.opts.now();
    const quoteQty = quoteOf(qty, price);
    const last = o.executedQty.plus(qty).gte(o.origQty);
    const rate = isMaker ? a.makerRate : a.takerRate;
    const resting = o.type !== 'MARKET';
    let commission: Decimal;
    let commissionAsset: string;
    if (o.side === 'BUY') {
      commission = qty.times(rate).toDecimalPlaces(8);
      commissionAsset = m.base;
      if (resting) {
        // what this part had locked; the last fill releases whatever rounding left over
        const released = last ? o.lockedLeft : quoteOf(qty, o.price);
        this.move(a, m.quote, released.minus(quoteQty), released.negated());
        o.lockedLeft = o.lockedLeft.minus(released);
      } else {
        this.move(a, m.quote, quoteQty.negated(), ZERO);
      }
      this.move(a, m.base, qty.minus(commission), ZERO);
    } else {
      commission = quoteQty.times(rate).toDecimalPlaces(8);
      commissionAsset = m.quote;
      if (resting) {
        this.move(a, m.base, ZERO, qty.negated());
        o.lockedLeft = o.lockedLeft.minus(qty);
      } else {
        this.move(a, m.base, qty.negated(), ZERO);
      }
      this.move(a, m.quote, quoteQty.minus(commission), ZERO);
    }
    if (a.feeAsset && a.feeAsset !== commissionAsset) {
      // The same value in the fee asset, when the account holds enough of it.
      const px = a.feeAsset === m.quote ? new D(1) : this.opts.assetPrice?.(a.feeAsset, m.quote);
      if (px && px.gt(0)) {
        const inFeeAsset = quoteQty.times(rate).div(px).toDecimalPlaces(8, D.ROUND_UP);
        if (this.free(a, a.feeAsset).gte(inFeeAsset)) {
          // give back what was taken from the asset received, charge the fee asset instead
          this.move(a, commissionAsset, commission, ZERO);
          this.move(a, a.feeAsset, inFeeAsset.negated(), ZERO);
          commission = inFeeAsset;
          commissionAsset = a.feeAsset;
        }
      }
    }
    const trade: Trade = {
      id: this.nextTradeId++,
      orderId: o.orderId,
      apiKey: a.apiKey,
      market: m,
      price,
      qty,
      quoteQty,
      commission,
      commissionAsset,
      time: now,
      isBuyer: o.side === 'BUY',
      isMaker,
    };
    this.trades.push(trade);
    o.fills.push(trade);
    o.executedQty = o.executedQty.plus(qty);
    o.cumQuote = o.cumQuote.plus(quoteQty);
    o.status = last ? 'FILLED' : 'PARTIALLY_FILLED';
    o.updateTime = now;
  }

  private release(a: Account, o: Order): void {
    if (o.lockedLeft.gt(0)) {
      const asset = o.side === 'BUY' ? o.market.quote : o.market.base;
      this.move(a, asset, o.lockedLeft, o.lockedLeft.negated());
      o.lockedLeft = ZERO;
    }
    o.updateTime = this.opts.now();
  }

  private expire(a: Account, o: Order): void {
    this.release(a, o);
    o.status = 'EXPIRED';
  }

  /** Finds an order of the account on the symbol: orderId first, then origClientOrderId (newest). */
  find(a: Account, m: SimMarket, ref: OrderRef): Order | undefined {
    const mine = this.orders.filter((o) => o.apiKey === a.apiKey && o.market === m);
    if (ref.orderId !== undefined) {
      const o = mine.find((x) => x.orderId === ref.orderId);
      if (o && ref.origClientOrderId !== undefined && o.clientOrderId !== ref.origClientOrderId) return undefined;
      return o;
    }
    for (let i = mine.length - 1; i >= 0; i--) if (mine[i]?.clientOrderId === ref.origClientOrderId) return mine[i];
    return undefined;
  }

  /** Cancels an open order (Binance -2011 "Unknown order sent." when there is none to cancel). */
  cancel(a: Account, m: SimMarket, ref: OrderRef): Order {
    const o = this.find(a, m, ref);
    if (o && o.status === 'CANCELED' && this.repeatedCancels) return o;
    if (!o || !isOpen(o)) throw errors.unknownOrderOnCancel();
    // Cancelling one leg of an OCO list cancels the whole list (Binance).
    const legs = o.orderListId >= 0 ? (this.lists.get(o.orderListId)?.legs ?? [o]) : [o];
    for (const l of legs) {
      if (!isOpen(l)) continue;
      this.release(a, l);
      l.status = 'CANCELED';
    }
    return o;
  }

  ordersOf(apiKey?: string): Order[] {
    return this.orders.filter((o) => apiKey === undefined || o.apiKey === apiKey);
  }

  openOrders(a: Account, m?: SimMarket): Order[] {
    return this.orders.filter((o) => o.apiKey === a.apiKey && isOpen(o) && (m === undefined || o.market === m));
  }

  tradesOf(apiKey?: string): Trade[] {
    return this.trades.filter((t) => apiKey === undefined || t.apiKey === apiKey);
  }
}

// ── wire views (Binance JSON shapes) ─────────────────────────────────────────────────────────

export interface OrderJson {
  symbol: string;
  orderId: number;
  orderListId: number;
  clientOrderId: string;
  price: string;
  origQty: string;
  executedQty: string;
  cummulativeQuoteQty: string;
  status: OrderStatus;
  timeInForce: TimeInForce;
  type: OrderType;
  side: Side;
  stopPrice: string;
  icebergQty: string;
  time: number;
  updateTime: number;
  isWorking: boolean;
  workingTime: number;
  origQuoteOrderQty: string;
  selfTradePreventionMode: string;
}

export interface TradeJson {
  symbol: string;
  id: number;
  orderId: number;
  orderListId: number;
  price: string;
  qty: string;
  quoteQty: string;
  commission: string;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
  isBestMatch: boolean;
}

/** GET /api/v3/order, openOrders, allOrders. */
export function orderView(o: Order): OrderJson {
  return {
    symbol: o.market.id,
    orderId: o.orderId,
    orderListId: o.orderListId,
    clientOrderId: o.clientOrderId,
    price: fmt(o.price),
    origQty: fmt(o.origQty),
    executedQty: fmt(o.executedQty),
    cummulativeQuoteQty: fmt(o.cumQuote),
    status: o.status,
    timeInForce: o.timeInForce,
    type: o.type,
    side: o.side,
    stopPrice: fmt(o.stopPrice),
    icebergQty: fmt(ZERO),
    time: o.time,
    updateTime: o.updateTime,
    isWorking: !isStopType(o.type) || o.triggered,
    workingTime: o.time,
    origQuoteOrderQty: fmt(o.origQuoteOrderQty),
    selfTradePreventionMode: 'NONE',
  };
}

/** POST /api/v3/order in the requested response type. */
export function newOrderView(o: Order, respType: RespType): Record<string, unknown> {
  const ack = { symbol: o.market.id, orderId: o.orderId, orderListId: o.orderListId, clientOrderId: o.clientOrderId, transactTime: o.time };
  if (respType === 'ACK') return ack;
  const result = {
    ...ack,
    price: fmt(o.price),
    origQty: fmt(o.origQty),
    executedQty: fmt(o.executedQty),
    origQuoteOrderQty: fmt(o.origQuoteOrderQty),
    cummulativeQuoteQty: fmt(o.cumQuote),
    status: o.status,
    timeInForce: o.timeInForce,
    type: o.type,
    side: o.side,
    ...(isStopType(o.type) ? { stopPrice: fmt(o.stopPrice) } : {}),
    workingTime: o.time,
    selfTradePreventionMode: 'NONE',
  };
  if (respType === 'RESULT') return result;
  return {
    ...result,
    fills: o.fills.map((t) => ({ price: fmt(t.price), qty: fmt(t.qty), commission: fmt(t.commission), commissionAsset: t.commissionAsset, tradeId: t.id })),
  };
}

/** DELETE /api/v3/order. */
export function cancelView(o: Order, cancelClientOrderId: string, transactTime: number): Record<string, unknown> {
  return {
    symbol: o.market.id,
    origClientOrderId: o.clientOrderId,
    orderId: o.orderId,
    orderListId: o.orderListId,
    clientOrderId: cancelClientOrderId,
    transactTime,
    price: fmt(o.price),
    origQty: fmt(o.origQty),
    executedQty: fmt(o.executedQty),
    origQuoteOrderQty: fmt(o.origQuoteOrderQty),
    cummulativeQuoteQty: fmt(o.cumQuote),
    status: o.status,
    timeInForce: o.timeInForce,
    type: o.type,
    side: o.side,
    selfTradePreventionMode: 'NONE',
  };
}

/** GET /api/v3/myTrades. */
export function tradeView(t: Trade): TradeJson {
  return {
    symbol: t.market.id,
    id: t.id,
    orderId: t.orderId,
    orderListId: -1,
    price: fmt(t.price),
    qty: fmt(t.qty),
    quoteQty: fmt(t.quoteQty),
    commission: fmt(t.commission),
    commissionAsset: t.commissionAsset,
    time: t.time,
    isBuyer: t.isBuyer,
    isMaker: t.isMaker,
    isBestMatch: true,
  };
}

/** POST /api/v3/orderList/oco. */
export function orderListView(l: OrderList, respType: RespType): Record<string, unknown> {
  const done = l.legs.every((o) => !isOpen(o));
  return {
    orderListId: l.orderListId,
    contingencyType: 'OCO',
    listStatusType: done ? 'ALL_DONE' : 'EXEC_STARTED',
    listOrderStatus: done ? 'ALL_DONE' : 'EXECUTING',
    listClientOrderId: l.listClientOrderId,
    transactionTime: l.time,
    symbol: l.market.id,
    orders: l.legs.map((o) => ({ symbol: o.market.id, orderId: o.orderId, clientOrderId: o.clientOrderId })),
    orderReports: l.legs.map((o) => newOrderView(o, respType === 'ACK' ? 'RESULT' : respType)),
  };
}
