import Decimal from 'decimal.js';
import type { Exchange, Order as CcxtOrder, Trade as CcxtTrade } from 'ccxt';
import { AppError, isAppError } from '../../shared/errors';
import type { ExchangeGateway } from '../exchanges/gateway';

/**
 * The edge between CCXT (which speaks JavaScript numbers) and the app (which speaks Decimal):
 * conversions in both directions, the parsed shapes of orders and trades, and exchange reads that
 * honour a 429's Retry-After once.
 */

/** A CCXT number (or numeric string) as a Decimal; null for absent or not-a-number. */
export function dec(n: unknown): Decimal | null {
  if (n === undefined || n === null || n === '') return null;
  if (typeof n === 'number' && !Number.isFinite(n)) return null;
  if (typeof n !== 'number' && typeof n !== 'string') return null;
  try {
    const d = new Decimal(String(n));
    return d.isFinite() ? d : null;
  } catch {
    return null;
  }
}

/**
 * A Decimal as the number CCXT's signatures want. Only values that survive the round trip exactly
 * are allowed (≤ 15 significant digits): CCXT turns the number back into the same decimal string
 * (`numberToString`) before applying the market's precision, so nothing is lost on the way.
 */
/** `what` names the number by key (`coreLast.field.*`), nested in the error so it reads in the reader's language. */
export function toCcxtNumber(d: Decimal, what: 'value' | 'amount' | 'price' | 'triggerPrice'): number {
  const n = Number(d.toFixed());
  if (!Number.isFinite(n) || !new Decimal(String(n)).eq(d)) {
    throw new AppError('invalid_order', 'errors.trading.hasMoreSignificantDigits', { what: { key: `coreLast.field.${what}` }, value: d.toFixed() });
  }
  return n;
}

export interface ParsedOrder {
  id: string | null;
  clientOrderId: string | null;
  symbol: string | null;
  side: 'buy' | 'sell' | null;
  type: 'market' | 'limit' | null;
  /** CCXT's unified status: open, closed, canceled, expired, rejected, … */
  ccxtStatus: string | null;
  amount: Decimal | null;
  price: Decimal | null;
  filled: Decimal | null;
  cost: Decimal | null;
  average: Decimal | null;
  /** Every fee currency, summed per currency, in the order they appear (e.g. BNB, then USDT). */
  fees: { cost: Decimal; currency: string }[];
  timestamp: number | null;
  /** When the exchange last changed the order (ms): its close time once it is closed. */
  lastUpdate: number | null;
}

type FeeSource = { fee?: { cost?: unknown; currency?: unknown } | null; fees?: { cost?: unknown; currency?: unknown }[] | null };

function feesOf(o: FeeSource): { cost: Decimal; currency: string }[] {
  const list = (o.fees && o.fees.length ? o.fees : o.fee ? [o.fee] : []).filter((f) => f && typeof f.currency === 'string' && dec(f.cost) !== null);
  const out: { cost: Decimal; currency: string }[] = [];
  for (const f of list) {
    const currency = String(f.currency);
    const seen = out.find((x) => x.currency === currency);
    if (seen) seen.cost = seen.cost.plus(dec(f.cost)!);
    else out.push({ cost: dec(f.cost)!, currency });
  }
  return out;
}

/** A trade's fee (one currency; a trade listing several keeps the first). */
function feeOf(o: FeeSource): { cost: Decimal; currency: string } | null {
  return feesOf(o)[0] ?? null;
}

/** Decimal with room for the exact product of any two amounts (no rounding to 20 digits). */
const EXACT = Decimal.clone({ precision: 1000 });

/** a × b, exactly. */
export function exactProduct(a: Decimal, b: Decimal): Decimal {
  return new Decimal(new EXACT(a.toFixed()).times(b.toFixed()).toFixed());
}

const sideOf = (s: unknown): 'buy' | 'sell' | null => (s === 'buy' || s === 'sell' ? s : null);
const typeOf = (t: unknown): 'market' | 'limit' | null => {
  const v = typeof t === 'string' ? t.toLowerCase() : '';
  return v === 'market' ? 'market' : v === 'limit' || v === 'limit_maker' ? 'limit' : null;
};

export function parseOrder(o: CcxtOrder): ParsedOrder {
  const price = dec(o.price);
  return {
    id: o.id ? String(o.id) : null,
    clientOrderId: o.clientOrderId ? String(o.clientOrderId) : null,
    symbol: o.symbol ? String(o.symbol) : null,
    side: sideOf(o.side),
    type: typeOf(o.type),
    ccxtStatus: o.status ? String(o.status) : null,
    amount: dec(o.amount),
    price: price && price.gt(0) ? price : null,
    filled: dec(o.filled),
    cost: dec(o.cost),
    average: dec(o.average),
    fees: feesOf(o as unknown as FeeSource),
    timestamp: typeof o.timestamp === 'number' ? o.timestamp : null,
    lastUpdate: typeof o.lastUpdateTimestamp === 'number' ? o.lastUpdateTimestamp : typeof o.lastTradeTimestamp === 'number' ? o.lastTradeTimestamp : null,
  };
}

