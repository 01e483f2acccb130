import ccxt, { type Exchange } from 'ccxt';
import Decimal from 'decimal.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pointExchangeAt } from '../../../electron/exchanges/urls';
import { startExchangeSim, type ExchangeSim } from './server';
import { generateCredentials, hmacHex, signedQuery } from './signing';

/**
 * The simulator driven by CCXT's real `binance` class (what the app's exchange gateway uses), plus
 * raw HTTP for the wire details CCXT hides (signature/timestamp checks, headers, status codes).
 */

const SYMBOL = 'BTC/USDT';
const PRICE = '60000';

let sim: ExchangeSim;

interface Client {
  ex: Exchange;
  apiKey: string;
  secret: string;
}

/** A fresh account (isolated balances) and a CCXT binance client pointed at the simulator. */
function newClient(balances: Record<string, string> = { USDT: '10000', BTC: '0.5' }): Client {
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances });
  return { ex: binanceFor(creds.apiKey, creds.secret), ...creds };
}

function binanceFor(apiKey: string, secret: string): Exchange {
  const ex = new ccxt.binance({ apiKey, secret, enableRateLimit: false, timeout: 5000 });
  pointExchangeAt(ex, sim.url);
  return ex;
}

const dec = (v: Decimal.Value | undefined): string => new Decimal(v ?? NaN).toString();
/** CCXT types ids as `string | undefined`; the simulator always returns one. */
const idOf = (o: { id?: string | undefined }): string => {
  if (o.id === undefined) throw new Error('order without id');
  return o.id;
};

