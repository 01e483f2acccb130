import { randomBytes } from 'node:crypto';
import ccxt, { type Exchange, type Market, type Order as CcxtOrder, type Trade as CcxtTrade } from 'ccxt';
import Decimal from 'decimal.js';
import { AppError, ERROR_CODES, externalError, invalidField, isAppError, type ErrorCode } from '../../shared/errors';
import { hasKey, type MessageKey, type Params, type Text } from '../../shared/i18n';
import type { Database } from '../db/database';
import type { EventBus } from '../events';
import type { Broker } from '../exchanges/brokers';
import type { ExchangeGateway } from '../exchanges/gateway';
import { marketRecord, type MarketRecord } from '../exchanges/markets';
import type { Logger } from '../log';
import { callExchange, dec, httpStatusFromError, parseOrder, parseTrade, readExchange, retryAfterFromError, sleep, toCcxtNumber, type ParsedOrder, type ReadOptions } from './ccxt-io';
import {
  fillsOf,
  filledByFills,
  findForExchangeOrder,
  getByClientId,
  getOrder,
  insertExternal,
  recordFills,
  insertOrder,
  markSent,
  markStatus,
  type JournalError,
  OPEN_STATUSES,
  PENDING_STATUSES,
  queryJournal,
  settleOrder,
  TERMINAL_STATUSES,
  toOrderDto,
  type FillDto,
  type JournalQuery,
  type OrderDto,
  type OrderRow,
  type OrderSourceT,
} from './journal';
import { currentSandbox, exchangeIn, sandboxOf, type BrokerAccess } from './mode';
import { worded } from '../exchanges/texts';
import { amountFromCost, checkOrder, orderProblem, problemsText, roundToTick } from './precision';
import { checkLevels, nativeSupport, type ProtectLeg } from './protection';

export type { BrokerAccess } from './mode';

/**
 * The order service: the one path by which any source (manual trading, webhooks, the bot) places,
 * cancels and modifies orders.
 *
 * Placing an order: validate (market precision and limits with exact decimals, that CCXT can be
 * given the amount and price exactly, then the balance) → journal the attempt with its client order
 * id and its mode (live or testnet) and COMMIT ('intent') → mark it 'sent' → send it with that
 * client order id → settle the journal from the answer (fills and position included). A trusted
 * in-process caller (the bot) may hand over the reference price and the free balance it already
 * knows (`PlaceRequest.known`): the ticker and balance reads are then spared. Refusals —
 * local or by the exchange — are journaled as 'rejected'. When the answer is lost (a timeout, a 429,
 * an HTTP 5xx, a crash) the order is looked up at the exchange, never sent again; what cannot be
 * resolved yet stays 'unknown' and `reconcile` retries it.
 *
 * Modes: every row is looked up, cancelled, modified and synced in the mode it was placed in
 * (mode.ts), whatever the testnet switch says now.
 *
 * Client order ids (idempotency): a client order id names ONE attempt per broker and mode. `place`
 * with an id already journaled sends nothing and answers the journaled attempt: the row when it was
 * placed or is still being resolved; an error (the row's code, `details.order`) when it was refused.
 * Only a decision about the order binds the caller's id: a local refusal (precision, limits,
 * balance) or the exchange's answer. A failure to prepare the order at all — the exchange unreachable
 * or rate-limiting while the markets, ticker or balance are read, the broker inactive or its keys
 * unavailable, the app shutting down — is answered as an error and journals nothing, so the caller
 * may simply try again with the same id.
 *
 * Lookups after a lost answer: by client order id where the exchange is known to support it
 * (`CLIENT_ID_LOOKUP`), and there only does "not found" count as the exchange's word that the order
 * does not exist. Elsewhere the exchange's open orders and recent closed orders are searched for the
 * client order id; not finding it there proves nothing, and the row stays 'unknown'.
 */

export type Side = 'buy' | 'sell';
export type Kind = 'market' | 'limit';
export type Source = Exclude<OrderSourceT, 'external'>;

export interface PlaceRequest {
  brokerId: string;
  symbol: string;
  side: Side;
  type: Kind;
  /** In the base currency; or give `cost` (quote currency) instead. */
  amount?: Decimal.Value;
  cost?: Decimal.Value;
  /** Limit price (required for limit orders; ignored for market orders). */
  price?: Decimal.Value;
  source: Source;
  sourceRef?: string;
  /** A caller's idempotency key (a webhook's dedupe key): the same id never places twice. */
  clientOrderId?: string;
  /** Modify by cancel-and-replace: the order this one replaces. */
  replacesOrderId?: string;
  /**
   * In process only (the bot engine): what a trusted caller already knows, so that preparing the
   * order need not ask the exchange for it. Never part of the API contract (`orders.place`'s input is
   * strict: a call carrying it is refused), nor passed on by the API's, the shell's or the webhooks'
   * handlers. See `KnownState`.
   */
  known?: KnownState;
  /**
   * In process only (the bot engine), like `known`: the caller's own record that must be committed
   * before anything is journaled for this order (its intent, or a local refusal) — the bot's
   * decision, written while the order is being prepared. The order service prepares the order
   * (broker, market, precision, the known price and balance), then waits for it: `true`, the order
   * goes on; `false` (the caller withdraws it: that decision was made before) or a rejection (the
   * record could not be written), and nothing is journaled or sent — the place rejects
   * (`conflict`, or the record's own error).
   */
  after?: Promise<boolean>;
}

/**
 * What an in-process caller hands over with a place request instead of the order service's REST
 * reads. Everything else (market rules, precision, the journal, idempotency) is as without it.
 * - `price`: the reference price of a MARKET order (the amount of a `cost` order and the cost
 *   checked against the market's limits are computed at it), observed at `observedAt` (epoch ms, the
 *   wall clock). Used only when at most `knownPriceMaxAgeMs` old (default 60 s), else the ticker is
 *   read as without it.
 * - `free`: the free balance of `asset`; when `asset` is what the order spends (the quote for a buy,
 *   the base for a sell), the order is checked against it instead of the exchange's balance — too
 *   small, and the order is refused and journaled exactly as after a read (`insufficient_funds`,
 *   the `insufficient_balance` problem). The exchange still refuses what the account cannot pay.
 * Both are for market orders only: a limit order is prepared exactly as without them.
 */
export interface KnownState {
  price?: { value: Decimal.Value; observedAt: number };
  free?: { asset: string; amount: Decimal.Value };
}

export interface ProtectRequest {
  brokerId: string;
  symbol: string;
  /** The base quantity to protect (the position, or the part of it these orders close). */
  amount: Decimal.Value;
  stopLoss?: Decimal.Value | null;
  takeProfit?: Decimal.Value | null;
  /** The price the levels are checked against (the entry); default the last price. */
  entryPrice?: Decimal.Value;
  source: Source;
  sourceRef?: string;
  /** Names the pair (≤ 33 characters): the legs are `<id>-sl` and `<id>-tp`; the same id never places twice. */
  clientOrderId: string;
}

export interface Protection {
  /** 'native': orders at the exchange; 'watched': the caller watches the price (the reason says why). */
  mode: 'native' | 'watched';
  how: 'oco' | 'separate' | 'single' | null;
  /** English; `reasonKey`/`reasonParams` word the same in the profile's language. */
  reason: string;
  reasonKey: MessageKey;
  reasonParams: Params;
  orders: OrderRow[];
  ocoRef: string | null;
}

export interface CheckItem {
  name: 'market' | 'amount' | 'price' | 'cost' | 'balance';
  ok: boolean;
  /** English; `key`/`params` word the same in the renderer's language (a problem list nests as `coreTrading.list`). */
  message: string;
  key: string | null;
  params: Params | null;
}

export interface Validation {
  ok: boolean;
  symbol: string;
  side: Side;
  type: Kind;
  base: string | null;
  quote: string | null;
  amount: Decimal | null;
  price: Decimal | null;
  referencePrice: Decimal | null;
  cost: Decimal | null;
  problems: Problem[];
  checks: CheckItem[];
  balance: { asset: string; free: Decimal; required: Decimal } | null;
  market: MarketRecord | null;
  validUntil: Date | null;
}

/** Problems beyond precision.ts's: the market, the reference price, the balance. */
export interface Problem {
  field: string;
  code: string;
  /** English (the key's English wording). */
  message: string;
  /** The same by catalogue key (`coreTrading.problem.*`) and parameters. */
  key: MessageKey;
  params: Params;
}

export interface OrderHooks {
  /** The intent row is committed; nothing has been sent. */
  afterIntent?(order: OrderRow): void | Promise<void>;
  /** The row is marked 'sent'; the request is about to leave. */
  beforeSend?(order: OrderRow): void | Promise<void>;
  /** The exchange answered; the answer is not stored yet. */
  afterAnswer?(order: OrderRow, answer: CcxtOrder): void | Promise<void>;
}

