import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Decimal from 'decimal.js';
import { PriceSeries } from '../series';
import { Engine, orderView, tradeView, type Account, type AccountSpec, type OrderJson, type TradeJson } from './engine';
import { BinanceError, errors } from './errors';
import type { Params } from './filters';
import { MarketData } from './market-data';
import { buildMarket, defaultMarketSpecs, fmt, type MarketSpec, type SimMarket } from './markets';
import { WeightLimiter, type Bucket } from './rate-limit';
import { buildRoutes, intParam, type Route, type RouteContext, type SimState } from './routes';
import { isWellFormedKey, stripSignature, verifySignature } from './signing';

/**
 * A Binance-compatible spot REST exchange on 127.0.0.1 for tests: CCXT's real `binance` class works
 * against it once pointed at its URL (electron/exchanges/urls.ts `pointExchangeAt`). Prices come
 * from the deterministic PriceSeries; orders, balances and trades live in memory.
 */

export interface ExchangeSimOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  series?: PriceSeries;
  /** Default: every symbol of the series, with filters derived from its decimals. */
  markets?: MarketSpec[];
  accounts?: AccountSpec[];
  /** The exchange clock (server time, timestamps, recvWindow, weight windows). Default Date.now. */
  now?: () => number;
  /** REQUEST_WEIGHT per minute (Binance spot: 6000). */
  weightLimit?: number;
  /** 429s tolerated in one window before a 418 ban (0: never ban). Default 20. */
  banAfter?: number;
  banMs?: number;
  /** Largest base quantity one order trades per matching pass (partial fills). */
  maxFillPerTick?: Decimal.Value;
  /** Run the matching engine on a timer as well (off by default; it always runs on each request). */
  tickIntervalMs?: number;
  makerRate?: Decimal.Value;
  takerRate?: Decimal.Value;
}

export interface FailSpec {
  status: number;
  code: number;
  msg: string;
  /** Only fail a request with this method (default: any). */
  method?: string;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  time: number;
  /** Query and body parameters, without the signature. */
  params: Params;
  /** HTTP status sent (absent while the response is pending). */
  status?: number;
}

export interface SimBalance {
  free: string;
  locked: string;
}

export type SimOrderView = OrderJson & { apiKey: string };