async function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { code?: number; msg?: string } & Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${sim.url}${path}`, { headers });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : { text }, headers: res.headers };
}

beforeAll(async () => {
  sim = await startExchangeSim();
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.series.setPrice(SYMBOL, PRICE);
  sim.setMaxFillPerTick(null);
});

afterEach(() => {
  sim.series.setPrice(SYMBOL, null);
});

describe('market data through CCXT', () => {
  it('loadMarkets reads only the spot exchangeInfo and gets Binance precision and limits', async () => {
    const { ex } = newClient();
    const before = sim.requestLog.length;
    const markets = await ex.loadMarkets();
    const calls = sim.requestLog.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(calls).toEqual(['GET /api/v3/exchangeInfo']);
    const m = markets[SYMBOL];
    expect(m).toBeDefined();
    expect(m?.id).toBe('BTCUSDT');
    expect(m?.spot).toBe(true);
    expect(m?.active).toBe(true);
    expect(m?.precision.price).toBe(0.01);
    expect(m?.precision.amount).toBe(0.00001);
    expect(m?.limits.amount?.min).toBe(0.00001);
    expect(m?.limits.amount?.max).toBe(9000);
    expect(m?.limits.price?.min).toBe(0.01);
    expect(m?.limits.cost?.min).toBe(5);
    expect(markets['ETH/BTC']?.precision.price).toBe(0.00001);
    expect(markets['ETH/BTC']?.limits.cost?.min).toBe(0.0001);
  });

  it('fetchTime returns the server clock', async () => {
    const { ex } = newClient();
    const before = Date.now();
    const t = await ex.fetchTime();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it('fetchTicker follows the scripted price, with the book around it', async () => {
    const { ex } = newClient();
    sim.series.setPrice(SYMBOL, '61234.56');
    const t = await ex.fetchTicker(SYMBOL);
    expect(t.symbol).toBe(SYMBOL);
    expect(t.last).toBe(61234.56);
    expect(t.bid).toBe(61234.55);
    expect(t.ask).toBe(61234.57);
    expect(t.high).toBeGreaterThanOrEqual(61234.56);
    expect(t.baseVolume).toBeGreaterThan(0);
  });

  it('fetchOrderBook and fetchTickers', async () => {
    const { ex } = newClient();
    const book = await ex.fetchOrderBook(SYMBOL, 10);
    expect(book.bids).toHaveLength(10);
    expect(book.bids[0]?.[0]).toBe(59999.99);
    expect(book.asks[0]?.[0]).toBe(60000.01);
    expect((book.asks[9]?.[0] ?? 0) > (book.asks[0]?.[0] ?? 0)).toBe(true);
    const tickers = await ex.fetchTickers();
    expect(Object.keys(tickers).sort()).toEqual(['BNB/USDT', 'BTC/USDC', 'BTC/USDT', 'ETH/BTC', 'ETH/USDT', 'SOL/USDT']);
    expect(tickers[SYMBOL]?.last).toBe(60000);
  });

  it('fetchOHLCV gives the series 1m candles and aggregates other intervals from them', async () => {
    const { ex } = newClient();
    const hourAgo = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
    const oneMin = await ex.fetchOHLCV(SYMBOL, '1m', hourAgo, 5);
    const expected = sim.series.candles(SYMBOL, hourAgo, hourAgo + 5 * 60_000);
    expect(oneMin).toHaveLength(5);
    oneMin.forEach((row, i) => {
      const c = expected[i];
      expect(row[0]).toBe(c?.openTime);
      expect(dec(row[1])).toBe(dec(c?.open));
      expect(dec(row[2])).toBe(dec(c?.high));
      expect(dec(row[3])).toBe(dec(c?.low));
      expect(dec(row[4])).toBe(dec(c?.close));
      expect(dec(row[5])).toBe(dec(c?.volume));
    });

    const [hour] = await ex.fetchOHLCV(SYMBOL, '1h', hourAgo, 1);
    const minutes = sim.series.candles(SYMBOL, hourAgo, hourAgo + 3_600_000);
    expect(minutes).toHaveLength(60);
    expect(hour?.[0]).toBe(hourAgo);
    expect(dec(hour?.[1])).toBe(dec(minutes[0]?.open));
    expect(dec(hour?.[4])).toBe(dec(minutes[59]?.close));
    expect(dec(hour?.[2])).toBe(Decimal.max(...minutes.map((c) => c.high)).toString());
    expect(dec(hour?.[3])).toBe(Decimal.min(...minutes.map((c) => c.low)).toString());
    expect(dec(hour?.[5])).toBe(minutes.reduce((s, c) => s.plus(c.volume), new Decimal(0)).toString());
  });

  it('the newest kline is the open candle, closing at the live price', async () => {
    const { ex } = newClient();
    sim.series.setPrice(SYMBOL, '60500.5');
    const before = Math.floor(Date.now() / 300_000) * 300_000;
    const rows = await ex.fetchOHLCV(SYMBOL, '5m', undefined, 3);
    const after = Math.floor(Date.now() / 300_000) * 300_000;
    expect(rows).toHaveLength(3);
    const last = rows[2];
    expect(last?.[4]).toBe(60500.5);
    expect([before, after]).toContain(last?.[0]);
    expect((rows[1]?.[0] ?? 0) + 300_000).toBe(last?.[0]);
  });
});

describe('account and orders through CCXT', () => {
  it('fetchBalance reads free and locked balances', async () => {
    const { ex } = newClient({ USDT: '10000', BTC: '0.5' });
    const b = await ex.fetchBalance();
    expect(b['USDT']?.free).toBe(10000);
    expect(b['BTC']?.free).toBe(0.5);
    expect(b['USDT']?.used).toBe(0);
    expect(b['ETH']?.total).toBe(0);
  });

  it('fetchTradingFees reads the account rates (sapi asset/tradeFee)', async () => {
    const { ex } = newClient();
    await ex.loadMarkets();
    const fees = await ex.fetchTradingFees();
    expect(fees[SYMBOL]?.maker).toBe(0.001);
    expect(fees[SYMBOL]?.taker).toBe(0.001);
  });

  it('a MARKET buy fills at the live price, moves balances and charges the taker fee in the base asset', async () => {
    const { ex, apiKey } = newClient({ USDT: '10000', BTC: '0.5' });
    const o = await ex.createOrder(SYMBOL, 'market', 'buy', 0.01, undefined, { clientOrderId: 'mkt-buy-1' });
    expect(o.status).toBe('closed');
    expect(o.clientOrderId).toBe('mkt-buy-1');
    expect(o.filled).toBe(0.01);
    expect(o.cost).toBe(600);
    expect(o.average).toBe(60000);
    expect(o.trades).toHaveLength(1);
    expect(o.fee?.currency).toBe('BTC');
    expect(o.fee?.cost).toBe(0.00001);
    expect(sim.balances(apiKey)['USDT']).toEqual({ free: '9400.00000000', locked: '0.00000000' });
    expect(sim.balances(apiKey)['BTC']).toEqual({ free: '0.50999000', locked: '0.00000000' });
  });

  it('a MARKET sell pays the fee in the quote asset; a buy by cost uses quoteOrderQty', async () => {
    const { ex, apiKey } = newClient({ USDT: '1000', BTC: '0.5' });
    const sell = await ex.createOrder(SYMBOL, 'market', 'sell', 0.1);
    expect(sell.status).toBe('closed');
    expect(sell.fee?.currency).toBe('USDT');
    expect(sell.fee?.cost).toBe(6);
    expect(sim.balances(apiKey)['USDT']?.free).toBe('6994.00000000');
    const byCost = await ex.createMarketBuyOrderWithCost(SYMBOL, 100);
    const req = sim.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order').at(-1);
    expect(req?.params['quoteOrderQty']).toBe('100');
    expect(byCost.filled).toBe(0.00166); // 100 / 60000 rounded down to the 0.00001 step
    expect(byCost.cost).toBe(99.6);
  });

  it('a LIMIT order that does not cross rests, locks funds, is found and can be cancelled', async () => {
    const { ex, apiKey } = newClient({ USDT: '10000' });
    const o = await ex.createOrder(SYMBOL, 'limit', 'buy', 0.01, 50000);
    expect(o.status).toBe('open');
    expect(o.filled).toBe(0);
    expect(sim.balances(apiKey)['USDT']).toEqual({ free: '9500.00000000', locked: '500.00000000' });

    const fetched = await ex.fetchOrder(idOf(o), SYMBOL);
    expect(fetched.status).toBe('open');
    expect(fetched.price).toBe(50000);
    expect(fetched.amount).toBe(0.01);
    const open = await ex.fetchOpenOrders(SYMBOL);
    expect(open.map((x) => x.id)).toEqual([o.id]);
    const bal = await ex.fetchBalance();
    expect(bal['USDT']?.used).toBe(500);

    const cancelled = await ex.cancelOrder(idOf(o), SYMBOL);
    expect(cancelled.status).toBe('canceled');
    expect(sim.balances(apiKey)['USDT']).toEqual({ free: '10000.00000000', locked: '0.00000000' });
    expect(await ex.fetchOpenOrders(SYMBOL)).toEqual([]);
    await expect(ex.cancelOrder(idOf(o), SYMBOL)).rejects.toBeInstanceOf(ccxt.OrderNotFound);
    await expect(ex.fetchOrder('999999999', SYMBOL)).rejects.toBeInstanceOf(ccxt.OrderNotFound);
  });

  it('a resting LIMIT buy fills at its limit price (maker) once the price reaches it', async () => {
    const { ex, apiKey } = newClient({ USDT: '10000' });
    const o = await ex.createOrder(SYMBOL, 'limit', 'buy', 0.02, 59000);
    expect(o.status).toBe('open');
    sim.series.setPrice(SYMBOL, '58900');
    expect(sim.tick()).toBe(1);
    const done = await ex.fetchOrder(idOf(o), SYMBOL);
    expect(done.status).toBe('closed');
    expect(done.filled).toBe(0.02);
    expect(done.average).toBe(59000);
    // locked 1180 USDT was spent; 0.02 BTC less the 0.1% maker fee in BTC arrived
    expect(sim.balances(apiKey)['USDT']).toEqual({ free: '8820.00000000', locked: '0.00000000' });
    expect(sim.balances(apiKey)['BTC']).toEqual({ free: '0.01998000', locked: '0.00000000' });
    const trades = await ex.fetchMyTrades(SYMBOL);
    expect(trades).toHaveLength(1);
    expect(trades[0]?.takerOrMaker).toBe('maker');
    expect(trades[0]?.order).toBe(o.id);
  });

  it('a crossing LIMIT order trades at once at the live price (taker) and is refunded the difference', async () => {
    const { ex, apiKey } = newClient({ USDT: '10000' });
    const o = await ex.createOrder(SYMBOL, 'limit', 'buy', 0.01, 61000);
    expect(o.status).toBe('closed');
    expect(o.average).toBe(60000);
    expect(sim.balances(apiKey)['USDT']).toEqual({ free: '9400.00000000', locked: '0.00000000' });
  });

  it('partial fills: with maxFillPerTick a big order fills in parts', async () => {
    const { ex, apiKey } = newClient({ USDT: '10000' });
    const o = await ex.createOrder(SYMBOL, 'limit', 'buy', 0.01, 59000);
    sim.setMaxFillPerTick('0.004');
    sim.series.setPrice(SYMBOL, '58000');
    sim.tick();
    const afterTick = sim.orders(apiKey).find((x) => String(x.orderId) === o.id);
    expect(afterTick?.status).toBe('PARTIALLY_FILLED');
    expect(afterTick?.executedQty).toBe('0.00400000');
    // every request is a matching pass too: this one trades the second part
    const mid = await ex.fetchOrder(idOf(o), SYMBOL);
    expect(mid.status).toBe('open');
    expect(mid.filled).toBe(0.008);
    expect(mid.remaining).toBe(0.002);
    expect(sim.balances(apiKey)['USDT']?.locked).toBe('118.00000000');
    sim.tick();
    const done = await ex.fetchOrder(idOf(o), SYMBOL);
    expect(done.status).toBe('closed');
    expect(done.filled).toBe(0.01);
    const trades = await ex.fetchMyTrades(SYMBOL);
    expect(trades.map((t) => t.amount)).toEqual([0.004, 0.004, 0.002]);
    expect(sim.balances(apiKey)['USDT']).toEqual({ free: '9410.00000000', locked: '0.00000000' });
  });

  it('editOrder replaces a spot order through order/cancelReplace', async () => {
    const { ex, apiKey } = newClient({ USDT: '10000' });
    const o = await ex.createOrder(SYMBOL, 'limit', 'buy', 0.01, 50000);
    const edited = await ex.editOrder(idOf(o), SYMBOL, 'limit', 'buy', 0.02, 51000);
    expect(sim.requestLog.at(-1)?.path).toBe('/api/v3/order/cancelReplace');
    expect(edited.id).not.toBe(o.id);
    expect(edited.status).toBe('open');
    expect(edited.price).toBe(51000);
    expect(edited.amount).toBe(0.02);
    const mine = sim.orders(apiKey);
    expect(mine.find((x) => String(x.orderId) === o.id)?.status).toBe('CANCELED');
    expect(sim.balances(apiKey)['USDT']).toEqual({ free: '8980.00000000', locked: '1020.00000000' });
    // the cancelled order cannot be replaced again: STOP_ON_FAILURE → -2022, nothing placed
    await expect(ex.editOrder(idOf(o), SYMBOL, 'limit', 'buy', 0.02, 52000)).rejects.toThrow(/-2022/);
    expect(sim.orders(apiKey)).toHaveLength(2);
  });

  it('fetchMyTrades lists the account fills with fees', async () => {
    const { ex } = newClient({ USDT: '10000' });
    const a = await ex.createOrder(SYMBOL, 'market', 'buy', 0.01);
    sim.series.setPrice(SYMBOL, '61000');
    const b = await ex.createOrder(SYMBOL, 'market', 'buy', 0.02);
    const trades = await ex.fetchMyTrades(SYMBOL);
    expect(trades.map((t) => [t.order, t.price, t.amount, t.side, t.takerOrMaker])).toEqual([
      [a.id, 60000, 0.01, 'buy', 'taker'],
      [b.id, 61000, 0.02, 'buy', 'taker'],
    ]);
    expect(trades[1]?.fee?.cost).toBe(0.00002);
    expect(trades[1]?.fee?.currency).toBe('BTC');
    const one = await ex.fetchMyTrades(SYMBOL, undefined, undefined, { orderId: b.id });
    expect(one).toHaveLength(1);
  });

  it('fetchOrders (allOrders) lists every order; cancelAllOrders cancels the open ones', async () => {
    const { ex, apiKey } = newClient({ USDT: '10000' });
    const filled = await ex.createOrder(SYMBOL, 'market', 'buy', 0.01);
    const a = await ex.createOrder(SYMBOL, 'limit', 'buy', 0.01, 50000);
    const b = await ex.createOrder(SYMBOL, 'limit', 'buy', 0.01, 49000);
    const all = await ex.fetchOrders(SYMBOL);
    expect(all.map((o) => [o.id, o.status])).toEqual([
      [filled.id, 'closed'],
      [a.id, 'open'],
      [b.id, 'open'],
    ]);
    const cancelled = await ex.cancelAllOrders(SYMBOL);
    expect(cancelled.map((o) => o.id).sort()).toEqual([a.id, b.id].sort());
    expect(sim.orders(apiKey).filter((o) => o.status === 'CANCELED')).toHaveLength(2);
    expect(sim.balances(apiKey)['USDT']?.locked).toBe('0.00000000');
    await expect(ex.cancelAllOrders(SYMBOL)).rejects.toBeInstanceOf(ccxt.OrderNotFound);
  });

  it('after createOrder timed out (hangNextOrder), the order exists once and is found by clientOrderId', async () => {
    const { ex, apiKey } = newClient({ USDT: '10000' });
    await ex.loadMarkets();
    sim.hangNextOrder(5_000);
    ex.timeout = 300;
    await expect(ex.createOrder(SYMBOL, 'limit', 'buy', 0.01, 50000, { clientOrderId: 'hung-order-1' })).rejects.toBeInstanceOf(ccxt.RequestTimeout);
    ex.timeout = 5000;
    const found = await ex.fetchOrder('', SYMBOL, { origClientOrderId: 'hung-order-1' });
    expect(found.clientOrderId).toBe('hung-order-1');
    expect(found.status).toBe('open');
    expect(sim.orders(apiKey).filter((x) => x.clientOrderId === 'hung-order-1')).toHaveLength(1);
    // a retry with the same client id while it is open is refused as a duplicate, not placed twice
    await expect(ex.createOrder(SYMBOL, 'limit', 'buy', 0.01, 50000, { clientOrderId: 'hung-order-1' })).rejects.toThrow(/Duplicate order sent/);
    expect(sim.orders(apiKey)).toHaveLength(1);
  });
});

describe('errors through CCXT', () => {
  it('a wrong secret is an AuthenticationError carrying -1022', async () => {
    const { apiKey } = newClient();
    const ex = binanceFor(apiKey, generateCredentials().secret);
    const err = await ex.fetchBalance().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ccxt.AuthenticationError);
    expect(String(err)).toContain('-1022');
  });

  it('an unknown key is refused: -2015 for a well-formed key, -2014 for a malformed one', async () => {
    const unknown = generateCredentials();
    const e1 = await binanceFor(unknown.apiKey, unknown.secret).fetchBalance().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ccxt.AuthenticationError);
    expect(String(e1)).toContain('-2015');
    const e2 = await binanceFor('not-a-key', unknown.secret).fetchBalance().catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(ccxt.AuthenticationError);
    expect(String(e2)).toContain('-2014');
  });

  it('a LOT_SIZE failure is an InvalidOrder; a MIN_NOTIONAL failure is -1013 (CCXT: BadRequest)', async () => {
    const { ex, apiKey } = newClient({ USDT: '10000' });
    const lot = await ex.createOrder(SYMBOL, 'limit', 'buy', 10000, 50000).catch((e: unknown) => e);
    expect(lot).toBeInstanceOf(ccxt.InvalidOrder);
    expect(String(lot)).toContain('Filter failure: LOT_SIZE');
    const notional = await ex.createOrder(SYMBOL, 'limit', 'buy', 0.00001, 50000).catch((e: unknown) => e);
    // Binance answers -1013 "Filter failure: MIN_NOTIONAL"; CCXT 4.5 maps -1013 to BadRequest.
    expect(notional).toBeInstanceOf(ccxt.BadRequest);
    expect(String(notional)).toContain('"code":-1013');
    expect(String(notional)).toContain('Filter failure: MIN_NOTIONAL');
    expect(sim.orders(apiKey)).toHaveLength(0);
  });

  it('insufficient balance is InsufficientFunds and changes nothing', async () => {
    const { ex, apiKey } = newClient({ USDT: '100' });
    await expect(ex.createOrder(SYMBOL, 'limit', 'buy', 0.01, 50000)).rejects.toBeInstanceOf(ccxt.InsufficientFunds);
    await expect(ex.createOrder(SYMBOL, 'market', 'sell', 0.01)).rejects.toBeInstanceOf(ccxt.InsufficientFunds);
    expect(sim.orders(apiKey)).toHaveLength(0);
    expect(sim.balances(apiKey)['USDT']).toEqual({ free: '100.00000000', locked: '0.00000000' });
  });

  it('a key without trading permission may read but not trade (-2015)', async () => {
    const creds = generateCredentials();
    sim.addAccount({ ...creds, balances: { USDT: '1000' }, canTrade: false });
    const ex = binanceFor(creds.apiKey, creds.secret);
    expect((await ex.fetchBalance())['USDT']?.free).toBe(1000);
    const err = await ex.createOrder(SYMBOL, 'limit', 'buy', 0.01, 50000).catch((e: unknown) => e);
    // after a successful private call CCXT reads -2015 as DDoSProtection (a CCXT quirk)
    expect(String(err)).toContain('-2015');
  });

  it('failNext answers the next request on a path with the given error', async () => {
    sim.failNext('/api/v3/ticker/price', { status: 503, code: -1001, msg: 'Internal error; unable to process your request. Please try again.' });
    const failed = await rawGet('/api/v3/ticker/price?symbol=BTCUSDT');
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual({ code: -1001, msg: 'Internal error; unable to process your request. Please try again.' });
    const ok = await rawGet('/api/v3/ticker/price?symbol=BTCUSDT');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ symbol: 'BTCUSDT', price: '60000.00000000' });
  });
});

describe('raw HTTP', () => {
  it('HMAC matches the Binance documentation example', () => {
    const secret = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
    const total = 'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
    expect(hmacHex(secret, total)).toBe('c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71');
  });

  it('signed GET: a valid request passes; a tampered query is -1022; a stale timestamp is -1021', async () => {
    const { apiKey, secret } = newClient({ USDT: '5' });
    const headers = { 'X-MBX-APIKEY': apiKey };
    const ok = await rawGet(`/api/v3/account?${signedQuery(secret, { omitZeroBalances: 'true', timestamp: Date.now() })}`, headers);
    expect(ok.status).toBe(200);
    expect(ok.body['balances']).toEqual([{ asset: 'USDT', free: '5.00000000', locked: '0.00000000' }]);
    expect(ok.headers.get('x-mbx-used-weight-1m')).toMatch(/^\d+$/);

    const tampered = signedQuery(secret, { omitZeroBalances: 'true', timestamp: Date.now() }).replace('omitZeroBalances=true', 'omitZeroBalances=false');
    const bad = await rawGet(`/api/v3/account?${tampered}`, headers);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });

    const stale = await rawGet(`/api/v3/account?${signedQuery(secret, { timestamp: Date.now() - 6000 })}`, headers);
    expect(stale.status).toBe(400);
    expect(stale.body).toEqual({ code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' });
    const wide = await rawGet(`/api/v3/account?${signedQuery(secret, { timestamp: Date.now() - 6000, recvWindow: 10000 })}`, headers);
    expect(wide.status).toBe(200);
    const ahead = await rawGet(`/api/v3/account?${signedQuery(secret, { timestamp: Date.now() + 5000 })}`, headers);
    expect(ahead.body.code).toBe(-1021);
    const tooWide = await rawGet(`/api/v3/account?${signedQuery(secret, { timestamp: Date.now(), recvWindow: 70000 })}`, headers);
    expect(tooWide.body.code).toBe(-1131);
    const unsigned = await rawGet(`/api/v3/account?timestamp=${Date.now()}`, headers);
    expect(unsigned.body.code).toBe(-1102);
  });

  it('API key checks: missing or malformed → 401 -2014, unknown → 401 -2015', async () => {
    const { secret } = newClient();
    const q = signedQuery(secret, { timestamp: Date.now() });
    const missing = await rawGet(`/api/v3/account?${q}`);
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ code: -2014, msg: 'API-key format invalid.' });
    const unknown = await rawGet(`/api/v3/account?${q}`, { 'X-MBX-APIKEY': generateCredentials().apiKey });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({ code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' });
  });

  it('signed POST: parameters in the body, or split between query and body (signature over both)', async () => {
    const { apiKey, secret } = newClient({ USDT: '10000' });
    const body = signedQuery(secret, { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '50000', newOrderRespType: 'ACK', timestamp: Date.now() });
    const res = await fetch(`${sim.url}/api/v3/order`, { method: 'POST', headers: { 'X-MBX-APIKEY': apiKey, 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    expect(res.status).toBe(200);
    const ack = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(ack).sort()).toEqual(['clientOrderId', 'orderId', 'orderListId', 'symbol', 'transactTime']);

    const query = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC';
    const rest = `quantity=0.01&price=49000&timestamp=${Date.now()}`;
    const signature = hmacHex(secret, query + rest); // totalParams: query then body, no separator
    const mixed = await fetch(`${sim.url}/api/v3/order?${query}`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': apiKey, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `${rest}&signature=${signature}`,
    });
    expect(mixed.status).toBe(200);
    const full = (await mixed.json()) as Record<string, unknown>;
    expect(full['price']).toBe('49000.00000000');
    expect(full['fills']).toEqual([]);
    expect(sim.orders(apiKey)).toHaveLength(2);
  });

  it('order validation errors: LOT_SIZE step, PRICE_FILTER tick, missing params, unknown symbol', async () => {
    const { apiKey, secret } = newClient({ USDT: '10000' });
    const post = async (params: Record<string, string | number>) => {
      const res = await fetch(`${sim.url}/api/v3/order`, {
        method: 'POST',
        headers: { 'X-MBX-APIKEY': apiKey, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: signedQuery(secret, { ...params, timestamp: Date.now() }),
      });
      return { status: res.status, body: (await res.json()) as { code: number; msg: string } };
    };
    const base = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC' };
    expect((await post({ ...base, quantity: '0.000015', price: '50000' })).body).toEqual({ code: -1013, msg: 'Filter failure: LOT_SIZE' });
    expect((await post({ ...base, quantity: '0.01', price: '50000.005' })).body).toEqual({ code: -1013, msg: 'Filter failure: PRICE_FILTER' });
    expect((await post({ ...base, quantity: '0.01' })).body.code).toBe(-1102);
    expect((await post({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET' })).body.msg).toBe("Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!");
    const bad = await post({ ...base, symbol: 'NOPEUSDT', quantity: '0.01', price: '50000' });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: -1121, msg: 'Invalid symbol.' });
    expect((await post({ ...base, quantity: '0.1234567891', price: '50000' })).body.code).toBe(-1111);
    expect((await post({ ...base, type: 'STOP_LOSS', timeInForce: '', quantity: '0.01' })).body).toEqual({ code: -1102, msg: "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed." });
    expect((await post({ ...base, type: 'LIMIT_MAKER', timeInForce: '', quantity: '0.01', price: '61000' })).body).toEqual({ code: -2010, msg: 'Order would immediately match and take.' });
    expect(sim.orders(apiKey)).toHaveLength(0);
  });

  it('unknown paths are 404; public endpoints report their weight', async () => {
    expect((await rawGet('/api/v3/nothing')).status).toBe(404);
    const depth = await rawGet('/api/v3/depth?symbol=BTCUSDT&limit=5');
    expect(depth.status).toBe(200);
    const bids = depth.body['bids'] as [string, string][];
    const asks = depth.body['asks'] as [string, string][];
    expect(bids.map((b) => b[0])).toEqual(['59999.99000000', '59999.98000000', '59999.97000000', '59999.96000000', '59999.95000000']);
    expect(asks.map((a) => a[0])).toEqual(['60000.01000000', '60000.02000000', '60000.03000000', '60000.04000000', '60000.05000000']);
    expect(bids.every((b) => new Decimal(b[1]).gt(0))).toBe(true);
    const book = await rawGet('/api/v3/ticker/bookTicker?symbol=BTCUSDT');
    expect(book.body).toMatchObject({ symbol: 'BTCUSDT', bidPrice: '59999.99000000', askPrice: '60000.01000000' });
    const all = await rawGet('/api/v3/ticker/price');
    expect(Array.isArray(all.body)).toBe(true);
    const before = sim.usedWeight();
    await rawGet('/api/v3/exchangeInfo?symbol=BTCUSDT');
    // the window may roll over between the two reads; then the count restarts at 20
    expect([before + 20, 20]).toContain(sim.usedWeight());
  });
});

describe('request weight limit', () => {
  let clock = Date.UTC(2024, 0, 1, 0, 0, 10);
  let limited: ExchangeSim;

  beforeAll(async () => {
    limited = await startExchangeSim({ now: () => clock, weightLimit: 30, banAfter: 2, banMs: 120_000 });
  });

  afterAll(async () => {
    await limited.close();
  });

  it('over the limit → 429, Retry-After and -1003 (raw and through CCXT); the next minute resets it; persisting → 418', async () => {
    const get = (path: string) => fetch(`${limited.url}${path}`);
    const first = await get('/api/v3/exchangeInfo');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-mbx-used-weight-1m')).toBe('20');
    expect((await get('/api/v3/time')).status).toBe(200);

    const refused = await get('/api/v3/exchangeInfo');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('50');
    const body = (await refused.json()) as { code: number; msg: string };
    expect(body.code).toBe(-1003);
    expect(body.msg).toContain('current limit is 30 request weight per 1 MINUTE');

    const ex = new ccxt.binance({ enableRateLimit: false, timeout: 5000 });
    pointExchangeAt(ex, limited.url);
    const err = await ex.fetchTime().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ccxt.DDoSProtection); // RateLimitExceeded is a DDoSProtection
    expect(String(err)).toContain('429');

    clock += 60_000;
    const next = await get('/api/v3/time');
    expect(next.status).toBe(200);
    expect(next.headers.get('x-mbx-used-weight-1m')).toBe('1');
    expect(await ex.fetchTime()).toBe(clock);

    limited.setWeightLimit(2);
    expect((await get('/api/v3/time')).status).toBe(429); // 3 > 2
    expect((await get('/api/v3/time')).status).toBe(429);
    const banned = await get('/api/v3/time'); // third refusal in the window → banned
    expect(banned.status).toBe(418);
    expect(banned.headers.get('retry-after')).toBe('120');
    clock += 60_000;
    limited.setWeightLimit(6000);
    expect((await get('/api/v3/time')).status).toBe(418); // still banned
    clock += 61_000;
    expect((await get('/api/v3/time')).status).toBe(200);
  });
});