export interface OrderServiceOptions {
  db: Database;
  brokers: BrokerAccess;
  gateway: Pick<ExchangeGateway, 'run' | 'timeoutMs' | 'forBroker' | 'loadMarkets' | 'info'>;
  bus: EventBus;
  log: Logger;
  hooks?: OrderHooks;
  /** How long a full validation holds (the UI's timer). Default 30 s. */
  validForMs?: number;
  /** The longest Retry-After waited for before one more try of a read, or a lookup. Default 10 s. */
  maxRetryAfterMs?: number;
  /** The wait after a 429 without Retry-After. Default 1 s. */
  defaultRetryAfterMs?: number;
  /** How old a caller's known price (`PlaceRequest.known.price`) may be and still stand in for the ticker. Default 60 s. */
  knownPriceMaxAgeMs?: number;
  /** Waits between the lookups by client order id after a lost answer. Default 0.3, 1, 2 s. */
  lookupDelaysMs?: number[];
  /**
   * After how long (ms since sent) an order the exchange does not know provably never arrived.
   * Default: the exchange's recvWindow (Binance refuses older requests) + the request timeout + 60 s
   * for clock skew; exchanges without a recvWindow never conclude this (the row stays 'unknown').
   * Applies only where a lookup by client order id is authoritative (`clientIdLookup`).
   */
  neverArrivedAfterMs?: number;
  /** How often pending rows (intent/sent/unknown) are reconciled in the background. Default 30 s; 0 = never. */
  reconcileIntervalMs?: number;
  /** Closed orders of the traded symbols are re-read at most this often per broker. Default 60 s. */
  fullSyncEveryMs?: number;
  /** Exchanges whose lookup by client order id is trusted. Default `CLIENT_ID_LOOKUP`. */
  clientIdLookup?: readonly string[];
  /** How long `stop` waits for orders being placed, cancelled or modified to settle. Default 15 s. */
  stopTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const CLIENT_ID = /^[A-Za-z0-9._:/-]{1,36}$/;
const SOURCE_LETTER: Record<Source, string> = { manual: 'm', strategy: 's', webhook: 'w' };

/**
 * Exchanges whose CCXT `fetchOrder` finds an order by the client order id given in `params`, so that
 * its "order not found" is the exchange's word that no order has that id. Checked in CCXT's source
 * (4.5): binance's fetchOrder sends `params.clientOrderId` (or `origClientOrderId`) as
 * `origClientOrderId` and its createOrder sends `params.clientOrderId` as `newClientOrderId`;
 * binanceus, binanceusdm and binancecoinm inherit both. Many other exchanges ignore the parameter
 * (and would answer "not found" for the empty order id instead): they are searched by listing.
 */
export const CLIENT_ID_LOOKUP: readonly string[] = ['binance', 'binanceus', 'binanceusdm', 'binancecoinm'];

/** A pending order that was checked less than this long ago is not looked up again by a page sync. */
const RECHECK_AFTER_S = 15;

/** `a3` + source letter + 24 hex digits (96 random bits): 27 characters, valid on Binance (≤ 36) and most exchanges. */
export function newClientOrderId(source: Source): string {
  return `a3${SOURCE_LETTER[source]}${randomBytes(12).toString('hex')}`;
}

function toDecimal(v: Decimal.Value | undefined, field: string): Decimal | null {
  if (v === undefined || v === null || v === '') return null;
  try {
    const d = new Decimal(v);
    if (!d.isFinite()) throw new Error('not finite');
    return d;
  } catch {
    throw invalidField(field, 'errors.trading.mustDecimalNumberE', { field });
  }
}

/** A caller's known value as a Decimal; null when it is not a finite number (the exchange is asked instead). */
function toKnownDecimal(v: Decimal.Value): Decimal | null {
  try {
    const d = new Decimal(v);
    return d.isFinite() ? d : null;
  } catch {
    return null;
  }
}

function splitSymbol(symbol: string): { base: string; quote: string } {
  const [base = symbol, rest = ''] = symbol.split('/');
  return { base, quote: rest.split(':')[0] ?? rest };
}

/** Whether CCXT can be given this value exactly (see `toCcxtNumber`). */
function fitsCcxtNumber(d: Decimal): boolean {
  try {
    toCcxtNumber(d, 'value');
    return true;
  } catch {
    return false;
  }
}

const isNotFound = (e: unknown): boolean => isAppError(e) && (e.code === 'not_found' || (e.details as { kind?: string } | undefined)?.kind === 'OrderNotFound');
const isRetryable = (e: unknown): boolean => isAppError(e) && (e.details as { retryable?: boolean } | undefined)?.retryable === true;
const asErrorCode = (code: string | null): ErrorCode => (code && (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'conflict');

/**
 * Whether a failed create means the order was certainly not placed: the exchange (or CCXT, before
 * sending) refused it — CCXT's ExchangeError family. Anything else (timeouts, 429s, an answer that
 * could not be read, and any HTTP 5xx — Binance: "execution status unknown", even when CCXT maps its
 * body to an ExchangeError) leaves the outcome open, to be settled by looking the order up.
 */
function isRefusal(e: AppError): boolean {
  if (isRetryable(e)) return false;
  const status = httpStatusFromError(e);
  if (status !== null && status >= 500) return false;
  const kind = (e.details as { kind?: unknown } | undefined)?.kind;
  if (kind === undefined) return true; // the app's own refusal, raised before anything was sent
  const cls = typeof kind === 'string' ? (ccxt as unknown as Record<string, unknown>)[kind] : undefined;
  return typeof cls === 'function' && (cls === ccxt.ExchangeError || cls.prototype instanceof ccxt.ExchangeError);
}

/** The exchange's own code and message, when the error carries them. */
function exchangeSaid(e: AppError): string | null {
  const d = e.details as { exchangeCode?: string | null; exchangeMessage?: string | null } | undefined;
  if (!d) return null;
  return d.exchangeCode || d.exchangeMessage ? `${d.exchangeCode ?? ''}${d.exchangeCode && d.exchangeMessage ? ': ' : ''}${d.exchangeMessage ?? ''}` : null;
}

/**
 * What a lookup of a pending order found: the order; `absent` — the exchange said no order has this
 * client order id (only where that answer is trusted); `not_seen` — not among the open and recent
 * orders (proves nothing); or the lookup failed.
 */
type Lookup = { kind: 'found'; order: ParsedOrder } | { kind: 'absent' } | { kind: 'not_seen' } | { kind: 'error'; error: AppError };

/** The journal fields of an attempt, as requested and as it would be sent. */
function journalFields(req: PlaceRequest, p: Prepared, clientOrderId: string, price: Prepared['price']) {
  return {
    brokerId: req.brokerId,
    sandbox: p.sandbox,
    exchange: p.broker.exchange,
    source: req.source,
    sourceRef: req.sourceRef ?? null,
    symbol: req.symbol,
    side: req.side,
    type: req.type,
    requestedAmount: p.requestedAmount,
    requestedCost: p.requestedCost,
    requestedPrice: p.requestedPrice,
    amount: p.amount,
    price,
    clientOrderId,
    replacesOrderId: req.replacesOrderId ?? null,
  };
}

/** A broker's exchange instance in one mode. */
interface Target {
  ex: Exchange;
  broker: Broker;
}

interface Prepared {
  ex: Exchange;
  broker: Broker;
  sandbox: boolean;
  market: MarketRecord | null;
  amount: Decimal | null;
  price: Decimal | null;
  referencePrice: Decimal | null;
  cost: Decimal | null;
  requestedAmount: Decimal | null;
  requestedCost: Decimal | null;
  requestedPrice: Decimal | null;
  problems: Problem[];
  balance: { asset: string; free: Decimal; required: Decimal } | null;
  balanceChecked: boolean;
}

/** An order status as a message parameter (the trading page's own word for it, in the reader's language). */
function statusText(status: OrderRow['status']): Text {
  return { key: `tradingPage.status.${status}`, params: {} };
}

/** An AppError as the journal keeps it: its code, English message, key and params. */
function journalError(err: AppError): JournalError {
  return { code: err.code, message: err.message, key: err.key, params: err.params };
}

/** A journal reason of our own, by key (its English wording is the message). */
function journalText(code: string | null, key: MessageKey, params: Record<string, unknown> = {}): JournalError {
  const w = worded(key, params);
  return { code, message: w.message, key: w.key, params: w.params };
}

/** A refused order's journaled reason as an error: by its key when it has one, else its stored (English or the exchange's) words. */
function journaledError(row: OrderRow): AppError {
  const reason = journaledReason(row);
  const details = { order: toOrderDto(row) };
  return reason && typeof reason === 'object' ? new AppError(asErrorCode(row.error_code), 'errors.trading.journaled', { reason }, details) : externalError(asErrorCode(row.error_code), reason ?? '', details);
}

/** A journaled reason as a message parameter: its key when it has one, else its stored words. */
function journaledReason(row: OrderRow): Text | string | null {
  return row.error_key && hasKey(row.error_key) ? { key: row.error_key, params: row.error_params ?? {} } : row.error_message;
}

/** A protection's reason: English, and by key and parameters (the renderer words it). */
function reasonOf(key: MessageKey, params: Record<string, unknown> = {}): Pick<Protection, 'reason' | 'reasonKey' | 'reasonParams'> {
  const w = worded(key, params);
  return { reason: w.message, reasonKey: w.key, reasonParams: w.params };
}

export class OrderService {
  private readonly db: Database;
  private readonly brokers: BrokerAccess;
  private readonly gateway: OrderServiceOptions['gateway'];
  private readonly bus: EventBus;
  private readonly log: Logger;
  private readonly hooks: OrderHooks;
  private readonly validForMs: number;
  private readonly knownPriceMaxAgeMs: number;
  private readonly readOpts: ReadOptions;
  private readonly lookupDelaysMs: number[];
  private readonly neverArrivedAfterMs: number | undefined;
  private readonly reconcileIntervalMs: number;
  private readonly fullSyncEveryMs: number;
  private readonly clientIdLookup: readonly string[];
  private readonly stopTimeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Rows this process is placing right now (the background reconcile leaves them alone). */
  private readonly inflight = new Set<string>();
  /** Places, cancels and modifies under way (`stop` waits for them). */
  private readonly operations = new Set<Promise<unknown>>();
  private readonly syncing = new Map<string, Promise<void>>();
  /** The cancel or modify under way per order id (see `exclusive`). */
  private readonly orderLocks = new Map<string, Promise<void>>();
  private readonly lastFullSync = new Map<string, number>();
  private readonly tickerCache = new Map<string, { at: number; last: Decimal | null; bid: Decimal | null; ask: Decimal | null; timestamp: number | null }>();
  private timer: NodeJS.Timeout | null = null;
  private reconciling: Promise<void> | null = null;
  private stopped = false;

  constructor(opts: OrderServiceOptions) {
    this.db = opts.db;
    this.brokers = opts.brokers;
    this.gateway = opts.gateway;
    this.bus = opts.bus;
    this.log = opts.log;
    this.hooks = opts.hooks ?? {};
    this.validForMs = opts.validForMs ?? 30_000;
    this.knownPriceMaxAgeMs = opts.knownPriceMaxAgeMs ?? 60_000;
    this.sleep = opts.sleep ?? sleep;
    this.readOpts = { maxWaitMs: opts.maxRetryAfterMs ?? 10_000, defaultWaitMs: opts.defaultRetryAfterMs ?? 1_000, sleep: this.sleep };
    this.lookupDelaysMs = opts.lookupDelaysMs ?? [300, 1000, 2000];
    this.neverArrivedAfterMs = opts.neverArrivedAfterMs;
    this.reconcileIntervalMs = opts.reconcileIntervalMs ?? 30_000;
    this.fullSyncEveryMs = opts.fullSyncEveryMs ?? 60_000;
    this.clientIdLookup = opts.clientIdLookup ?? CLIENT_ID_LOOKUP;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 15_000;
  }

  // -------------------------------------------------------------------------------------------
  // Lifetime

  /** Reconciles what an earlier run left pending, then keeps doing so in the background. */
  start(): void {
    this.stopped = false;
    this.kickReconcile();
    if (this.reconcileIntervalMs > 0) {
      this.timer = setInterval(() => this.kickReconcile(), this.reconcileIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Refuses new operations, then waits (at most `stopTimeoutMs`) for the orders being placed,
   * cancelled or modified to be settled in the journal, and for the reconciliation and syncs. What
   * is still running after that is left pending in the journal; the next start reconciles it.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const running = [this.reconciling, ...this.syncing.values(), ...this.operations].filter((p): p is Promise<unknown> => p !== null).map((p) => p.catch(() => undefined));
    if (!running.length) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(running).then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) this.log.warn({ operations: this.operations.size, orders: [...this.inflight] }, 'stopped while order operations were still running; the next start reconciles them');
  }

  /** Runs a place / cancel / modify unless the service is stopping, and keeps track of it for `stop`. */
  private operation<T>(what: 'placed' | 'cancelled' | 'modified' | 'protected', fn: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new AppError('unavailable', 'errors.trading.aristobotShuttingDownOrder', { what: { key: `coreLast.operation.${what}` } }));
    const p = fn();
    this.operations.add(p);
    const done = () => void this.operations.delete(p);
    void p.then(done, done);
    return p;
  }

  private kickReconcile(): void {
    if (this.reconciling || this.stopped) return;
    this.reconciling = this.reconcile()
      .then(() => undefined)
      .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'order reconciliation failed'))
      .finally(() => (this.reconciling = null));
  }

  private read<T>(ex: Exchange, what: string, fn: () => Promise<T>): Promise<T> {
    return readExchange(this.gateway, ex, what, fn, this.readOpts);
  }

  private emitOrders(profileId: string, brokerId: string | null, rows: OrderRow[], reason: string): void {
    if (rows.length) this.bus.emit('orders.updated', { brokerId, orderIds: rows.map((r) => r.id), reason }, { profileId });
  }

  /** The exchange instance of a journal row's broker in the row's own mode. */
  private exchangeOf(profileId: string, row: OrderRow): Promise<Target> {
    return exchangeIn(this.brokers, this.gateway, profileId, row.broker_id!, row.sandbox);
  }

  /** Whether the broker trades on its exchange's testnet right now (for the page's lists). */
  private async sandboxNow(profileId: string, brokerId: string): Promise<boolean> {
    return currentSandbox(this.db, this.gateway, profileId, await this.brokers.get(profileId, brokerId));
  }

  // -------------------------------------------------------------------------------------------
  // Validation

  private marketOf(ex: Exchange, exchange: string, symbol: string): { record: MarketRecord; raw: Market } | null {
    const raw = ex.markets?.[symbol];
    if (!raw) return null;
    return { record: marketRecord(exchange, raw, Number(ex.precisionMode)), raw };
  }

