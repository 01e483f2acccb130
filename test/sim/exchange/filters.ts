import type Decimal from 'decimal.js';
import { errors } from './errors';
import { ASSET_PRECISION, D, type SimMarket } from './markets';

/**
 * Parsing and validation of a new-order request the way Binance spot does it: mandatory parameters
 * per type (-1102), number syntax (-1100) and precision (-1111), then the symbol filters (-1013
 * "Filter failure: <FILTER>") in the order they are listed in exchangeInfo.
 */

export type Params = Record<string, string>;
export type Side = 'BUY' | 'SELL';
export type OrderType = 'LIMIT' | 'LIMIT_MAKER' | 'MARKET' | StopType;
/** Conditional orders: triggered when the price reaches `stopPrice`; the *_LIMIT ones then rest as a limit at `price`. */
export type StopType = 'STOP_LOSS' | 'STOP_LOSS_LIMIT' | 'TAKE_PROFIT' | 'TAKE_PROFIT_LIMIT';
export const STOP_TYPES: readonly string[] = ['STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'];
export const isStopType = (t: string): t is StopType => STOP_TYPES.includes(t);
export type TimeInForce = 'GTC' | 'IOC' | 'FOK';
export type RespType = 'ACK' | 'RESULT' | 'FULL';

export interface NewOrderRequest {
  market: SimMarket;
  side: Side;
  type: OrderType;
  timeInForce?: TimeInForce;
  price?: Decimal;
  quantity?: Decimal;
  quoteOrderQty?: Decimal;
  /** The trigger price of a conditional order. */
  stopPrice?: Decimal;
  newClientOrderId?: string;
  respType: RespType;
}

const UNSUPPORTED_TYPES: Record<string, string> = {
  STOP_LOSS: 'Stop loss',
  STOP_LOSS_LIMIT: 'Stop loss limit',
  TAKE_PROFIT: 'Take profit',
  TAKE_PROFIT_LIMIT: 'Take profit limit',
};
const CLIENT_ID_RANGE = '^[\\.A-Z\\:/a-z0-9_-]{1,36}$';
const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;

export function present(params: Params, name: string): string | undefined {
  const v = params[name];
  return v === undefined || v === '' ? undefined : v;
}

export function required(params: Params, name: string): string {
  const v = present(params, name);
  if (v === undefined) throw errors.mandatory(name);
  return v;
}

/** A DECIMAL parameter: plain digits, at most 8 decimals (the assets' precision). */
export function decimalParam(params: Params, name: string): Decimal | undefined {
  const v = present(params, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,20}(\.[0-9]{1,20})?$/.test(v)) throw errors.illegalChars(name);
  const d = new D(v);
  if (d.decimalPlaces() > ASSET_PRECISION) throw errors.tooMuchPrecision(name);
  return d;
}

export function clientOrderIdParam(params: Params, name: string): string | undefined {
  const v = present(params, name);
  if (v !== undefined && !CLIENT_ID_RE.test(v)) throw errors.illegalChars(name, CLIENT_ID_RANGE);
  return v;
}