export interface ParsedTrade {
  id: string;
  orderId: string | null;
  symbol: string;
  side: 'buy' | 'sell';
  price: Decimal;
  amount: Decimal;
  cost: Decimal;
  fee: { cost: Decimal; currency: string } | null;
  takerOrMaker: string | null;
  timestamp: number;
}

export function parseTrade(t: CcxtTrade): ParsedTrade | null {
  const price = dec(t.price);
  const amount = dec(t.amount);
  const side = sideOf(t.side);
  if (!t.id || !t.symbol || !price || !amount || !side) return null;
  return {
    id: String(t.id),
    orderId: t.order ? String(t.order) : null,
    symbol: String(t.symbol),
    side,
    price,
    amount,
    // the exact product, not CCXT's float cost
    cost: exactProduct(price, amount),
    fee: feeOf(t as unknown as FeeSource),
    takerOrMaker: t.takerOrMaker ? String(t.takerOrMaker) : null,
    timestamp: typeof t.timestamp === 'number' ? t.timestamp : Date.now(),
  };
}

// ---------------------------------------------------------------------------------------------
// Rate limits

const RETRY_AFTER = Symbol('aristobot.retryAfterMs');
const EXCHANGE_BODY = Symbol('aristobot.exchangeBody');
const HTTP_STATUS = Symbol('aristobot.httpStatus');
const INSTRUMENTED = Symbol('aristobot.errorsInstrumented');

type Headers = Record<string, string | undefined> | undefined;