  /** The ticker, cached for 2 s per exchange and symbol (validation as the user types). */
  async ticker(profileId: string, brokerId: string, symbol: string): Promise<{ symbol: string; last: Decimal | null; bid: Decimal | null; ask: Decimal | null; timestamp: number | null }> {
    const { ex, broker } = await this.brokers.exchangeFor(profileId, brokerId);
    if (!ex.markets?.[symbol]) throw invalidField('symbol', 'errors.trading.hasNoMarket', { exchange: broker.exchange, symbol });
    return { symbol, ...(await this.tickerOf(ex, symbol, 0)) };
  }

  private async tickerOf(ex: Exchange, symbol: string, maxAgeMs = 2000): Promise<{ last: Decimal | null; bid: Decimal | null; ask: Decimal | null; timestamp: number | null }> {
    const key = `${ex.id}:${sandboxOf(ex) ? 's' : 'l'}:${symbol}`;
    const cached = this.tickerCache.get(key);
    if (cached && Date.now() - cached.at <= maxAgeMs) return cached;
    const t = await this.read(ex, `fetch ticker ${symbol}`, () => ex.fetchTicker(symbol));
    const v = { at: Date.now(), last: dec(t.last) ?? dec(t.close), bid: dec(t.bid), ask: dec(t.ask), timestamp: typeof t.timestamp === 'number' ? t.timestamp : null };
    this.tickerCache.set(key, v);
    return v;
  }

  /** Rounds and checks an order on the given exchange instance (default: the broker's, in the current mode). */
  private async prepare(profileId: string, req: Omit<PlaceRequest, 'source'>, opts: { balance: boolean }, target?: Target): Promise<Prepared> {
    const requestedAmount = toDecimal(req.amount, 'amount');
    const requestedCost = toDecimal(req.cost, 'cost');
    const requestedPrice = req.type === 'limit' ? toDecimal(req.price, 'price') : null;
    const { ex, broker } = target ?? (await this.brokers.exchangeFor(profileId, req.brokerId));
    const out: Prepared = { ex, broker, sandbox: sandboxOf(ex), market: null, amount: null, price: null, referencePrice: null, cost: null, requestedAmount, requestedCost, requestedPrice, problems: [], balance: null, balanceChecked: false };
    const m = this.marketOf(ex, broker.exchange, req.symbol);
    if (!m) {
      out.problems.push(orderProblem('symbol', 'symbol_unknown', 'coreTrading.problem.symbolUnknown', { exchange: broker.exchange, symbol: req.symbol }));
      return out;
    }
    const market = m.record;
    out.market = market;
    if (!market.active) out.problems.push(orderProblem('symbol', 'market_inactive', 'coreTrading.problem.marketInactive', { symbol: req.symbol, exchange: broker.exchange }));
    if (requestedAmount === null && requestedCost === null) out.problems.push(orderProblem('amount', 'amount_required', 'coreTrading.problem.amountRequired'));

    // The price the cost is computed at: the limit price, or the last price for a market order.
    let reference: Decimal | null = null;
    if (req.type === 'limit') {
      reference = requestedPrice && requestedPrice.gt(0) ? requestedPrice : null;
    } else {
      // a trusted caller's fresh price (the bot: the close of the candle it decided on), else the ticker
      reference = this.knownPrice(req) ?? (await this.tickerOf(ex, req.symbol)).last;
      if (!reference || !reference.gt(0)) out.problems.push(orderProblem('price', 'price_unavailable', 'coreTrading.problem.priceUnavailable', { symbol: req.symbol }));
    }
    out.referencePrice = reference;

    let amountIn: Decimal | null = requestedAmount;
    if (requestedCost !== null) {
      if (!requestedCost.gt(0)) {
        out.problems.push(orderProblem('cost', 'cost_invalid', 'coreTrading.problem.costInvalid', { cost: requestedCost.toFixed() }));
      } else if (reference) {
        const step = dec(market.precision.amount);
        amountIn = step && step.gt(0) ? amountFromCost(requestedCost, reference, step) : requestedCost.div(reference).toDecimalPlaces(8, Decimal.ROUND_DOWN);
      }
    }
    const rules = { base: market.base, quote: market.quote, precision: market.precision, limits: market.limits };
    if (amountIn !== null || requestedAmount !== null) {
      const check = checkOrder({ side: req.side, type: req.type, amount: amountIn ?? new Decimal(0), price: req.type === 'limit' ? (requestedPrice ?? undefined) : reference, market: rules });
      out.problems.push(...check.problems);
      out.amount = check.amount;
      out.price = check.price;
      out.cost = check.cost;
    } else if (req.type === 'limit' && requestedPrice === null) {
      out.problems.push(orderProblem('price', 'price_required', 'coreTrading.problem.priceRequired'));
    }

    // CCXT takes JavaScript numbers: a value that cannot be handed over exactly is refused here,
    // before anything is journaled, never after the order is marked sent.
    if (out.amount && out.amount.gt(0) && !fitsCcxtNumber(out.amount)) {
      out.problems.push(orderProblem('amount', 'amount_not_representable', 'coreTrading.problem.amountNotRepresentable', { amount: out.amount.toFixed() }));
    }
    if (req.type === 'limit' && out.price && out.price.gt(0) && !fitsCcxtNumber(out.price)) {
      out.problems.push(orderProblem('price', 'price_not_representable', 'coreTrading.problem.priceNotRepresentable', { price: out.price.toFixed() }));
    }

    if (opts.balance && out.problems.length === 0 && out.amount) {
      const required = req.side === 'buy' ? out.cost : out.amount;
      const asset = req.side === 'buy' ? market.quote : market.base;
      if (required) {
        // a trusted caller's free balance of the asset spent, else the exchange's
        const free = this.knownFree(req, asset) ?? dec(((await this.read(ex, 'fetch balance', () => ex.fetchBalance())).free as unknown as Record<string, unknown> | undefined)?.[asset]) ?? new Decimal(0);
        out.balance = { asset, free, required };
        out.balanceChecked = true;
        if (required.gt(free)) {
          out.problems.push(orderProblem(req.side === 'buy' ? 'cost' : 'amount', 'insufficient_balance', 'coreTrading.problem.insufficientBalance', { asset, required: required.toFixed(), free: free.toFixed() }));
        }
      }
    }
    return out;
  }

  /** The caller's known price of a market order, when given, valid and fresh (else null: the ticker is read). */
  private knownPrice(req: Omit<PlaceRequest, 'source'>): Decimal | null {
    const k = req.known?.price;
    if (!k || req.type !== 'market') return null;
    const age = Date.now() - k.observedAt;
    // a little slack for a clock read a moment before this one; a price from the future is not trusted
    if (!Number.isFinite(age) || age > this.knownPriceMaxAgeMs || age < -1000) {
      this.log.debug({ symbol: req.symbol, ageMs: age }, 'known price too old (or not a time): reading the ticker');
      return null;
    }
    const v = toKnownDecimal(k.value);
    return v && v.gt(0) ? v : null;
  }

  /** The caller's known free balance of `asset` (the asset the order spends), when given for it. */
  private knownFree(req: Omit<PlaceRequest, 'source'>, asset: string): Decimal | null {
    const k = req.known?.free;
    if (!k || req.type !== 'market' || k.asset !== asset) return null;
    const v = toKnownDecimal(k.amount);
    return v && v.gte(0) ? v : null;
  }

  private checksOf(p: Prepared, req: { type: Kind; side: Side }): CheckItem[] {
    const has = (field: string) => p.problems.filter((x) => x.field === field);
    /** The item's text: its problems (a list by key), else what is fine, by key. */
    const item = (name: CheckItem['name'], list: Problem[], ok: { key: MessageKey; params?: Record<string, unknown> } | null): CheckItem => {
      if (list.length) {
        const text = problemsText(list);
        return { name, ok: false, message: list.map((x) => x.message).join('; '), key: typeof text === 'string' ? null : text.key, params: typeof text === 'string' ? null : (text.params ?? {}) };
      }
      if (!ok) return { name, ok: true, message: '', key: null, params: null };
      const w = worded(ok.key, ok.params);
      return { name, ok: true, message: w.message, key: w.key, params: w.params };
    };
    const m = p.market;
    const items: CheckItem[] = [];
    items.push(item('market', has('symbol'), m ? { key: 'coreTrading.check.marketTrading', params: { symbol: m.symbol } } : null));
    if (!m) return items;
    const step = m.precision.amount;
    const min = m.limits.amount.min;
    const amount = { amount: p.amount?.toFixed() ?? '—', base: m.base, step, min };
    items.push(item('amount', has('amount'), { key: step ? (min ? 'coreTrading.check.amountStepMin' : 'coreTrading.check.amountStep') : min ? 'coreTrading.check.amountMin' : 'coreTrading.check.amount', params: amount }));
    const price = { price: p.price?.toFixed() ?? '—', quote: m.quote, tick: m.precision.price };
    if (req.type === 'limit') items.push(item('price', has('price'), { key: m.precision.price ? 'coreTrading.check.priceTick' : 'coreTrading.check.price', params: price }));
    else if (has('price').length) items.push(item('price', has('price'), null));
    const estimated = req.type === 'market';
    const costMin = m.limits.cost.min;
    items.push(
      item('cost', has('cost').filter((x) => x.code !== 'insufficient_balance'), {
        key: estimated ? (costMin ? 'coreTrading.check.estimatedCostMin' : 'coreTrading.check.estimatedCost') : costMin ? 'coreTrading.check.costMin' : 'coreTrading.check.cost',
        params: { cost: p.cost?.toFixed() ?? '—', quote: m.quote, min: costMin },
      }),
    );
    const balanceProblems = p.problems.filter((x) => x.code === 'insufficient_balance');
    if (p.balanceChecked && p.balance) {
      items.push(item('balance', balanceProblems, { key: 'coreTrading.check.balance', params: { free: p.balance.free.toFixed(), asset: p.balance.asset, required: p.balance.required.toFixed() } }));
    } else {
      const w = worded(p.problems.length ? 'coreTrading.check.balanceAfterProblems' : 'coreTrading.check.balanceNotYet');
      items.push({ name: 'balance', ok: false, message: w.message, key: w.key, params: w.params });
    }
    return items;
  }