export interface ExchangeSim {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly series: PriceSeries;
  readonly requestLog: RequestLogEntry[];
  /** One matching pass over the open orders; returns the number of fills. */
  tick(): number;
  orders(apiKey?: string): SimOrderView[];
  balances(apiKey: string): Record<string, SimBalance>;
  trades(apiKey: string): TradeJson[];
  addAccount(spec: AccountSpec): void;
  setBalance(apiKey: string, asset: string, free: Decimal.Value): void;
  /** The next request on `path` (e.g. '/api/v3/order') answers this error instead. Calls queue. */
  failNext(path: string, spec: FailSpec): void;
  /** The next POST /api/v3/order is processed and stored, but its response is held for `ms`. */
  hangNextOrder(ms: number): void;
  /** Every later POST /api/v3/order waits `ms` before it is processed (a slow exchange); 0 turns it off. */
  delayOrders(ms: number): void;
  setWeightLimit(n: number): void;
  usedWeight(): number;
  setMaxFillPerTick(qty: Decimal.Value | null): void;
  /** Commissions of the account in this asset (e.g. 'BNB') while it has enough; null: in the asset received. */
  payFeesIn(apiKey: string, asset: string | null): void;
  /** Cancelling an already cancelled order answers it again (true) instead of -2011 (false, Binance). */
  setRepeatedCancels(on: boolean): void;
  /** The account holder cancels every open order of a market themselves (not through the app): returns how many. */
  cancelAllOpen(apiKey: string, symbol: string): number;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json;charset=UTF-8';
const MAX_BODY = 1 << 20;
/** requestLog keeps the most recent entries only (a long `npm run sim` session). */
const MAX_LOG = 50_000;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseParams(rawQuery: string, rawBody: string): Params {
  const params: Params = {};
  // Binance: a parameter sent in both the query string and the body takes the query's value.
  for (const [k, v] of new URLSearchParams(rawBody)) params[k] = v;
  for (const [k, v] of new URLSearchParams(rawQuery)) params[k] = v;
  return params;
}

export async function startExchangeSim(opts: ExchangeSimOptions = {}): Promise<ExchangeSim> {
  const now = opts.now ?? Date.now;
  const series = opts.series ?? new PriceSeries(42);
  const markets = new Map<string, SimMarket>();
  for (const spec of opts.markets ?? defaultMarketSpecs(series)) {
    const m = buildMarket(spec, series);
    markets.set(m.id, m);
  }
  const data = new MarketData(series, now);
  const engineOpts: ConstructorParameters<typeof Engine>[0] = {
    priceOf: (m) => data.price(m),
    now,
    assetPrice: (asset, quote) => {
      const m = markets.get(`${asset}${quote}`);
      return m ? data.price(m) : null;
    },
  };
  if (opts.maxFillPerTick !== undefined) engineOpts.maxFillPerTick = opts.maxFillPerTick;
  if (opts.makerRate !== undefined) engineOpts.makerRate = opts.makerRate;
  if (opts.takerRate !== undefined) engineOpts.takerRate = opts.takerRate;
  const engine = new Engine(engineOpts);
  for (const a of opts.accounts ?? []) engine.addAccount(a);
  const limiterOpts: ConstructorParameters<typeof WeightLimiter>[0] = { now, limit: opts.weightLimit ?? 6000 };
  if (opts.banAfter !== undefined) limiterOpts.banAfter = opts.banAfter;
  if (opts.banMs !== undefined) limiterOpts.banMs = opts.banMs;
  const limiter = new WeightLimiter(limiterOpts);
  const state: SimState = { engine, data, markets, limiter };
  const routes = buildRoutes(state);
  const requestLog: RequestLogEntry[] = [];
  const failures: { path: string; spec: FailSpec }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let hangMs: number | undefined;
  let orderDelayMs = 0;

  function authenticate(req: IncomingMessage, route: Route, rawQuery: string, rawBody: string, params: Params, t: number): Account {
    const header = req.headers['x-mbx-apikey'];
    const apiKey = Array.isArray(header) ? header[0] : header;
    if (!apiKey) throw errors.apiKeyFormat();
    const account = engine.accounts.get(apiKey);
    if (!account) throw isWellFormedKey(apiKey) ? errors.rejectedKey() : errors.apiKeyFormat();
    const q = stripSignature(rawQuery);
    const b = stripSignature(rawBody);
    const signature = q.signature ?? b.signature;
    if (!signature) throw errors.mandatory('signature');
    const timestamp = intParam(params, 'timestamp');
    if (timestamp === undefined) throw errors.mandatory('timestamp');
    const recvWindow = intParam(params, 'recvWindow') ?? 5000;
    if (recvWindow > 60_000) throw errors.recvWindowTooBig();
    if (!verifySignature(account.secret, q.rest + b.rest, signature)) throw errors.badSignature();
    if (timestamp >= t + 1000) throw errors.aheadOfServer();
    if (t - timestamp > recvWindow) throw errors.outsideRecvWindow();
    if (route.security === 'TRADE' && !account.canTrade) throw errors.rejectedKey();
    return account;
  }

  function send(res: ServerResponse, entry: RequestLogEntry, status: number, body: unknown, headers: Record<string, string>): void {
    entry.status = status;
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, { 'Content-Type': JSON_TYPE, ...headers });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const rawQuery = url.search.slice(1);
    const rawBody = method === 'GET' ? '' : await readBody(req);
    const t = now();
    // A slow exchange: the order is processed (at its arrival time) only after the delay.
    if (orderDelayMs > 0 && method === 'POST' && path === '/api/v3/order') await new Promise((r) => setTimeout(r, orderDelayMs));
    const params = parseParams(stripSignature(rawQuery).rest, stripSignature(rawBody).rest);
    const entry: RequestLogEntry = { method, path, time: t, params };
    requestLog.push(entry);
    if (requestLog.length > MAX_LOG) requestLog.splice(0, requestLog.length - MAX_LOG);

    const failAt = failures.findIndex((f) => f.path === path && (f.spec.method === undefined || f.spec.method === method));
    if (failAt >= 0) {
      const [f] = failures.splice(failAt, 1);
      if (f) return send(res, entry, f.spec.status, { code: f.spec.code, msg: f.spec.msg }, {});
    }
    const route = routes.find((r) => r.path === path && r.method === method);
    if (!route) {
      entry.status = 404;
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html><body><h2>404 Not found</h2></body></html>');
      return;
    }
    const bucket: Bucket = route.bucket;
    const isNewOrder = method === 'POST' && path === '/api/v3/order';
    let status = 200;
    let body: unknown;
    let extraHeaders: Record<string, string> = {};
    try {
      limiter.consume(bucket, route.weight(params));
      engine.match(); // resting orders react to the price on every request
      const ctx: RouteContext = { params, now: t };
      if (route.security !== 'NONE') ctx.account = authenticate(req, route, rawQuery, rawBody, params, t);
      body = route.handle(ctx);
    } catch (e) {
      const err = e instanceof BinanceError ? e : new BinanceError(500, -1000, 'An unknown error occurred while processing the request.');
      if (!(e instanceof BinanceError)) console.error('exchange simulator: unexpected error', e);
      status = err.status;
      body = err.body();
      extraHeaders = err.headers ?? {};
    }
    const headers = { ...limiter.headers(bucket), ...extraHeaders };
    if (isNewOrder && hangMs !== undefined) {
      const ms = hangMs;
      hangMs = undefined;
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(res, entry, status, body, headers);
      }, ms);
      timers.add(timer);
      return;
    }
    send(res, entry, status, body, headers);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      console.error('exchange simulator: request failed', e);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': JSON_TYPE });
      res.end(JSON.stringify({ code: -1000, msg: 'An unknown error occurred while processing the request.' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const tickTimer = opts.tickIntervalMs ? setInterval(() => engine.match(), opts.tickIntervalMs) : undefined;
  tickTimer?.unref();

  const balancesOf = (apiKey: string): Record<string, SimBalance> => {
    const a = engine.account(apiKey);
    const out: Record<string, SimBalance> = {};
    for (const asset of new Set([...a.free.keys(), ...a.locked.keys()])) {
      out[asset] = { free: fmt(engine.free(a, asset)), locked: fmt(engine.locked(a, asset)) };
    }
    return out;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    series,
    requestLog,
    tick: () => engine.match(),
    orders: (apiKey) => engine.ordersOf(apiKey).map((o) => ({ ...orderView(o), apiKey: o.apiKey })),
    balances: balancesOf,
    trades: (apiKey) => engine.tradesOf(apiKey).map(tradeView),
    addAccount: (spec) => {
      engine.addAccount(spec);
    },
    setBalance: (apiKey, asset, free) => engine.setFree(engine.account(apiKey), asset, free),
    failNext: (path, spec) => {
      failures.push({ path, spec });
    },
    hangNextOrder: (ms) => {
      hangMs = ms;
    },
    delayOrders: (ms) => {
      orderDelayMs = ms;
    },
    setWeightLimit: (n) => {
      limiter.limit = n;
    },
    usedWeight: () => limiter.usedWeight('api'),
    setMaxFillPerTick: (qty) => {
      engine.setMaxFillPerTick(qty);
    },
    payFeesIn: (apiKey, asset) => {
      engine.account(apiKey).feeAsset = asset;
    },
    setRepeatedCancels: (on) => {
      engine.repeatedCancels = on;
    },
    cancelAllOpen: (apiKey, symbol) => {
      const a = engine.account(apiKey);
      const m = markets.get(symbol.replace('/', ''));
      if (!m) throw new Error(`no market ${symbol}`);
      let n = 0;
      for (const o of engine.openOrders(a, m)) {
        if (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') continue; // an OCO's other leg went with the first
        engine.cancel(a, m, { orderId: o.orderId });
        n++;
      }
      return n;
    },
    close: async () => {
      if (tickTimer) clearInterval(tickTimer);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