function retryAfterMs(headers: Headers): number | null {
  if (!headers) return null;
  const raw = headers['Retry-After'] ?? headers['retry-after'];
  if (raw === undefined) return null;
  const secs = Number(raw);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

/** `{ code, msg }` of an exchange's error body (Binance style), when it has one. */
function bodyOf(response: unknown): { code: string; msg: string } | null {
  if (response === null || typeof response !== 'object') return null;
  const r = response as Record<string, unknown>;
  const code = typeof r.code === 'number' || typeof r.code === 'string' ? String(r.code) : null;
  const msg = typeof r.msg === 'string' ? r.msg : typeof r.message === 'string' ? r.message : null;
  return code !== null && msg !== null ? { code, msg: msg.slice(0, 200) } : null;
}

/**
 * Makes the exchange instance attach to the error it throws what CCXT drops: the HTTP status of the
 * answer, the Retry-After of a 429/418 answer, and the exchange's own error code and message.
 * Idempotent.
 */
export function instrumentErrors(ex: Exchange): void {
  const target = ex as unknown as Record<symbol, unknown> & { handleErrors: (...a: unknown[]) => unknown; handleHttpStatusCode: (...a: unknown[]) => unknown };
  if (target[INSTRUMENTED]) return;
  target[INSTRUMENTED] = true;
  const original = target.handleErrors;
  target.handleErrors = function (this: unknown, ...args: unknown[]): unknown {
    const [code, , , , headers, , response] = args as [number, string, string, string, Headers, string, unknown];
    try {
      return original.apply(this, args);
    } catch (e) {
      if (e !== null && typeof e === 'object') {
        if (typeof code === 'number') (e as Record<symbol, unknown>)[HTTP_STATUS] = code;
        if (code === 429 || code === 418) (e as Record<symbol, unknown>)[RETRY_AFTER] = retryAfterMs(headers);
        (e as Record<symbol, unknown>)[EXCHANGE_BODY] = bodyOf(response);
      }
      throw e;
    }
  };
  // CCXT's fallback when the exchange's own handler let the answer through (e.g. a 503 with an HTML body).
  const originalStatus = target.handleHttpStatusCode;
  target.handleHttpStatusCode = function (this: unknown, ...args: unknown[]): unknown {
    try {
      return originalStatus.apply(this, args);
    } catch (e) {
      if (e !== null && typeof e === 'object' && typeof args[0] === 'number') (e as Record<symbol, unknown>)[HTTP_STATUS] = args[0];
      throw e;
    }
  };
}

/** The HTTP status of the answer that made CCXT throw, when there was an answer. */
export function httpStatusOf(e: unknown): number | null {
  if (e === null || typeof e !== 'object') return null;
  const v = (e as Record<symbol, unknown>)[HTTP_STATUS];
  return typeof v === 'number' ? v : null;
}

/** The Retry-After (ms) the exchange sent with a rate-limit refusal, when it sent one. */
export function retryAfterOf(e: unknown): number | null {
  if (e === null || typeof e !== 'object') return null;
  const v = (e as Record<symbol, unknown>)[RETRY_AFTER];
  return typeof v === 'number' ? v : null;
}

function exchangeBodyOf(e: unknown): { code: string; msg: string } | null {
  if (e === null || typeof e !== 'object') return null;
  return ((e as Record<symbol, unknown>)[EXCHANGE_BODY] as { code: string; msg: string } | null | undefined) ?? null;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One exchange call through the gateway (errors mapped to AppError). A rate-limit refusal carries
 * `details.retryAfterMs` when the exchange said how long to wait; every error that came with an
 * answer carries its `details.httpStatus`. An HTTP 5xx is the exchange failing, not refusing: Binance
 * documents it as "execution status unknown", whatever error class CCXT picked for its body.
 */
export async function callExchange<T>(gateway: Pick<ExchangeGateway, 'run'>, ex: Exchange, what: string, fn: () => Promise<T>): Promise<T> {
  instrumentErrors(ex);
  let retryAfter: number | null = null;
  let body: { code: string; msg: string } | null = null;
  let status: number | null = null;
  try {
    return await gateway.run(ex.id, what, async () => {
      try {
        return await fn();
      } catch (e) {
        retryAfter = retryAfterOf(e);
        body = exchangeBodyOf(e);
        status = httpStatusOf(e);
        throw e;
      }
    });
  } catch (e) {
    if (!isAppError(e)) throw e;
    const details = { ...(e.details as Record<string, unknown> | undefined) };
    let message: AppError = e;
    const said = body as { code: string; msg: string } | null;
    const httpStatus = status as number | null;
    if (said && !details.exchangeCode) {
      // CCXT matched the error by its message and dropped the exchange's code: put it back.
      details.exchangeCode = said.code;
      details.exchangeMessage = said.msg;
      message = new AppError(e.code, 'errors.trading.withExchangeCode', { reason: message.message.replace(/\.$/, ''), code: said.code, msg: said.msg, end: /[.!?]$/.test(said.msg) ? '' : '.' });
    }
    if (e.code === 'exchange_rate_limit') details.retryAfterMs = retryAfter;
    if (httpStatus !== null) details.httpStatus = httpStatus;
    if (httpStatus !== null && httpStatus >= 500 && e.code === 'exchange_error') {
      // Not a refusal ("refused the request"): the exchange failed while handling it.
      const code = typeof details.exchangeCode === 'string' && details.exchangeCode ? `, code ${details.exchangeCode}` : '';
      const msg = typeof details.exchangeMessage === 'string' && details.exchangeMessage ? `: ${details.exchangeMessage.replace(/[.!?]$/, '')}` : '';
      message = new AppError(e.code, 'errors.trading.serverError', { id: ex.id, httpStatus, code, msg });
      details.retryable = true;
    }
    throw new AppError(e.code, message.key, message.params, details);
  }
}

/** The HTTP status an AppError from `callExchange` carries, or null. */
export function httpStatusFromError(e: unknown): number | null {
  if (!isAppError(e)) return null;
  const v = (e.details as { httpStatus?: unknown } | undefined)?.httpStatus;
  return typeof v === 'number' ? v : null;
}

/** How long a rate-limit error asks to wait (ms), or null. */
export function retryAfterFromError(e: unknown): number | null {
  if (!isAppError(e)) return null;
  const v = (e.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof v === 'number' ? v : null;
}

export interface ReadOptions {
  /** The longest Retry-After honoured by waiting (longer: the error is passed on). */
  maxWaitMs: number;
  /** Wait when a 429 names no Retry-After. */
  defaultWaitMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A read (no side effect at the exchange): on a rate-limit refusal, waits the Retry-After (within
 * `maxWaitMs`) and tries exactly once more. Never used for anything that changes money.
 */
export async function readExchange<T>(gateway: Pick<ExchangeGateway, 'run'>, ex: Exchange, what: string, fn: () => Promise<T>, opts: ReadOptions): Promise<T> {
  try {
    return await callExchange(gateway, ex, what, fn);
  } catch (e) {
    if (!isAppError(e) || e.code !== 'exchange_rate_limit') throw e;
    const wait = retryAfterFromError(e) ?? opts.defaultWaitMs;
    if (wait > opts.maxWaitMs) {
      throw new AppError('exchange_rate_limit', 'errors.trading.rateLimitingRequestsAsks', { id: ex.id, wait: Math.ceil(wait / 1000) }, e.details);
    }
    await (opts.sleep ?? sleep)(wait);
    return callExchange(gateway, ex, what, fn);
  }
}