  /** Rounds and checks an order without sending it (and without journaling it). */
  async validate(profileId: string, req: Omit<PlaceRequest, 'source'>, opts: { quick?: boolean } = {}): Promise<Validation> {
    const p = await this.prepare(profileId, req, { balance: !opts.quick });
    const ok = p.problems.length === 0 && (opts.quick || p.balanceChecked);
    return {
      ok,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      base: p.market?.base ?? null,
      quote: p.market?.quote ?? null,
      amount: p.amount,
      price: p.price,
      referencePrice: p.referencePrice,
      cost: p.cost,
      problems: p.problems,
      checks: this.checksOf(p, req),
      balance: p.balance,
      market: p.market,
      validUntil: ok && !opts.quick ? new Date(Date.now() + this.validForMs) : null,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Placing

  /** Journals a local refusal; `inserted` false when the client order id was journaled meanwhile (that row is returned). */
  private async journalRefusal(profileId: string, req: PlaceRequest, p: Prepared, clientOrderId: string, refusal: AppError): Promise<{ row: OrderRow; inserted: boolean }> {
    const code = refusal.code;
    const { row, inserted } = await this.db.withProfile(profileId, async (c) => {
      const r = await insertOrder(c, { ...journalFields(req, p, clientOrderId, p.price), status: 'rejected', errorCode: code, errorMessage: refusal.message, errorKey: refusal.key, errorParams: refusal.params });
      return r ? { row: r, inserted: true } : { row: (await getByClientId(c, req.brokerId, p.sandbox, clientOrderId))!, inserted: false };
    });
    if (inserted) {
      this.log.info({ order: row.id, clientOrderId, symbol: req.symbol, source: req.source, code }, 'order refused before sending');
      this.emitOrders(profileId, req.brokerId, [row], 'rejected');
    }
    return { row, inserted };
  }

  /**
   * The same client order id again (a webhook's retry, the ticket's resubmission): the journaled
   * attempt, never a new one. A refused attempt is answered as the refusal it was.
   */
  private answerExisting(row: OrderRow): OrderRow {
    if (row.status !== 'rejected') return row;
    throw new AppError(asErrorCode(row.error_code), 'errors.trading.orderWithClientOrder', { client_order_id: row.client_order_id, error_message: journaledReason(row) ?? 'no reason was recorded' }, { order: toOrderDto(row) }
    );
  }

  /**
   * Places an order. Resolves with the journal row (open, filled, …); a refusal — local or by the
   * exchange — rejects with an AppError whose `details.order` is the journal row.
   */
  place(profileId: string, req: PlaceRequest): Promise<OrderRow> {
    // a record failing before it is waited for is this call's error, not an unhandled rejection
    req.after?.catch(() => undefined);
    return this.operation('placed', () => this.placeNow(profileId, req));
  }

  /** `place`, on the given exchange instance (cancel-and-replace: the replaced order's mode), untracked. */
  private async placeNow(profileId: string, req: PlaceRequest, target?: Target): Promise<OrderRow> {
    if (req.clientOrderId !== undefined && !CLIENT_ID.test(req.clientOrderId)) {
      throw invalidField('clientOrderId', 'errors.trading.clientOrderId1');
    }
    const clientOrderId = req.clientOrderId ?? newClientOrderId(req.source);
    // The broker's exchange in the mode the order goes to. Failing here (no such broker, inactive,
    // keys unavailable, markets unreadable) decides nothing about the order: nothing is journaled.
    const t = target ?? (await this.brokers.exchangeFor(profileId, req.brokerId));
    const sandbox = sandboxOf(t.ex);
    const existing = await this.db.withProfile(profileId, (c) => getByClientId(c, req.brokerId, sandbox, clientOrderId));
    if (existing) {
      await this.cleared(req, clientOrderId);
      return this.answerExisting(existing);
    }

    let p: Prepared;
    try {
      p = await this.prepare(profileId, req, { balance: true }, t);
    } catch (e) {
      // The ticker or the balance could not be read (or the input is not a number): no decision about
      // the order, so the caller's client order id stays free for a new attempt.
      const err = isAppError(e) ? e : new AppError('internal', 'errors.trading.couldNotPrepareOrder', { reason: (e as Error).message });
      this.log.warn({ broker: req.brokerId, clientOrderId, symbol: req.symbol, source: req.source, code: err.code, err: err.message }, 'order not prepared; nothing journaled or sent');
      throw err;
    }
    // the caller's own record (`after`) committed before this order's first journal row
    await this.cleared(req, clientOrderId);
    if (p.problems.length) {
      const code: ErrorCode = p.problems.every((x) => x.code === 'insufficient_balance') ? 'insufficient_funds' : 'invalid_order';
      const refusal = new AppError(code, 'errors.trading.problems', { problems: problemsText(p.problems) }, { problems: p.problems });
      const { row, inserted } = await this.journalRefusal(profileId, req, p, clientOrderId, refusal);
      if (!inserted) return this.answerExisting(row);
      throw new AppError(code, refusal.key, refusal.params, { problems: p.problems, order: toOrderDto(row) });
    }
    // Checked by prepare(): these conversions are exact.
    const amount = toCcxtNumber(p.amount!, 'amount');
    const price = req.type === 'limit' ? toCcxtNumber(p.price!, 'price') : undefined;

    let row = await this.db.withProfile(profileId, (c) =>
      insertOrder(c, { ...journalFields(req, p, clientOrderId, req.type === 'limit' ? p.price : null), status: 'intent' }),
    );
    if (!row) {
      // Someone journaled this client order id a moment ago: that attempt is the one.
      return this.answerExisting((await this.db.withProfile(profileId, (c) => getByClientId(c, req.brokerId, p.sandbox, clientOrderId)))!);
    }
    this.inflight.add(row.id);
    try {
      await this.hooks.afterIntent?.(row);
      row = await this.markSentOrRefuse(profileId, row);
      await this.hooks.beforeSend?.(row);
      const sent = row;
      let answer: CcxtOrder;
      try {
        answer = await callExchange(this.gateway, p.ex, `create ${req.type} order`, () => p.ex.createOrder(req.symbol, req.type, req.side, amount, price, { clientOrderId }));
      } catch (e) {
        return await this.afterLostOrRefused(profileId, p.ex, sent, e);
      }
      await this.hooks.afterAnswer?.(sent, answer);
      row = await this.settle(profileId, p.ex, sent, parseOrder(answer), 'placed');
      this.log.info({ order: row.id, clientOrderId, exchangeOrderId: row.exchange_order_id, symbol: row.symbol, side: row.side, type: row.type, status: row.status, source: row.source, sandbox: row.sandbox }, 'order placed');
      return row;
    } finally {
      this.inflight.delete(row.id);
    }
  }

  /** Waits for the caller's record (`PlaceRequest.after`); throws when the caller withdraws the order or the record failed. */
  private async cleared(req: PlaceRequest, clientOrderId: string): Promise<void> {
    if (!req.after) return;
    if (await req.after) return;
    this.log.info({ broker: req.brokerId, clientOrderId, symbol: req.symbol, source: req.source }, 'order withdrawn by its caller before it was journaled; nothing journaled or sent');
    throw new AppError('conflict', 'errors.trading.withdrawn', { clientOrderId });
  }

  /**
   * Marks an attempt 'sent' (committed before the request leaves). Only an 'intent' is sent: when the
   * row has moved on (a reconciliation concluded meanwhile that it was never sent), nothing is sent.
   */
  private async markSentOrRefuse(profileId: string, row: OrderRow): Promise<OrderRow> {
    const sent = await this.db.withProfile(profileId, (c) => markSent(c, row.id));
    if (sent) return sent;
    const now = (await this.db.withProfile(profileId, (c) => getOrder(c, row.id))) ?? row;
    this.log.warn({ order: row.id, clientOrderId: row.client_order_id, status: now.status }, 'order not sent: its journal row is no longer an intent');
    throw new AppError('conflict', now.error_message ? 'errors.trading.notSentJournalSaysWhy' : 'errors.trading.notSentJournalSays', { status: statusText(now.status), reason: journaledReason(now) }, { order: toOrderDto(now) });
  }

  /**
   * A status transition from one of `from` (see journal `markStatus`). When the row has moved on —
   * another operation or a reconciliation changed it since it was read — the row as it is now,
   * with `moved` set; the caller decides from that, never from its stale copy.
   */
  private async transition(profileId: string, id: string, status: OrderRow['status'], error: JournalError | null, from: readonly OrderRow['status'][]): Promise<{ row: OrderRow; moved: boolean }> {
    return this.db.withProfile(profileId, async (c) => {
      const done = await markStatus(c, id, status, error, from);
      return done ? { row: done, moved: false } : { row: (await getOrder(c, id))!, moved: true };
    });
  }

  /** The create request failed: a refusal is journaled as such; after a lost answer the order is looked up (never resent). */
  private async afterLostOrRefused(profileId: string, ex: Exchange, row: OrderRow, e: unknown): Promise<OrderRow> {
    const err = isAppError(e) ? e : new AppError('exchange_error', 'errors.trading.message', { id: ex.id, reason: (e as Error).message }, { retryable: true });
    if (isRefusal(err)) {
      const said = exchangeSaid(err);
      const { row: rejected } = await this.transition(profileId, row.id, 'rejected', journalError(err), ['sent']);
      this.log.info({ order: row.id, clientOrderId: row.client_order_id, code: err.code, exchangeSaid: said }, 'the exchange refused the order');
      this.emitOrders(profileId, row.broker_id, [rejected], 'rejected');
      throw new AppError(err.code, err.key, err.params, { ...(err.details as object | undefined), order: toOrderDto(rejected) });
    }
    // The answer is lost (timeout, 429, 5xx, connection reset): did the exchange take the order?
    const marked = await this.transition(profileId, row.id, 'unknown', journalText(err.code, 'coreTrading.journal.noAnswer', { reason: err, clientOrderId: row.client_order_id }), ['sent']);
    let current = marked.row;
    if (marked.moved && !PENDING_STATUSES.includes(current.status)) {
      // Resolved meanwhile (a reconciliation found it): that is the outcome.
      if (current.status === 'rejected') throw current.error_message ? journaledError(current) : new AppError(err.code, err.key, err.params, { order: toOrderDto(current) });
      return current;
    }
    this.log.warn({ order: row.id, clientOrderId: row.client_order_id, code: err.code, httpStatus: httpStatusFromError(err) }, 'order answer lost; looking it up by client order id');
    const rateLimited = err.code === 'exchange_rate_limit';
    if (rateLimited) {
      const wait = retryAfterFromError(err) ?? this.readOpts.defaultWaitMs;
      if (wait > this.readOpts.maxWaitMs) {
        this.emitOrders(profileId, row.broker_id, [current], 'unknown');
        throw new AppError(err.code, 'errors.trading.orderWasNotConfirmed', { reason: err, wait: Math.ceil(wait / 1000) }, { ...(err.details as object | undefined), order: toOrderDto(current) });
      }
      await this.sleep(wait);
    }
    const found = await this.lookupPatiently(ex, current, rateLimited ? [0] : this.lookupDelaysMs);
    if (found.kind === 'found') {
      current = await this.settle(profileId, ex, current, found.order, 'recovered');
      this.log.info({ order: current.id, clientOrderId: current.client_order_id, status: current.status }, 'order found by client order id after a lost answer');
      return current;
    }
    if (found.kind === 'absent' && rateLimited) {
      // The exchange answered 429 — a refusal — and says it has no such order: it was not placed.
      const refused = new AppError(err.code, 'errors.trading.notPlacedNotFound', { reason: err }, { ...(err.details as object | undefined) });
      const t = await this.transition(profileId, row.id, 'rejected', journalError(refused), ['unknown']);
      current = t.row;
      if (t.moved && current.status !== 'rejected') return current;
      this.emitOrders(profileId, row.broker_id, [current], 'rejected');
      throw new AppError(err.code, refused.key, refused.params, { ...(err.details as object | undefined), order: toOrderDto(current) });
    }
    this.emitOrders(profileId, row.broker_id, [current], 'unknown');
    const sofar: Text =
      found.kind === 'absent'
        ? { key: 'coreTrading.lookup.absent', params: { clientOrderId: row.client_order_id } }
        : found.kind === 'not_seen'
          ? { key: 'coreTrading.lookup.notSeen', params: { clientOrderId: row.client_order_id } }
          : { key: 'coreTrading.lookup.failed', params: { clientOrderId: row.client_order_id, reason: found.error.text } };
    throw new AppError(err.code, 'errors.trading.whetherOrderWasPlaced', { reason: err, sofar }, { ...(err.details as object | undefined), order: toOrderDto(current) }
    );
  }

  /** Looks a pending order up at the exchange (never sends anything). */
  private async lookup(ex: Exchange, row: OrderRow): Promise<Lookup> {
    const trusted = this.clientIdLookup.includes(ex.id);
    try {
      if (row.exchange_order_id && ex.has.fetchOrder) {
        // The exchange gave it an id, so it reached the exchange: "not found" can only be inconclusive.
        try {
          return { kind: 'found', order: parseOrder(await this.read(ex, 'fetch order', () => ex.fetchOrder(row.exchange_order_id!, row.symbol))) };
        } catch (e) {
          if (isNotFound(e)) return { kind: 'not_seen' };
          throw e;
        }
      }
      if (trusted && ex.has.fetchOrder) {
        try {
          const p = parseOrder(await this.read(ex, 'look up order by client order id', () => ex.fetchOrder('', row.symbol, { clientOrderId: row.client_order_id })));
          if (p.clientOrderId && p.clientOrderId !== row.client_order_id) {
            return { kind: 'error', error: new AppError('exchange_error', 'errors.trading.answeredLookupClientOrder', { id: ex.id, client_order_id: row.client_order_id, clientOrderId: p.clientOrderId }) };
          }
          return { kind: 'found', order: p };
        } catch (e) {
          if (isNotFound(e)) return { kind: 'absent' };
          throw e;
        }
      }
      return await this.search(ex, row);
    } catch (e) {
      return { kind: 'error', error: isAppError(e) ? e : externalError('exchange_error', e) };
    }
  }

  /**
   * Where the exchange cannot look an order up by client order id: its open orders, then its closed
   * orders since shortly before the order was sent, searched for the client order id.
   */
  private async search(ex: Exchange, row: OrderRow): Promise<Lookup> {
    const canOpen = !!ex.has.fetchOpenOrders;
    const canClosed = !!(ex.has.fetchClosedOrders || ex.has.fetchOrders);
    if (!canOpen && !canClosed) {
      return { kind: 'error', error: new AppError('exchange_error', 'errors.trading.cannotListOrdersThrough', { id: ex.id, client_order_id: row.client_order_id }) };
    }
    const mine = (list: CcxtOrder[]) => list.map(parseOrder).find((o) => o.clientOrderId === row.client_order_id);
    if (canOpen) {
      const hit = mine(await this.read(ex, 'fetch open orders', () => ex.fetchOpenOrders(row.symbol)));
      if (hit) return { kind: 'found', order: hit };
    }
    if (canClosed) {
      const since = (row.sent_at ?? row.created_at).getTime() - 60_000;
      const list = ex.has.fetchClosedOrders ? await this.read(ex, 'fetch closed orders', () => ex.fetchClosedOrders(row.symbol, since)) : await this.read(ex, 'fetch orders', () => ex.fetchOrders(row.symbol, since));
      const hit = mine(list);
      if (hit) return { kind: 'found', order: hit };
    }
    return { kind: 'not_seen' };
  }

  private async lookupPatiently(ex: Exchange, row: OrderRow, delays: number[]): Promise<Lookup> {
    let last: Lookup = { kind: 'not_seen' };
    for (const delay of delays) {
      if (delay > 0) await this.sleep(delay);
      last = await this.lookup(ex, row);
      if (last.kind === 'found') return last;
    }
    return last;
  }

  /** Stores the exchange's view of an order, then its fills and the position. `ex` is in the row's mode. */
  private async settle(profileId: string, ex: Exchange, row: OrderRow, p: ParsedOrder, reason: string): Promise<OrderRow> {
    const settled = await this.db.withProfile(profileId, (c) => settleOrder(c, row, p));
    this.emitOrders(profileId, settled.broker_id, [settled], reason);
    if (settled.filled.gt(0)) await this.syncFills(profileId, ex, settled).catch((e: unknown) => this.log.warn({ order: settled.id, err: (e as Error).message }, 'could not fetch the fills; the next sync retries'));
    return settled;
  }

  // -------------------------------------------------------------------------------------------
  // Fills and positions

  /** Fetches an order's fills when the journal has fewer than the order's filled amount. `ex` is in the row's mode. */
  private async syncFills(profileId: string, ex: Exchange, row: OrderRow): Promise<void> {
    if (!row.exchange_order_id || !row.broker_id) return;
    const recorded = await this.db.withProfile(profileId, (c) => filledByFills(c, row.id));
    if (recorded.gte(row.filled)) return;
    let trades: CcxtTrade[];
    if (ex.has.fetchOrderTrades) trades = await this.read(ex, 'fetch order trades', () => ex.fetchOrderTrades(row.exchange_order_id!, row.symbol));
    else trades = await this.read(ex, 'fetch my trades', () => ex.fetchMyTrades(row.symbol, row.created_at.getTime() - 60_000));
    const mine = trades.map(parseTrade).filter((t): t is NonNullable<typeof t> => t !== null && t.orderId === row.exchange_order_id && t.symbol === row.symbol);
    const m = ex.markets?.[row.symbol];
    const market = m ? { base: String(m.base), quote: String(m.quote) } : splitSymbol(row.symbol);
    const added = await this.db.withProfile(profileId, (c) => recordFills(c, row, mine, market));
    if (added > 0) this.bus.emit('positions.updated', { brokerId: row.broker_id, symbols: [row.symbol] }, { profileId });
  }

  // -------------------------------------------------------------------------------------------
  // Cancel and modify

  private async openRow(profileId: string, orderId: string): Promise<OrderRow> {
    const row = await this.db.withProfile(profileId, (c) => getOrder(c, orderId));
    if (!row) throw new AppError('not_found', 'errors.trading.noSuchOrderJournal', {}, { field: 'orderId' });
    if (PENDING_STATUSES.includes(row.status)) throw new AppError('conflict', 'errors.trading.orderSOutcomeNot', { status: row.status }, { order: toOrderDto(row) });
    if (!OPEN_STATUSES.includes(row.status)) throw new AppError('conflict', 'errors.trading.orderAlready', { replace: statusText(row.status) }, { order: toOrderDto(row) });
    if (!row.broker_id || !row.exchange_order_id) throw new AppError('conflict', 'errors.trading.brokerOrderWasDeleted', {}, { order: toOrderDto(row) });
    return row;
  }

  /** Reads one order by its exchange id and settles the journal; the row unchanged when that fails. `ex` is in the row's mode. */
  private async refresh(profileId: string, ex: Exchange, row: OrderRow): Promise<OrderRow> {
    if (!row.exchange_order_id) return row;
    try {
      return await this.readOrder(profileId, ex, row);
    } catch (e) {
      this.log.warn({ order: row.id, err: (e as Error).message }, 'could not refresh an order');
      return row;
    }
  }

  /** Reads one order by its exchange id and settles the journal; fails when the read fails. */
  private async readOrder(profileId: string, ex: Exchange, row: OrderRow): Promise<OrderRow> {
    const o = await this.read(ex, 'fetch order', () => ex.fetchOrder(row.exchange_order_id!, row.symbol));
    return this.settle(profileId, ex, row, parseOrder(o), 'synced');
  }

  /**
   * Runs `fn` while no other cancel or modify of the same order runs in this process (they queue):
   * the second of two concurrent modifies re-reads the row only after the first is done, finds it
   * cancelled, and places nothing — even where the exchange answers a repeated cancel as a success.
   */
  private async exclusive<T>(orderId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.orderLocks.get(orderId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chain = before.then(() => mine);
    this.orderLocks.set(orderId, chain);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (this.orderLocks.get(orderId) === chain) this.orderLocks.delete(orderId);
    }
  }

  /** Cancels an open order, at the exchange (live or testnet) where it was placed. */
  cancel(profileId: string, orderId: string): Promise<OrderRow> {
    return this.operation('cancelled', () => this.exclusive(orderId, () => this.cancelNow(profileId, orderId)));
  }

  /** Cancels; the row it answers holds the fill count at the moment of the cancellation (final). */
  private async cancelNow(profileId: string, orderId: string): Promise<OrderRow> {
    let row = await this.openRow(profileId, orderId);
    const { ex } = await this.exchangeOf(profileId, row);
    try {
      const answer = await callExchange(this.gateway, ex, 'cancel order', () => ex.cancelOrder(row.exchange_order_id!, row.symbol));
      const parsed = parseOrder(answer);
      row = await this.settle(profileId, ex, row, parsed, 'cancelled');
      // An answer without the final state or the fill count: read the order.
      if (!TERMINAL_STATUSES.includes(row.status) || parsed.filled === null) row = await this.refresh(profileId, ex, row);
      if (!TERMINAL_STATUSES.includes(row.status)) {
        // The exchange acknowledged the cancellation without its final state.
        row = (await this.transition(profileId, row.id, 'cancelled', null, OPEN_STATUSES)).row;
        this.emitOrders(profileId, row.broker_id, [row], 'cancelled');
      }
      this.log.info({ order: row.id, status: row.status }, 'order cancelled');
      return row;
    } catch (e) {
      if (isNotFound(e) || (isAppError(e) && e.code === 'invalid_order')) {
        row = await this.refresh(profileId, ex, row);
        if (TERMINAL_STATUSES.includes(row.status)) {
          throw new AppError('conflict', 'errors.trading.orderCouldNotCancelled', { replace: statusText(row.status) }, { order: toOrderDto(row) });
        }
      }
      throw e;
    }
  }

  /**
   * Changes an open limit order's amount and/or price, at the exchange (live or testnet) where it
   * was placed. Where the exchange edits orders (CCXT `has.editOrder`; on Binance spot an atomic
   * cancel-replace that gives the order a new id) the new order is journaled as an attempt replacing
   * the old; elsewhere the old order is cancelled and a new one placed — two steps, said so in
   * `method`.
   *
   * Sizing: the change leaves committed in all (filled + open) the order's amount when only the
   * price changes, or what the journal showed filled plus the new `amount`. What is filled is the
   * exchange's count at the moment of the change — the cancellation's answer (cancel-and-replace), or
   * a read just before the edit; a replacement found over-sized after an edit (the old order filled
   * more on the way) is cancelled and the exact rest placed. The new price and amount are validated
   * (all but the balance) before anything changes. One cancel or modify of an order at a time.
   */
  modify(profileId: string, input: { orderId: string; amount?: Decimal.Value; price?: Decimal.Value }): Promise<{ order: OrderRow; replaced: OrderRow; method: 'edit' | 'cancel_replace' }> {
    return this.operation('modified', () => this.exclusive(input.orderId, () => this.modifyNow(profileId, input)));
  }

  private async modifyNow(profileId: string, input: { orderId: string; amount?: Decimal.Value; price?: Decimal.Value }): Promise<{ order: OrderRow; replaced: OrderRow; method: 'edit' | 'cancel_replace' }> {
    const seen = await this.openRow(profileId, input.orderId);
    if (seen.type !== 'limit') throw new AppError('invalid_input', 'errors.trading.onlyLimitOrdersCan');
    const explicit = toDecimal(input.amount, 'amount');
    const price = toDecimal(input.price, 'price') ?? seen.price;
    if (!seen.amount) throw new AppError('conflict', 'errors.trading.orderSAmountNot', {}, { order: toOrderDto(seen) });
    const total = explicit ? seen.filled.plus(explicit) : seen.amount;
    const target = await this.exchangeOf(profileId, seen);
    const { ex, broker } = target;
    const method = ex.has.editOrder ? 'edit' : 'cancel_replace';
    const source: Source = seen.source === 'external' ? 'manual' : seen.source;

    // The exchange's fill count now: the journal may not have seen the latest fills.
    let old: OrderRow;
    try {
      old = await this.readOrder(profileId, ex, seen);
    } catch (e) {
      const err = isAppError(e) ? e : externalError('exchange_error', e);
      // Cancel-and-replace sizes the new order from the cancellation's answer; an edit needs this read.
      if (method === 'edit') throw new AppError(err.code, 'errors.trading.orderSFillsCould', { reason: err }, err.details);
      old = seen;
    }
    if (!OPEN_STATUSES.includes(old.status)) throw new AppError('conflict', 'errors.trading.orderAlreadyExchangeNothing', { replace: statusText(old.status) }, { order: toOrderDto(old) });
    const remaining = total.minus(old.filled);
    if (remaining.lte(0)) throw new AppError('conflict', 'errors.trading.orderHasFilledMeanwhile', { filled: old.filled.toFixed() }, { order: toOrderDto(old) });
    const req: PlaceRequest = {
      brokerId: old.broker_id!,
      symbol: old.symbol,
      side: old.side,
      type: 'limit',
      amount: remaining,
      price: price ?? undefined,
      source,
      sourceRef: old.source_ref ?? undefined,
      replacesOrderId: old.id,
    };

    // Validate the new values before anything changes (no balance check: the change releases the old order's funds).
    const p = await this.prepare(profileId, req, { balance: false }, target);
    if (p.problems.length) {
      const refusal = new AppError('invalid_order', 'errors.trading.problems', { problems: problemsText(p.problems) });
      const { row } = await this.journalRefusal(profileId, req, p, newClientOrderId(source), refusal);
      throw new AppError('invalid_order', 'errors.trading.originalOrderUnchanged', { message: refusal }, { problems: p.problems, order: toOrderDto(row) });
    }

    if (method === 'cancel_replace') {
      const cancelled = await this.cancelNow(profileId, old.id);
      // The cancellation's answer holds the final fill count: the replacement is the rest.
      const left = total.minus(cancelled.filled);
      if (left.lte(0)) {
        throw new AppError('conflict', 'errors.trading.orderWasCancelledHad', { filled: cancelled.filled.toFixed() }, { order: toOrderDto(cancelled) });
      }
      try {
        const placed = await this.placeNow(profileId, { ...req, amount: left }, target);
        return { order: placed, replaced: cancelled, method };
      } catch (e) {
        const err = isAppError(e) ? e : externalError('internal', e);
        const replacement = (err.details as { order?: OrderDto } | undefined)?.order;
        if (!replacement) throw new AppError(err.code, 'errors.trading.replacementNotPlaced', { reason: err }, err.details);
        if (replacement.status === 'rejected') throw new AppError(err.code, 'errors.trading.replacementRefused', { reason: err }, err.details);
        throw new AppError(err.code, 'errors.trading.replacementUnknown', { status: replacement.status, reason: err }, err.details);
      }
    }

    // Native edit.
    const clientOrderId = newClientOrderId(source);
    const newAmount = toCcxtNumber(p.amount!, 'amount');
    const newPrice = toCcxtNumber(p.price!, 'price');
    let attempt = (await this.db.withProfile(profileId, (c) =>
      insertOrder(c, {
        brokerId: old.broker_id!,
        sandbox: old.sandbox,
        exchange: broker.exchange,
        source,
        sourceRef: old.source_ref,
        symbol: old.symbol,
        side: old.side,
        type: 'limit',
        requestedAmount: p.requestedAmount,
        requestedCost: null,
        requestedPrice: p.requestedPrice,
        amount: p.amount,
        price: p.price,
        clientOrderId,
        status: 'intent',
        replacesOrderId: old.id,
      }),
    ))!;
    this.inflight.add(attempt.id);
    try {
      await this.hooks.afterIntent?.(attempt);
      attempt = await this.markSentOrRefuse(profileId, attempt);
      await this.hooks.beforeSend?.(attempt);
      const sent = attempt;
      let answer: CcxtOrder;
      try {
        answer = await callExchange(this.gateway, ex, 'edit order', () => ex.editOrder(old.exchange_order_id!, old.symbol, 'limit', old.side, newAmount, newPrice, { clientOrderId }));
      } catch (e) {
        const before = await this.refresh(profileId, ex, old);
        const note: Text = OPEN_STATUSES.includes(before.status) ? { key: 'coreTrading.modify.originalUnchanged', params: {} } : { key: 'coreTrading.modify.originalNow', params: { status: statusText(before.status) } };
        try {
          const recovered = await this.afterLostOrRefused(profileId, ex, sent, e);
          const replaced = await this.refresh(profileId, ex, before);
          const order = await this.fitReplacement(profileId, target, req, total, replaced, recovered);
          return { order, replaced, method };
        } catch (e2) {
          const err = isAppError(e2) ? e2 : externalError('internal', e2);
          throw new AppError(err.code, 'errors.trading.message2', { reason: err, note }, err.details);
        }
      }
      await this.hooks.afterAnswer?.(sent, answer);
      const parsed = parseOrder(answer);
      if (parsed.id && parsed.id === old.exchange_order_id) {
        // Edited in place (same exchange id): the original row carries the new values.
        const updated = await this.db.withProfile(profileId, async (c) => {
          await c.query('UPDATE orders SET amount = $2, price = $3, requested_amount = $2, requested_price = $3, updated_at = now() WHERE id = $1', [old.id, p.amount!.toFixed(), p.price!.toFixed()]);
          await markStatus(c, sent.id, 'cancelled', journalText(null, 'coreTrading.journal.editedInPlace', { exchangeOrderId: old.exchange_order_id }), ['sent']);
          return (await getOrder(c, old.id))!;
        });
        const order = await this.settle(profileId, ex, updated, parsed, 'modified');
        return { order, replaced: old, method };
      }
      const order = await this.settle(profileId, ex, sent, parsed, 'modified');
      // The old order is closed now: its fill count is final.
      let replaced = await this.refresh(profileId, ex, old);
      if (OPEN_STATUSES.includes(replaced.status)) {
        // Binance's cancel-replace (STOP_ON_FAILURE) places the new order only after cancelling the old one.
        replaced = (await this.transition(profileId, old.id, 'cancelled', null, OPEN_STATUSES)).row;
        this.emitOrders(profileId, replaced.broker_id, [replaced], 'cancelled');
      }
      const fitted = await this.fitReplacement(profileId, target, req, total, replaced, order);
      this.log.info({ order: fitted.id, replaced: replaced.id, method }, 'order modified');
      return { order: fitted, replaced, method };
    } finally {
      this.inflight.delete(attempt.id);
    }
  }

  /**
   * After an edit the replaced order's final fill count is known. When it filled more between the
   * read that sized the replacement and its cancellation, the replacement is over-sized: it is
   * cancelled (that answer is final too) and exactly the rest placed, if anything is left.
   */
  private async fitReplacement(profileId: string, target: Target, req: PlaceRequest, total: Decimal, replaced: OrderRow, order: OrderRow): Promise<OrderRow> {
    if (!order.amount || !OPEN_STATUSES.includes(order.status)) return order;
    const excess = replaced.filled.plus(order.amount).minus(total);
    if (excess.lte(0)) return order;
    this.log.warn({ order: order.id, replaced: replaced.id, excess: excess.toFixed() }, 'the replaced order filled more during the edit: the replacement is over-sized; cancelling it and placing the rest');
    let cancelled: OrderRow;
    try {
      cancelled = await this.cancelNow(profileId, order.id);
    } catch (e) {
      const err = isAppError(e) ? e : externalError('internal', e);
      throw new AppError(err.code, 'errors.trading.orderFilledTimeWas', { filled: replaced.filled.toFixed(), excess: excess.toFixed(), reason: err }, err.details);
    }
    const left = total.minus(replaced.filled).minus(cancelled.filled);
    if (left.lte(0)) return cancelled;
    try {
      return await this.placeNow(profileId, { ...req, amount: left, replacesOrderId: cancelled.id }, target);
    } catch (e) {
      const err = isAppError(e) ? e : externalError('internal', e);
      throw new AppError(err.code, 'errors.trading.orderFilledTimeWas2', { filled: replaced.filled.toFixed(), left: left.toFixed(), reason: err }, err.details);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Native stop-loss / take-profit

  /**
   * Protects a long position with native stop-loss / take-profit SELL orders where CCXT says the
   * exchange supports them (protection.ts): on Binance spot one OCO order list (the exchange expires
   * the other leg when one triggers), elsewhere separate orders whose other leg the app cancels
   * (`settleProtection`). Each leg is a journal row with its trigger price, journaled ('intent',
   * committed) before anything is sent, with the client order id `<clientOrderId>-sl` / `-tp`; the
   * pair shares `oco_ref` = `clientOrderId`. The same `clientOrderId` again answers the legs already
   * journaled and sends nothing (a restart, a retried alert).
   *
   * Bad levels (a stop-loss at or above the price for a long, a take-profit at or below it, the
   * stop-loss above the take-profit, non-numbers) → `invalid_input`, nothing journaled or sent.
   * `mode: 'watched'` (with the reason) when the exchange cannot hold them, or refused them: the
   * caller then watches the price itself. Rounding: the amount down to the step, the trigger prices
   * to the tick; the amount and cost limits are checked at each trigger price.
   */
  protect(profileId: string, req: ProtectRequest): Promise<Protection> {
    return this.operation('protected', () => this.protectNow(profileId, req));
  }

  private async protectNow(profileId: string, req: ProtectRequest): Promise<Protection> {
    if (!CLIENT_ID.test(req.clientOrderId) || req.clientOrderId.length > 33) {
      throw invalidField('clientOrderId', 'errors.trading.protectionClientOrderId');
    }
    const sl = toDecimal(req.stopLoss ?? undefined, 'stopLoss');
    const tp = toDecimal(req.takeProfit ?? undefined, 'takeProfit');
    const amountIn = toDecimal(req.amount, 'amount');
    const entry = toDecimal(req.entryPrice, 'entryPrice');
    const early = checkLevels({ stopLoss: sl, takeProfit: tp }, null);
    if (!amountIn || !amountIn.gt(0)) early.push({ path: 'amount', ...worded('coreTrading.level.amountNotPositive') });
    if (early.length) throw new AppError('invalid_input', 'errors.trading.stopLossTakeProfit', { reason: problemsText(early) }, { issues: early });

    const target = await this.brokers.exchangeFor(profileId, req.brokerId);
    const { ex, broker } = target;
    const sandbox = sandboxOf(ex);
    const existing = await this.protectionLegs(profileId, req.brokerId, sandbox, req.clientOrderId);
    if (existing.length) return { mode: 'native', how: null, ...reasonOf('coreTrading.protection.alreadyPlaced'), orders: existing, ocoRef: req.clientOrderId };

    const m = this.marketOf(ex, broker.exchange, req.symbol);
    if (!m) throw invalidField('symbol', 'errors.trading.hasNoMarket', { exchange: broker.exchange, symbol: req.symbol });
    const reference = entry ?? (await this.tickerOf(ex, req.symbol, 0)).last;
    const levels = checkLevels({ stopLoss: sl, takeProfit: tp }, reference);
    if (levels.length) throw new AppError('invalid_input', 'errors.trading.stopLossTakeProfit', { reason: problemsText(levels) }, { issues: levels });

    const legs: { leg: ProtectLeg; level: Decimal }[] = [];
    if (sl) legs.push({ leg: 'stop_loss', level: sl });
    if (tp) legs.push({ leg: 'take_profit', level: tp });
    const support = nativeSupport(ex, req.symbol, legs.map((l) => l.leg));
    if (!support.native) return { mode: 'watched', how: null, reason: support.reason, reasonKey: support.reasonKey, reasonParams: support.reasonParams, orders: [], ocoRef: null };

    // Precision and limits at each trigger price.
    const market = m.record;
    const rules = { base: market.base, quote: market.quote, precision: market.precision, limits: market.limits };
    const tick = dec(market.precision.price);
    const prepared = legs.map(({ leg, level }) => {
      const trigger = tick && tick.gt(0) ? roundToTick(level, tick) : level;
      const check = checkOrder({ side: 'sell', type: 'limit', amount: amountIn!, price: trigger, market: rules });
      return { leg, trigger, amount: check.amount, problems: check.problems };
    });
    const problems: Problem[] = prepared.flatMap((p) => p.problems);
    const amount = prepared[0]!.amount;
    if (!problems.length && (!amount || !fitsCcxtNumber(amount) || prepared.some((p) => !fitsCcxtNumber(p.trigger)))) {
      problems.push(orderProblem('amount', 'amount_not_representable', 'coreTrading.problem.protectionNotRepresentable'));
    }
    const after = checkLevels({ stopLoss: prepared.find((p) => p.leg === 'stop_loss')?.trigger ?? null, takeProfit: prepared.find((p) => p.leg === 'take_profit')?.trigger ?? null }, reference);
    if (after.length) throw new AppError('invalid_input', 'errors.trading.stopLossTakeProfit2', { reason: problemsText(after) }, { issues: after });
    if (problems.length) {
      throw new AppError('invalid_order', 'errors.trading.stopLossTakeProfit3', { describeProblems: problemsText(problems) }, { problems });
    }

    // Journal every leg (one transaction) before anything is sent.
    const idOf = (leg: ProtectLeg) => `${req.clientOrderId}-${leg === 'stop_loss' ? 'sl' : 'tp'}`;
    const rows = await this.db.withProfile(profileId, async (c) => {
      const out: OrderRow[] = [];
      for (const p of prepared) {
        const row = await insertOrder(c, {
          brokerId: req.brokerId,
          sandbox,
          exchange: broker.exchange,
          source: req.source,
          sourceRef: req.sourceRef ?? null,
          symbol: req.symbol,
          side: 'sell',
          type: 'market',
          requestedAmount: amountIn,
          requestedCost: null,
          requestedPrice: null,
          amount: p.amount,
          price: null,
          clientOrderId: idOf(p.leg),
          status: 'intent',
          triggerPrice: p.trigger,
          protects: p.leg,
          ocoRef: req.clientOrderId,
        });
        if (!row) return null;
        out.push(row);
      }
      return out;
    });
    if (!rows) {
      // Journaled a moment ago by someone else: those legs are the ones.
      return { mode: 'native', how: null, ...reasonOf('coreTrading.protection.alreadyPlaced'), orders: await this.protectionLegs(profileId, req.brokerId, sandbox, req.clientOrderId), ocoRef: req.clientOrderId };
    }
    for (const r of rows) this.inflight.add(r.id);
    try {
      const sent: OrderRow[] = [];
      for (const r of rows) {
        await this.hooks.afterIntent?.(r);
        sent.push(await this.markSentOrRefuse(profileId, r));
      }
      for (const r of sent) await this.hooks.beforeSend?.(r);
      const qty = toCcxtNumber(amount!, 'amount');
      const settled: OrderRow[] = [];
      let refusal: AppError | null = null;
      if (support.how === 'oco') {
        const slRow = sent.find((r) => r.protects === 'stop_loss')!;
        const tpRow = sent.find((r) => r.protects === 'take_profit')!;
        const params = {
          symbol: String(m.raw?.id ?? ''),
          side: 'SELL',
          quantity: amount!.toFixed(),
          aboveType: 'TAKE_PROFIT',
          aboveStopPrice: tpRow.trigger_price!.toFixed(),
          aboveClientOrderId: tpRow.client_order_id,
          belowType: 'STOP_LOSS',
          belowStopPrice: slRow.trigger_price!.toFixed(),
          belowClientOrderId: slRow.client_order_id,
          listClientOrderId: req.clientOrderId,
          newOrderRespType: 'FULL',
        };
        const api = ex as unknown as { privatePostOrderListOco(p: Record<string, string>): Promise<{ orderReports?: unknown[] }> };
        try {
          const answer = await callExchange(this.gateway, ex, 'create OCO order', () => api.privatePostOrderListOco(params));
          for (const report of answer.orderReports ?? []) {
            const parsed = parseOrder(ex.parseOrder(report as Record<string, unknown>, m.raw));
            const row = sent.find((r) => r.client_order_id === parsed.clientOrderId);
            if (row) settled.push(await this.settle(profileId, ex, row, parsed, 'placed'));
          }
          // A leg missing from the answer: looked up by its client order id.
          for (const row of sent) if (!settled.some((s) => s.id === row.id)) settled.push(await this.resolveLeg(profileId, ex, row));
        } catch (e) {
          refusal = await this.legsFailed(profileId, ex, sent, e, settled);
        }
      } else {
        for (const row of sent) {
          const param = row.protects === 'stop_loss' ? 'stopLossPrice' : 'takeProfitPrice';
          try {
            const answer = await callExchange(this.gateway, ex, `create ${row.protects === 'stop_loss' ? 'stop-loss' : 'take-profit'} order`, () =>
              ex.createOrder(req.symbol, 'market', 'sell', qty, undefined, { [param]: toCcxtNumber(row.trigger_price!, 'triggerPrice'), clientOrderId: row.client_order_id }),
            );
            settled.push(await this.settle(profileId, ex, row, parseOrder(answer), 'placed'));
          } catch (e) {
            refusal = await this.legsFailed(profileId, ex, [row], e, settled);
            if (refusal) {
              // The other legs are not sent; a leg already placed is cancelled: the pair is watched instead.
              for (const rest of sent) {
                if (settled.some((s) => s.id === rest.id) || rest.id === row.id) continue;
                settled.push((await this.transition(profileId, rest.id, 'rejected', journalText('not_sent', 'coreTrading.journal.legRefused', { leg: { key: `coreTrading.protection.leg.${row.protects ?? 'stop_loss'}` }, reason: refusal }), ['sent'])).row);
              }
              for (const placed of settled) if (OPEN_STATUSES.includes(placed.status)) await this.cancelNow(profileId, placed.id).catch((err: unknown) => this.log.warn({ order: placed.id, err: (err as Error).message }, 'could not cancel a protective leg after its pair was refused'));
              break;
            }
          }
        }
      }
      const orders = await this.protectionLegs(profileId, req.brokerId, sandbox, req.clientOrderId);
      this.log.info({ ocoRef: req.clientOrderId, symbol: req.symbol, how: support.how, statuses: orders.map((o) => o.status), refused: refusal?.message }, 'protective orders placed');
      if (refusal) return { mode: 'watched', how: support.how, ...reasonOf('coreTrading.protection.refusedWatched', { reason: refusal }), orders, ocoRef: req.clientOrderId };
      return { mode: 'native', how: support.how, ...reasonOf(`coreTrading.protection.${support.how}`), orders, ocoRef: req.clientOrderId };
    } finally {
      for (const r of rows) this.inflight.delete(r.id);
    }
  }

  /**
   * A leg's create failed: journaled as the exchange's refusal (returned), or, after a lost answer,
   * looked up by its client order id (left 'unknown' for the reconciliation when not found yet).
   */
  private async legsFailed(profileId: string, ex: Exchange, rows: OrderRow[], e: unknown, settled: OrderRow[]): Promise<AppError | null> {
    let refusal: AppError | null = null;
    for (const row of rows) {
      try {
        settled.push(await this.afterLostOrRefused(profileId, ex, row, e));
      } catch (err) {
        const ae = isAppError(err) ? err : externalError('internal', err);
        const after = (await this.db.withProfile(profileId, (c) => getOrder(c, row.id)))!;
        settled.push(after);
        if (after.status === 'rejected') refusal = ae;
      }
    }
    return refusal;
  }

  /** A leg the answer did not list: looked up by its client order id (never resent). */
  private async resolveLeg(profileId: string, ex: Exchange, row: OrderRow): Promise<OrderRow> {
    const found = await this.lookupPatiently(ex, row, [0]);
    if (found.kind === 'found') return this.settle(profileId, ex, row, found.order, 'placed');
    return (await this.transition(profileId, row.id, 'unknown', journalText('exchange_error', 'coreTrading.journal.notInOcoAnswer'), ['sent'])).row;
  }

  /** The journal rows of a protective pair, stop-loss first. */
  async protectionLegs(profileId: string, brokerId: string, sandbox: boolean, ocoRef: string): Promise<OrderRow[]> {
    return this.db.withProfile(profileId, async (c) =>
      (await c.query<OrderRow>("SELECT * FROM orders WHERE broker_id = $1 AND sandbox = $2 AND oco_ref = $3 AND source <> 'external' ORDER BY protects", [brokerId, sandbox, ocoRef])).rows,
    );
  }

  /**
   * Brings a protective pair up to date with the exchange: open legs are read (fills and position
   * included). When a leg has filled, the other is cancelled if it is still open (OCO emulated; on a
   * native OCO list the exchange has expired it already). `active`: a leg still protects the
   * position; `filled`: the leg that executed, if any.
   */
  async settleProtection(profileId: string, brokerId: string, sandbox: boolean, ocoRef: string): Promise<{ legs: OrderRow[]; filled: OrderRow | null; active: boolean }> {
    let legs = await this.protectionLegs(profileId, brokerId, sandbox, ocoRef);
    for (const leg of legs) {
      if (!OPEN_STATUSES.includes(leg.status) || !leg.exchange_order_id) continue;
      const { ex } = await this.exchangeOf(profileId, leg);
      await this.refresh(profileId, ex, leg);
    }
    legs = await this.protectionLegs(profileId, brokerId, sandbox, ocoRef);
    const filled = legs.find((l) => l.filled.gt(0)) ?? null;
    if (filled) {
      for (const other of legs) {
        if (other.id === filled.id || !OPEN_STATUSES.includes(other.status)) continue;
        await this.cancel(profileId, other.id).catch((e: unknown) => this.log.warn({ order: other.id, err: (e as Error).message }, 'could not cancel the other protective leg'));
      }
      legs = await this.protectionLegs(profileId, brokerId, sandbox, ocoRef);
    }
    const active = !filled && legs.some((l) => OPEN_STATUSES.includes(l.status) || PENDING_STATUSES.includes(l.status));
    return { legs, filled, active };
  }

  /** Cancels what is still open of a protective pair (moving the levels, selling by hand). */
  async cancelProtection(profileId: string, brokerId: string, sandbox: boolean, ocoRef: string): Promise<OrderRow[]> {
    for (const leg of await this.protectionLegs(profileId, brokerId, sandbox, ocoRef)) {
      if (!OPEN_STATUSES.includes(leg.status)) continue;
      try {
        await this.cancel(profileId, leg.id);
      } catch (e) {
        // Cancelling one leg of an OCO list cancels the list: the other is closed by now.
        if (!(isAppError(e) && e.code === 'conflict')) throw e;
      }
    }
    return this.protectionLegs(profileId, brokerId, sandbox, ocoRef);
  }

  // -------------------------------------------------------------------------------------------
  // Sync and reconcile

  /**
   * Brings the journal in line with the exchange for one broker, in its current mode (live or
   * testnet): open orders (those placed elsewhere included), orders that closed, missing fills,
   * positions, and — at most once per `fullSyncEveryMs` — closed orders of the symbols traded in the
   * last 30 days. Pending orders of the broker are reconciled too, each in its own mode.
   */
  sync(profileId: string, brokerId: string, opts: { full?: boolean } = {}): Promise<void> {
    if (this.stopped) return Promise.reject(new AppError('unavailable', 'errors.trading.aristobotShuttingDownOrders'));
    const key = `${profileId}:${brokerId}`;
    let p = this.syncing.get(key);
    if (!p) {
      p = this.doSync(profileId, brokerId, opts).finally(() => this.syncing.delete(key));
      this.syncing.set(key, p);
    }
    return p;
  }

  private async doSync(profileId: string, brokerId: string, opts: { full?: boolean }): Promise<void> {
    const { ex, broker } = await this.brokers.exchangeFor(profileId, brokerId);
    const sandbox = sandboxOf(ex);
    const mode = `${profileId}:${brokerId}:${sandbox ? 'sandbox' : 'live'}`;
    const changed: OrderRow[] = [];
    const note = (before: OrderRow | null, after: OrderRow) => {
      if (!before || before.status !== after.status || !before.filled.eq(after.filled)) changed.push(after);
    };
    const upsert = async (p: ParsedOrder): Promise<OrderRow | null> => {
      if (!p.symbol || !ex.markets?.[p.symbol]) return null;
      return this.db.withProfile(profileId, async (c) => {
        const row = await findForExchangeOrder(c, brokerId, sandbox, p);
        if (row) {
          const after = await settleOrder(c, row, p);
          note(row, after);
          return after;
        }
        const ext = await insertExternal(c, brokerId, sandbox, broker.exchange, p);
        if (ext) note(null, ext);
        return ext;
      });
    };

    const seen = new Set<string>();
    if (ex.has.fetchOpenOrders) {
      if (ex.id.startsWith('binance')) ex.options['warnOnFetchOpenOrdersWithoutSymbol'] = false;
      const open = await this.read(ex, 'fetch open orders', () => ex.fetchOpenOrders());
      for (const o of open) {
        const row = await upsert(parseOrder(o));
        if (row) seen.add(row.id);
      }
    }
    // Orders the journal holds open that the exchange no longer lists: read their final state.
    const stale = await this.db.withProfile(profileId, async (c) =>
      (await c.query<OrderRow>("SELECT * FROM orders WHERE broker_id = $1 AND sandbox = $2 AND status IN ('open', 'partially_filled') AND exchange_order_id IS NOT NULL", [brokerId, sandbox])).rows,
    );
    for (const row of stale) {
      if (seen.has(row.id) || this.inflight.has(row.id)) continue;
      try {
        const o = await this.read(ex, 'fetch order', () => ex.fetchOrder(row.exchange_order_id!, row.symbol));
        const after = await this.db.withProfile(profileId, (c) => settleOrder(c, row, parseOrder(o)));
        note(row, after);
      } catch (e) {
        this.log.warn({ order: row.id, err: (e as Error).message }, 'could not read an order the exchange no longer lists as open');
      }
    }

    const full = opts.full || Date.now() - (this.lastFullSync.get(mode) ?? 0) >= this.fullSyncEveryMs;
    if (full && (ex.has.fetchClosedOrders || ex.has.fetchOrders)) {
      this.lastFullSync.set(mode, Date.now());
      const monthAgo = Date.now() - 30 * 86_400_000;
      const symbols = await this.db.withProfile(profileId, async (c) =>
        (await c.query<{ symbol: string }>(
          "SELECT symbol FROM orders WHERE broker_id = $1 AND sandbox = $2 AND created_at > now() - interval '30 days' AND status <> 'rejected' GROUP BY symbol ORDER BY max(created_at) DESC LIMIT 10",
          [brokerId, sandbox],
        )).rows.map((r) => r.symbol),
      );
      for (const symbol of symbols) {
        if (!ex.markets?.[symbol]) continue;
        try {
          // Exchanges page orders from `since`, oldest first: read the month in pages.
          const PAGE = 500;
          let since = monthAgo;
          for (let page = 0; page < 4; page++) {
            const batch = ex.has.fetchOrders ? await this.read(ex, `fetch orders ${symbol}`, () => ex.fetchOrders(symbol, since, PAGE)) : await this.read(ex, `fetch closed orders ${symbol}`, () => ex.fetchClosedOrders(symbol, since, PAGE));
            for (const o of batch) if (o.status !== 'open') await upsert(parseOrder(o));
            const last = batch.at(-1)?.timestamp;
            if (batch.length < PAGE || typeof last !== 'number') break;
            since = last + 1;
          }
        } catch (e) {
          this.log.warn({ broker: brokerId, symbol, err: (e as Error).message }, 'could not read closed orders');
        }
      }
    }

    // Fills the journal is missing (recently filled orders, external ones included).
    const missing = await this.db.withProfile(profileId, async (c) =>
      (await c.query<OrderRow>(
        `SELECT o.* FROM orders o WHERE o.broker_id = $1 AND o.sandbox = $2 AND o.exchange_order_id IS NOT NULL AND o.filled > 0 AND o.updated_at > now() - interval '30 days'
            AND o.filled > coalesce((SELECT sum(f.amount) FROM order_fills f WHERE f.order_id = o.id), 0)
          ORDER BY o.updated_at DESC LIMIT 20`,
        [brokerId, sandbox],
      )).rows,
    );
    for (const row of missing) await this.syncFills(profileId, ex, row).catch((e: unknown) => this.log.warn({ order: row.id, err: (e as Error).message }, 'could not fetch fills'));

    await this.reconcileRows(profileId, brokerId, { throttle: true });
    this.emitOrders(profileId, brokerId, changed, 'synced');
  }

  /** Re-reads an order's final fills and position (e.g. after the exchange filled it). */
  async fills(profileId: string, orderId: string): Promise<FillDto[]> {
    const row = await this.db.withProfile(profileId, (c) => getOrder(c, orderId));
    if (!row) throw new AppError('not_found', 'errors.trading.noSuchOrderJournal', {}, { field: 'orderId' });
    return this.db.withProfile(profileId, (c) => fillsOf(c, orderId));
  }

  /**
   * Resolves journal rows whose outcome is not known (intent, sent, unknown) by looking them up at
   * the exchange (live or testnet: where each was placed) — for one profile, or all (at startup).
   * Never sends anything.
   */
  async reconcile(profileId?: string): Promise<{ checked: number; resolved: number }> {
    const profiles = profileId ? [profileId] : (await this.db.query<{ id: string }>('SELECT id FROM profiles')).rows.map((r) => r.id);
    let checked = 0;
    let resolved = 0;
    for (const id of profiles) {
      if (this.stopped && !profileId) break;
      const r = await this.reconcileRows(id);
      checked += r.checked;
      resolved += r.resolved;
    }
    return { checked, resolved };
  }

  private neverArrivedAfter(ex: Exchange): number | null {
    if (this.neverArrivedAfterMs !== undefined) return this.neverArrivedAfterMs;
    const rw = Number(ex.options?.['recvWindow']);
    return Number.isFinite(rw) && rw > 0 ? rw + this.gateway.timeoutMs + 60_000 : null;
  }

  private async reconcileRows(profileId: string, brokerId?: string, opts: { throttle?: boolean } = {}): Promise<{ checked: number; resolved: number }> {
    // Only rows that can be asked about (their broker exists and is active), least recently checked
    // first, so that no row — nor a pile of rows that stay unknown — holds the others back.
    const params: unknown[] = [[...this.inflight]];
    let where = '';
    if (brokerId) {
      params.push(brokerId);
      where += ` AND o.broker_id = $${params.length}`;
    }
    if (opts.throttle) {
      // The page syncs every few seconds: look a pending order up at most every 15 s from there.
      params.push(RECHECK_AFTER_S);
      where += ` AND (o.checked_at IS NULL OR o.checked_at < now() - make_interval(secs => $${params.length}))`;
    }
    const rows = await this.db.withProfile(profileId, async (c) =>
      (await c.query<OrderRow>(
        `SELECT o.* FROM orders o JOIN brokers b ON b.id = o.broker_id
          WHERE o.status IN ('intent', 'sent', 'unknown') AND b.active AND NOT (o.id = ANY($1::uuid[]))${where}
          ORDER BY o.checked_at NULLS FIRST, o.created_at LIMIT 100`,
        params,
      )).rows,
    );
    const instances = new Map<string, Promise<Target>>();
    let checked = 0;
    let resolved = 0;
    for (const row of rows) {
      if (this.inflight.has(row.id)) continue;
      await this.db.withProfile(profileId, (c) => c.query('UPDATE orders SET checked_at = now() WHERE id = $1', [row.id]));
      const key = `${row.broker_id}:${row.sandbox}`;
      let target = instances.get(key);
      if (!target) {
        target = this.exchangeOf(profileId, row);
        instances.set(key, target);
      }
      let ex: Exchange;
      try {
        ex = (await target).ex;
      } catch (e) {
        this.log.warn({ order: row.id, sandbox: row.sandbox, err: (e as Error).message }, 'cannot reconcile an order: its broker is unavailable');
        continue;
      }
      checked++;
      const r = await this.lookup(ex, row);
      if (r.kind === 'found') {
        const after = await this.settle(profileId, ex, row, r.order, 'reconciled');
        this.log.info({ order: row.id, clientOrderId: row.client_order_id, sandbox: row.sandbox, was: row.status, now: after.status }, 'order reconciled by client order id');
        resolved++;
        continue;
      }
      if (r.kind === 'error') {
        this.log.warn({ order: row.id, err: r.error.message }, 'order lookup failed; retrying later');
        continue;
      }
      // Every conclusion below is a transition from the status the row had when it was read: if it
      // has moved on since (it was sent, or settled, meanwhile), the conclusion is void.
      const from = [row.status];
      let attempted = true;
      let after: OrderRow | null = null;
      if (row.status === 'intent') {
        // Never marked sent, so never sent (the mark is committed before the request leaves, and
        // only an intent is marked sent).
        after = await this.db.withProfile(profileId, (c) =>
          markStatus(c, row.id, 'rejected', journalText('not_sent', 'coreTrading.journal.neverSent'), from),
        );
      } else {
        // Only the exchange's own "no such client order id" proves absence; not seeing it in its lists does not.
        const limit = r.kind === 'absent' ? this.neverArrivedAfter(ex) : null;
        const age = Date.now() - (row.sent_at ?? row.created_at).getTime();
        if (limit !== null && age > limit) {
          after = await this.db.withProfile(profileId, (c) =>
            markStatus(c, row.id, 'rejected', journalText('not_sent', 'coreTrading.journal.neverArrived', { seconds: Math.round(age / 1000) }), from),
          );
        } else if (row.status === 'sent') {
          const why = journalText('exchange_network', r.kind === 'absent' ? 'coreTrading.journal.sentUnknown' : 'coreTrading.journal.sentNotListed');
          after = await this.db.withProfile(profileId, (c) => markStatus(c, row.id, 'unknown', why, from));
        } else {
          attempted = false;
        }
      }
      if (attempted && !after) this.log.info({ order: row.id, was: row.status }, 'order changed while it was being reconciled; left as it is now');
      if (after) {
        resolved += after.status === 'rejected' ? 1 : 0;
        this.log.info({ order: row.id, clientOrderId: row.client_order_id, sandbox: row.sandbox, was: row.status, now: after.status }, 'order reconciled: not at the exchange');
        this.emitOrders(profileId, after.broker_id, [after], 'reconciled');
      }
    }
    return { checked, resolved };
  }

  // -------------------------------------------------------------------------------------------
  // Queries (the page's lists: the broker's current mode)

  async open(profileId: string, brokerId: string): Promise<OrderRow[]> {
    const sandbox = await this.sandboxNow(profileId, brokerId);
    return this.db.withProfile(profileId, async (c) =>
      (await c.query<OrderRow>("SELECT * FROM orders WHERE broker_id = $1 AND sandbox = $2 AND status IN ('open', 'partially_filled', 'sent', 'unknown') ORDER BY created_at DESC", [brokerId, sandbox])).rows,
    );
  }

  async history(profileId: string, brokerId: string, days: number): Promise<OrderRow[]> {
    const sandbox = await this.sandboxNow(profileId, brokerId);
    return this.db.withProfile(profileId, async (c) =>
      (await c.query<OrderRow>(
        `SELECT * FROM orders WHERE broker_id = $1 AND sandbox = $3 AND status IN ('filled', 'cancelled') AND coalesce(closed_at, updated_at) > now() - make_interval(days => $2)
          ORDER BY coalesce(closed_at, updated_at) DESC, created_at DESC LIMIT 1000`,
        [brokerId, days, sandbox],
      )).rows,
    );
  }

  async journal(profileId: string, q: JournalQuery): Promise<OrderRow[]> {
    return this.db.withProfile(profileId, (c) => queryJournal(c, q));
  }

  async get(profileId: string, orderId: string): Promise<OrderRow | null> {
    return this.db.withProfile(profileId, (c) => getOrder(c, orderId));
  }

  toDto(row: OrderRow): OrderDto {
    return toOrderDto(row);
  }
}
