import { BinanceError, errors } from './errors';
import { cancelView, newOrderView, orderListView, orderView, randomClientId, tradeView, type Account, type Engine, type Order, type OrderRef } from './engine';
import { clientOrderIdParam, parseNewOrder, present, required, type NewOrderRequest, type Params, type RespType } from './filters';
import type { MarketData } from './market-data';
import { fmt, symbolInfo, type SimMarket } from './markets';
import type { Bucket, WeightLimiter } from './rate-limit';

/**
 * The Binance spot REST endpoints the simulator answers: method, path, weight, security and the
 * handler producing the JSON body. Weights are Binance's published ones.
 */

export interface SimState {
  engine: Engine;
  data: MarketData;
  markets: Map<string, SimMarket>; // by Binance id, 'BTCUSDT'
  limiter: WeightLimiter;
}

export interface RouteContext {
  params: Params;
  now: number;
  /** The authenticated account (SIGNED routes only). */
  account?: Account;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** NONE: public; SIGNED: key + signature; TRADE: SIGNED and the key may trade. */
  security: 'NONE' | 'SIGNED' | 'TRADE';
  bucket: Bucket;
  weight: (p: Params) => number;
  handle: (ctx: RouteContext) => unknown;
}

const INT_RANGE = '^[0-9]{1,20}$';
const ZERO8 = '0.00000000';

export function intParam(params: Params, name: string): number | undefined {
  const v = present(params, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,20}$/.test(v)) throw errors.illegalChars(name, INT_RANGE);
  return Number(v);
}

function limitParam(params: Params, def: number, max: number): number {
  const v = intParam(params, 'limit');
  if (v === undefined) return def;
  if (v < 1) throw errors.invalidParam('limit');
  return Math.min(v, max);
}

function accountOf(ctx: RouteContext): Account {
  if (!ctx.account) throw new Error('route needs an authenticated account');
  return ctx.account;
}

function symbolsListParam(s: SimState, params: Params): SimMarket[] | undefined {
  const one = present(params, 'symbol');
  const many = present(params, 'symbols');
  if (one !== undefined && many !== undefined) throw errors.notRequired('symbols');
  if (one !== undefined) {
    const m = s.markets.get(one);
    if (!m) throw errors.badSymbol();
    return [m];
  }
  if (many === undefined) return undefined;
  let ids: unknown;
  try {
    ids = JSON.parse(many);
  } catch {
    throw errors.invalidParam('symbols');
  }
  if (!Array.isArray(ids)) throw errors.invalidParam('symbols');
  return ids.map((id) => {
    const m = typeof id === 'string' ? s.markets.get(id) : undefined;
    if (!m) throw errors.badSymbol();
    return m;
  });
}

function orderRef(params: Params, idName: string, clientIdName: string): OrderRef {
  const orderId = intParam(params, idName);
  const origClientOrderId = present(params, clientIdName);
  if (orderId === undefined && origClientOrderId === undefined) throw errors.eitherParam(idName, clientIdName);
  const ref: OrderRef = {};
  if (orderId !== undefined) ref.orderId = orderId;
  if (origClientOrderId !== undefined) ref.origClientOrderId = origClientOrderId;
  return ref;
}

/** Oldest first; with a lower bound, the first `limit` from it, otherwise the most recent `limit`. */
function page<T>(items: T[], fromStart: boolean, limit: number): T[] {
  return fromStart ? items.slice(0, limit) : items.slice(Math.max(0, items.length - limit));
}