/** Parses POST /api/v3/order (and the new-order half of cancelReplace) without touching any state. */
export function parseNewOrder(params: Params, market: SimMarket): NewOrderRequest {
  const sideRaw = required(params, 'side');
  if (sideRaw !== 'BUY' && sideRaw !== 'SELL') throw errors.invalidSide();
  const typeRaw = required(params, 'type');
  const unsupported = UNSUPPORTED_TYPES[typeRaw];
  if (unsupported && !market.orderTypes.includes(typeRaw)) throw errors.unsupportedType(unsupported);
  if (typeRaw !== 'LIMIT' && typeRaw !== 'LIMIT_MAKER' && typeRaw !== 'MARKET' && !isStopType(typeRaw)) throw errors.invalidOrderType();
  const type: OrderType = typeRaw;
  const tifRaw = present(params, 'timeInForce');
  const quantity = decimalParam(params, 'quantity');
  const quoteOrderQty = decimalParam(params, 'quoteOrderQty');
  const price = decimalParam(params, 'price');
  const newClientOrderId = clientOrderIdParam(params, 'newClientOrderId');
  const respRaw = present(params, 'newOrderRespType');
  if (respRaw !== undefined && respRaw !== 'ACK' && respRaw !== 'RESULT' && respRaw !== 'FULL') throw errors.invalidParam('newOrderRespType');
  const respType: RespType = respRaw ?? (type === 'LIMIT_MAKER' ? 'ACK' : 'FULL');

  const req: NewOrderRequest = { market, side: sideRaw, type, respType };
  if (newClientOrderId !== undefined) req.newClientOrderId = newClientOrderId;
  const stopPrice = decimalParam(params, 'stopPrice');
  if (isStopType(type)) {
    // STOP_LOSS / TAKE_PROFIT: quantity + stopPrice; the *_LIMIT ones also price + timeInForce.
    if (stopPrice === undefined) throw errors.mandatory('stopPrice');
    if (quantity === undefined) throw errors.mandatory('quantity');
    if (quoteOrderQty !== undefined) throw errors.notRequired('quoteOrderQty');
    req.quantity = quantity;
    req.stopPrice = stopPrice;
    if (type === 'STOP_LOSS' || type === 'TAKE_PROFIT') {
      if (tifRaw !== undefined) throw errors.tifNotRequired();
      if (price !== undefined) throw errors.notRequired('price');
      return req;
    }
    if (tifRaw === undefined) throw errors.mandatory('timeInForce');
    if (tifRaw !== 'GTC' && tifRaw !== 'IOC' && tifRaw !== 'FOK') throw errors.invalidTif();
    if (price === undefined) throw errors.mandatory('price');
    req.timeInForce = tifRaw;
    req.price = price;
    return req;
  }
  if (stopPrice !== undefined) throw errors.notRequired('stopPrice');
  if (type === 'MARKET') {
    if (tifRaw !== undefined) throw errors.tifNotRequired();
    if (price !== undefined) throw errors.notRequired('price');
    if (quantity === undefined && quoteOrderQty === undefined) throw errors.eitherParam('quantity', 'quoteOrderQty');
    if (quantity !== undefined && quoteOrderQty !== undefined) throw errors.notRequired('quoteOrderQty');
    if (quantity !== undefined) req.quantity = quantity;
    if (quoteOrderQty !== undefined) req.quoteOrderQty = quoteOrderQty;
    return req;
  }
  if (type === 'LIMIT') {
    if (tifRaw === undefined) throw errors.mandatory('timeInForce');
    if (tifRaw !== 'GTC' && tifRaw !== 'IOC' && tifRaw !== 'FOK') throw errors.invalidTif();
    req.timeInForce = tifRaw;
  } else if (tifRaw !== undefined) {
    throw errors.tifNotRequired();
  }
  if (quantity === undefined) throw errors.mandatory('quantity');
  if (price === undefined) throw errors.mandatory('price');
  if (quoteOrderQty !== undefined) throw errors.notRequired('quoteOrderQty');
  req.quantity = quantity;
  req.price = price;
  return req;
}

/** Base quantity a quote-amount MARKET order buys or sells at `price`, rounded down to the step. */
export function quantityForQuote(quoteQty: Decimal, price: Decimal, market: SimMarket): Decimal {
  return quoteQty.div(price).div(market.stepSize).floor().times(market.stepSize);
}

/**
 * The symbol filters. `marketPrice` prices a MARKET order (Binance uses the average price; the
 * simulator the current one); `openOrders` counts the account's open orders on the symbol.
 */
export function checkFilters(req: NewOrderRequest, marketPrice: Decimal, openOrders: number): void {
  const m = req.market;
  if (m.status !== 'TRADING') throw errors.marketClosed();
  const isMarket = req.type === 'MARKET';
  for (const p of [req.price, req.stopPrice]) {
    if (p === undefined) continue;
    if (p.lt(m.minPrice) || p.gt(m.maxPrice) || !p.minus(m.minPrice).mod(m.tickSize).isZero()) throw errors.filter('PRICE_FILTER');
  }
  const qty = req.quantity ?? quantityForQuote(req.quoteOrderQty ?? new D(0), marketPrice, m);
  if (qty.lt(m.minQty) || qty.gt(m.maxQty) || !qty.minus(m.minQty).mod(m.stepSize).isZero()) throw errors.filter('LOT_SIZE');
  const notional = req.quoteOrderQty ?? qty.times(req.price ?? req.stopPrice ?? marketPrice);
  if (notional.lt(m.minNotional)) throw errors.filter('MIN_NOTIONAL');
  if (!isMarket && notional.gt(m.maxNotional)) throw errors.filter('NOTIONAL');
  if (!isMarket && openOrders >= m.maxNumOrders) throw errors.filter('MAX_NUM_ORDERS');
}