function accountJson(s: SimState, a: Account, omitZero: boolean): Record<string, unknown> {
  const assets = new Set<string>([...a.free.keys(), ...a.locked.keys()]);
  for (const m of s.markets.values()) {
    assets.add(m.base);
    assets.add(m.quote);
  }
  const balances = [...assets]
    .sort()
    .filter((asset) => !omitZero || !s.engine.free(a, asset).isZero() || !s.engine.locked(a, asset).isZero())
    .map((asset) => ({ asset, free: fmt(s.engine.free(a, asset)), locked: fmt(s.engine.locked(a, asset)) }));
  return {
    makerCommission: a.makerRate.times(10_000).toNumber(),
    takerCommission: a.takerRate.times(10_000).toNumber(),
    buyerCommission: 0,
    sellerCommission: 0,
    commissionRates: { maker: fmt(a.makerRate), taker: fmt(a.takerRate), buyer: ZERO8, seller: ZERO8 },
    canTrade: a.canTrade,
    canWithdraw: true,
    canDeposit: true,
    brokered: false,
    requireSelfTradePrevention: false,
    preventSor: false,
    updateTime: a.updateTime,
    accountType: 'SPOT',
    balances,
    permissions: ['SPOT'],
    uid: a.uid,
  };
}

function cancelReplace(s: SimState, ctx: RouteContext): unknown {
  const a = accountOf(ctx);
  const m = symbolOf(s, ctx.params);
  const mode = required(ctx.params, 'cancelReplaceMode');
  if (mode !== 'STOP_ON_FAILURE' && mode !== 'ALLOW_FAILURE') throw errors.invalidParam('cancelReplaceMode');
  const ref = orderRef(ctx.params, 'cancelOrderId', 'cancelOrigClientOrderId');
  const cancelClientId = clientOrderIdParam(ctx.params, 'cancelNewClientOrderId') ?? randomClientId();
  const req = parseNewOrder(ctx.params, m);
  // Filters are evaluated before the cancellation and the placement (Binance does the same).
  s.engine.validate(a, req, s.engine.find(a, m, ref));

  let cancelResponse: unknown;
  let cancelFailed = false;
  try {
    cancelResponse = cancelView(s.engine.cancel(a, m, ref), cancelClientId, ctx.now);
  } catch (e) {
    if (!(e instanceof BinanceError)) throw e;
    cancelFailed = true;
    cancelResponse = e.body();
  }
  if (cancelFailed && mode === 'STOP_ON_FAILURE') {
    throw new BinanceError(400, -2022, 'Order cancel-replace failed.', {
      data: { cancelResult: 'FAILURE', newOrderResult: 'NOT_ATTEMPTED', cancelResponse, newOrderResponse: null },
    });
  }
  let newOrderResponse: unknown;
  let newFailed = false;
  try {
    newOrderResponse = newOrderView(s.engine.place(a, req), req.respType);
  } catch (e) {
    if (!(e instanceof BinanceError)) throw e;
    newFailed = true;
    newOrderResponse = e.body();
  }
  const data = {
    cancelResult: cancelFailed ? 'FAILURE' : 'SUCCESS',
    newOrderResult: newFailed ? 'FAILURE' : 'SUCCESS',
    cancelResponse,
    newOrderResponse,
  };
  if (!cancelFailed && !newFailed) return data;
  if (cancelFailed && newFailed) throw new BinanceError(400, -2022, 'Order cancel-replace failed.', { data });
  throw new BinanceError(409, -2021, 'Order cancel-replace partially failed.', { data });
}

const ABOVE_SELL = ['LIMIT_MAKER', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'];
const BELOW_SELL = ['STOP_LOSS', 'STOP_LOSS_LIMIT'];

/**
 * POST /api/v3/orderList/oco: an above and a below leg on one side and quantity. SELL: the above leg
 * is LIMIT_MAKER / TAKE_PROFIT(_LIMIT), the below leg STOP_LOSS(_LIMIT); BUY the other way round.
 * Prices: above > last price > below.
 */
function newOco(s: SimState, ctx: RouteContext): unknown {
  const a = accountOf(ctx);
  const m = symbolOf(s, ctx.params);
  const p = ctx.params;
  const side = required(p, 'side');
  if (side !== 'BUY' && side !== 'SELL') throw errors.invalidSide();
  const quantity = required(p, 'quantity');
  const listClientOrderId = clientOrderIdParam(p, 'listClientOrderId') ?? randomClientId();
  const respRaw = present(p, 'newOrderRespType') ?? 'FULL';
  if (respRaw !== 'ACK' && respRaw !== 'RESULT' && respRaw !== 'FULL') throw errors.invalidParam('newOrderRespType');
  if (!m.ocoAllowed) throw errors.ocoNotAllowed();
  const leg = (prefix: 'above' | 'below', allowed: string[]): NewOrderRequest => {
    const type = required(p, `${prefix}Type`);
    if (!allowed.includes(type)) throw errors.invalidParam(`${prefix}Type`);
    const legParams: Params = { side, type, quantity, newOrderRespType: 'FULL' };
    for (const [from, to] of [['Price', 'price'], ['StopPrice', 'stopPrice'], ['TimeInForce', 'timeInForce'], ['ClientOrderId', 'newClientOrderId']] as const) {
      const v = present(p, `${prefix}${from}`);
      if (v !== undefined) legParams[to] = v;
    }
    return parseNewOrder(legParams, m);
  };
  const above = leg('above', side === 'SELL' ? ABOVE_SELL : BELOW_SELL);
  const below = leg('below', side === 'SELL' ? BELOW_SELL : ABOVE_SELL);
  const level = (r: NewOrderRequest) => (r.type === 'LIMIT_MAKER' ? r.price! : r.stopPrice!);
  const live = s.data.price(m);
  if (!(level(above).gt(live) && live.gt(level(below)))) throw errors.ocoPrices();
  s.engine.validate(a, above);
  s.engine.validate(a, below);
  const list = s.engine.placeList(a, [above, below], listClientOrderId);
  return orderListView(list, respRaw as RespType);
}

export function symbolOf(s: SimState, params: Params): SimMarket {
  const m = s.markets.get(required(params, 'symbol'));
  if (!m) throw errors.badSymbol();
  return m;
}

const w = (n: number) => () => n;

export function buildRoutes(s: SimState): Route[] {
  const market = (p: Params) => symbolOf(s, p);
  const oneOrAll = <T>(p: Params, f: (m: SimMarket) => T): T | T[] => {
    const list = symbolsListParam(s, p);
    if (list && present(p, 'symbol') !== undefined && list[0]) return f(list[0]);
    return (list ?? [...s.markets.values()]).map(f);
  };
  const tickerWeight = (single: number, all: number) => (p: Params) => (present(p, 'symbol') !== undefined ? single : all);

  return [
    { method: 'GET', path: '/api/v3/ping', security: 'NONE', bucket: 'api', weight: w(1), handle: () => ({}) },
    { method: 'GET', path: '/api/v3/time', security: 'NONE', bucket: 'api', weight: w(1), handle: (c) => ({ serverTime: c.now }) },
    {
      method: 'GET',
      path: '/api/v3/exchangeInfo',
      security: 'NONE',
      bucket: 'api',
      weight: w(20),
      handle: (c) => ({
        timezone: 'UTC',
        serverTime: c.now,
        rateLimits: [
          { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: s.limiter.limit },
          { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
          { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200_000 },
          { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61_000 },
        ],
        exchangeFilters: [],
        symbols: (symbolsListParam(s, c.params) ?? [...s.markets.values()]).map(symbolInfo),
      }),
    },
    {
      method: 'GET',
      path: '/api/v3/depth',
      security: 'NONE',
      bucket: 'api',
      weight: (p) => {
        const l = Number(present(p, 'limit') ?? 100);
        return l <= 100 ? 5 : l <= 500 ? 25 : l <= 1000 ? 50 : 250;
      },
      handle: (c) => s.data.depth(market(c.params), limitParam(c.params, 100, 5000)),
    },
    ...['/api/v3/klines', '/api/v3/uiKlines'].map(
      (path): Route => ({
        method: 'GET',
        path,
        security: 'NONE',
        bucket: 'api',
        weight: w(2),
        handle: (c) => {
          const m = market(c.params);
          const iv = required(c.params, 'interval');
          const q: { startTime?: number; endTime?: number; limit: number } = { limit: limitParam(c.params, 500, 1000) };
          const st = intParam(c.params, 'startTime');
          const et = intParam(c.params, 'endTime');
          if (st !== undefined) q.startTime = st;
          if (et !== undefined) q.endTime = et;
          return s.data.klines(m, iv, q);
        },
      }),
    ),
    { method: 'GET', path: '/api/v3/avgPrice', security: 'NONE', bucket: 'api', weight: w(2), handle: (c) => s.data.avgPrice(market(c.params)) },
    {
      method: 'GET',
      path: '/api/v3/ticker/24hr',
      security: 'NONE',
      bucket: 'api',
      weight: (p) => {
        if (present(p, 'symbol') !== undefined) return 2;
        const many = present(p, 'symbols');
        if (many === undefined) return 80;
        const n = many.split(',').length;
        return n <= 20 ? 2 : n <= 100 ? 40 : 80;
      },
      handle: (c) => oneOrAll(c.params, (m) => s.data.ticker24h(m)),
    },
    {
      method: 'GET',
      path: '/api/v3/ticker/price',
      security: 'NONE',
      bucket: 'api',
      weight: tickerWeight(2, 4),
      handle: (c) => oneOrAll(c.params, (m) => s.data.priceTicker(m)),
    },
    {
      method: 'GET',
      path: '/api/v3/ticker/bookTicker',
      security: 'NONE',
      bucket: 'api',
      weight: tickerWeight(2, 4),
      handle: (c) => oneOrAll(c.params, (m) => s.data.bookTicker(m)),
    },
    { method: 'GET', path: '/sapi/v1/system/status', security: 'NONE', bucket: 'sapi', weight: w(1), handle: () => ({ status: 0, msg: 'normal' }) },

    // ── signed ──────────────────────────────────────────────────────────────────────────────
    {
      method: 'GET',
      path: '/api/v3/account',
      security: 'SIGNED',
      bucket: 'api',
      weight: w(20),
      handle: (c) => accountJson(s, accountOf(c), present(c.params, 'omitZeroBalances') === 'true'),
    },
    {
      method: 'GET',
      path: '/api/v3/account/commission',
      security: 'SIGNED',
      bucket: 'api',
      weight: w(20),
      handle: (c) => {
        const a = accountOf(c);
        const m = market(c.params);
        const zero = ZERO8;
        const none = { maker: zero, taker: zero, buyer: zero, seller: zero };
        return {
          symbol: m.id,
          standardCommission: { maker: fmt(a.makerRate), taker: fmt(a.takerRate), buyer: zero, seller: zero },
          specialCommission: none,
          taxCommission: none,
          discount: { enabledForAccount: false, enabledForSymbol: false, discountAsset: 'BNB', discount: '0.75000000' },
        };
      },
    },
    {
      method: 'GET',
      path: '/sapi/v1/asset/tradeFee',
      security: 'SIGNED',
      bucket: 'sapi',
      weight: w(1),
      handle: (c) => {
        const a = accountOf(c);
        const list = present(c.params, 'symbol') !== undefined ? [market(c.params)] : [...s.markets.values()];
        return list.map((m) => ({ symbol: m.id, makerCommission: a.makerRate.toString(), takerCommission: a.takerRate.toString() }));
      },
    },
    {
      method: 'POST',
      path: '/api/v3/order',
      security: 'TRADE',
      bucket: 'api',
      weight: w(1),
      handle: (c) => {
        const a = accountOf(c);
        const req = parseNewOrder(c.params, market(c.params));
        s.engine.validate(a, req);
        return newOrderView(s.engine.place(a, req), req.respType);
      },
    },
    {
      method: 'POST',
      path: '/api/v3/order/test',
      security: 'TRADE',
      bucket: 'api',
      weight: (p) => (present(p, 'computeCommissionRates') === 'true' ? 20 : 1),
      handle: (c) => {
        const a = accountOf(c);
        const req = parseNewOrder(c.params, market(c.params));
        s.engine.validate(a, req);
        if (present(c.params, 'computeCommissionRates') !== 'true') return {};
        const zero = ZERO8;
        return {
          standardCommissionForOrder: { maker: fmt(a.makerRate), taker: fmt(a.takerRate) },
          specialCommissionForOrder: { maker: zero, taker: zero },
          taxCommissionForOrder: { maker: zero, taker: zero },
          discount: { enabledForAccount: false, enabledForSymbol: false, discountAsset: 'BNB', discount: '0.75000000' },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v3/order',
      security: 'SIGNED',
      bucket: 'api',
      weight: w(4),
      handle: (c) => {
        const o = s.engine.find(accountOf(c), market(c.params), orderRef(c.params, 'orderId', 'origClientOrderId'));
        if (!o) throw errors.noSuchOrder();
        return orderView(o);
      },
    },
    {
      method: 'DELETE',
      path: '/api/v3/order',
      security: 'TRADE',
      bucket: 'api',
      weight: w(1),
      handle: (c) => {
        const cancelId = clientOrderIdParam(c.params, 'newClientOrderId') ?? randomClientId();
        const o = s.engine.cancel(accountOf(c), market(c.params), orderRef(c.params, 'orderId', 'origClientOrderId'));
        return cancelView(o, cancelId, c.now);
      },
    },
    { method: 'POST', path: '/api/v3/orderList/oco', security: 'TRADE', bucket: 'api', weight: w(1), handle: (c) => newOco(s, c) },
    { method: 'POST', path: '/api/v3/order/cancelReplace', security: 'TRADE', bucket: 'api', weight: w(1), handle: (c) => cancelReplace(s, c) },
    {
      method: 'GET',
      path: '/api/v3/openOrders',
      security: 'SIGNED',
      bucket: 'api',
      weight: (p) => (present(p, 'symbol') !== undefined ? 6 : 80),
      handle: (c) => {
        const m = present(c.params, 'symbol') !== undefined ? market(c.params) : undefined;
        return s.engine.openOrders(accountOf(c), m).map(orderView);
      },
    },
    {
      method: 'DELETE',
      path: '/api/v3/openOrders',
      security: 'TRADE',
      bucket: 'api',
      weight: w(1),
      handle: (c) => {
        const a = accountOf(c);
        const m = market(c.params);
        const open = s.engine.openOrders(a, m);
        if (open.length === 0) throw errors.unknownOrderOnCancel();
        const cancelId = randomClientId();
        return open.map((o) => cancelView(s.engine.cancel(a, m, { orderId: o.orderId }), cancelId, c.now));
      },
    },
    {
      method: 'GET',
      path: '/api/v3/allOrders',
      security: 'SIGNED',
      bucket: 'api',
      weight: w(20),
      handle: (c) => {
        const a = accountOf(c);
        const m = market(c.params);
        const fromId = intParam(c.params, 'orderId');
        const st = intParam(c.params, 'startTime');
        const et = intParam(c.params, 'endTime');
        const list = s.engine
          .ordersOf(a.apiKey)
          .filter((o: Order) => o.market === m && (fromId === undefined || o.orderId >= fromId) && (st === undefined || o.time >= st) && (et === undefined || o.time <= et));
        return page(list, fromId !== undefined || st !== undefined, limitParam(c.params, 500, 1000)).map(orderView);
      },
    },
    {
      method: 'GET',
      path: '/api/v3/myTrades',
      security: 'SIGNED',
      bucket: 'api',
      weight: (p) => (present(p, 'orderId') !== undefined ? 5 : 20),
      handle: (c) => {
        const a = accountOf(c);
        const m = market(c.params);
        const orderId = intParam(c.params, 'orderId');
        const fromId = intParam(c.params, 'fromId');
        const st = intParam(c.params, 'startTime');
        const et = intParam(c.params, 'endTime');
        const list = s.engine
          .tradesOf(a.apiKey)
          .filter(
            (t) =>
              t.market === m &&
              (orderId === undefined || t.orderId === orderId) &&
              (fromId === undefined || t.id >= fromId) &&
              (st === undefined || t.time >= st) &&
              (et === undefined || t.time <= et),
          );
        return page(list, fromId !== undefined || st !== undefined, limitParam(c.params, 500, 1000)).map(tradeView);
      },
    },
  ];
}
