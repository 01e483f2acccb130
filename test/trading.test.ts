import ccxt from 'ccxt';
import Decimal from 'decimal.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MethodOutput } from '../shared/contract';
import { pointExchangeAt } from '../electron/exchanges/urls';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { startTestHost, type TestHost, type WsClient } from './support/host';
import { asOwner } from './support/db';
import { translate, type Params } from '../shared/i18n';
import { wordError } from '../shared/i18n/wording';

/**
 * Manual trading through the real API (WebSocket → core → CCXT → the Binance simulator): orders,
 * the journal, fills, positions, sync, and the fault cases (lost answers, 429s).
 */

type Order = MethodOutput<'orders.place'>;
type Validation = MethodOutput<'orders.validate'>;
type Position = MethodOutput<'positions.list'>[number];

const KEY = 'TradingTestKey0000000000000000000000000000000000000000000000000001';
const SECRET = 'TradingTestSecret000000000000000000000000000000000000000000000001';
const BTC = 'BTC/USDT';

let sim: ExchangeSim;
let t: TestHost;
let c: WsClient;
let brokerId: string;
/** The simulator's clock runs ahead of the real one by this much (ms). */
let clockOffset = 0;

beforeAll(async () => {
  sim = await startExchangeSim({ accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '10000', BTC: '0.5' } }], now: () => Date.now() + clockOffset });
  sim.series.setPrice(BTC, '60000');
  process.env.ARISTOBOT_EXCHANGE_URL_binance = sim.url;
  t = await startTestHost({ ARISTOBOT_EXCHANGE_TIMEOUT_MS: '1500' });
  c = await t.client();
  await c.call('profiles.create', { name: 'Trader', password: 'pw-12345' });
  await c.call('profiles.login', { name: 'Trader', password: 'pw-12345' });
  await c.call('events.subscribe', { events: ['orders.updated', 'positions.updated'] });
  brokerId = (await c.call<{ id: string }>('brokers.create', { name: 'Sim', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } })).id;
}, 60_000);
afterAll(async () => {
  c?.close();
  await t?.close();
  await sim?.close();
  delete process.env.ARISTOBOT_EXCHANGE_URL_binance;
});
beforeEach(() => {
  sim.series.setPrice(BTC, '60000');
  sim.setMaxFillPerTick(null);
});

const err = async (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: Error & { code?: string; details?: unknown }) => ({ code: e.code, message: e.message, details: e.details as { order?: Order; problems?: { code: string }[] } }),
  );
const orderPosts = () => sim.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order');
const simOrder = (clientOrderId: string) => sim.orders(KEY).filter((o) => o.clientOrderId === clientOrderId);
const simBalance = (asset: string) => {
  const b = sim.balances(KEY)[asset];
  return new Decimal(b?.free ?? 0).plus(b?.locked ?? 0);
};
const journal = (filters: Record<string, unknown> = {}) => c.call<Order[]>('orders.journal', { filters });

describe('reading: capabilities, markets, portfolio, ticker', () => {
  it('shows what the exchange can do, its markets by quote, and the portfolio valued in USDT', async () => {
    const caps = await c.call<MethodOutput<'trading.capabilities'>>('trading.capabilities', { brokerId });
    expect(caps).toMatchObject({ exchange: 'binance', modify: 'edit', has: { createMarketOrder: true, createLimitOrder: true, editOrder: true, fetchOHLCV: true, createStopOrder: true } });
    expect(caps.modifyNote).toMatch(/cancel-replace/);

    const usdc = await c.call<MethodOutput<'trading.markets'>>('trading.markets', { brokerId, quote: 'USDC' });
    expect(usdc.markets.map((m) => m.symbol)).toEqual(['BTC/USDC']);
    expect(usdc.quotes.slice(0, 1)).toEqual(['USDT']);
    const search = await c.call<MethodOutput<'trading.markets'>>('trading.markets', { brokerId, search: 'eth' });
    expect(search.markets.map((m) => m.symbol).sort()).toEqual(['ETH/BTC', 'ETH/USDT']);
    expect(search.markets.find((m) => m.symbol === 'ETH/USDT')?.precision).toEqual({ price: '0.01', amount: '0.0001' });

    const p = await c.call<MethodOutput<'portfolio.get'>>('portfolio.get', { brokerId });
    expect(p.valuationCurrency).toBe('USDT');
    expect(p.assets).toEqual([
      { asset: 'BTC', free: '0.5', used: '0', total: '0.5', price: '60000', value: '30000' },
      { asset: 'USDT', free: '10000', used: '0', total: '10000', price: '1', value: '10000' },
    ]);
    expect(p.total).toBe('40000');

    const tk = await c.call<MethodOutput<'tickers.get'>>('tickers.get', { brokerId, symbol: BTC });
    expect(tk).toMatchObject({ symbol: BTC, last: '60000', bid: '59999.99', ask: '60000.01' });
  });
});

describe('validation (the calculator and the Validate button)', () => {
  it('rounds a quantity down to the step and computes the cost at the ticker (market) or limit price', async () => {
    const q = await c.call<Validation>('orders.validate', { brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.001234567', quick: true });
    expect(q).toMatchObject({ ok: true, amount: '0.00123', referencePrice: '60000', cost: '73.8', validUntil: null, balance: null });
    const fromCost = await c.call<Validation>('orders.validate', { brokerId, symbol: BTC, side: 'buy', type: 'limit', cost: '100', price: '50000', quick: true });
    expect(fromCost).toMatchObject({ ok: true, amount: '0.002', price: '50000', cost: '100' });
    const fromCost2 = await c.call<Validation>('orders.validate', { brokerId, symbol: BTC, side: 'buy', type: 'market', cost: '100', quick: true });
    expect(fromCost2).toMatchObject({ amount: '0.00166', cost: '99.6' });
  });

  it('a full validation checks the balance and holds for a while', async () => {
    const before = orderPosts().length;
    const v = await c.call<Validation>('orders.validate', { brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '59000' });
    expect(v.ok).toBe(true);
    expect(v.balance).toEqual({ asset: 'USDT', free: '10000', required: '590' });
    expect(v.checks.map((x) => [x.name, x.ok])).toEqual([['market', true], ['amount', true], ['price', true], ['cost', true], ['balance', true]]);
    expect(new Date(v.validUntil!).getTime()).toBeGreaterThan(Date.now());
    const poor = await c.call<Validation>('orders.validate', { brokerId, symbol: BTC, side: 'sell', type: 'limit', amount: '1', price: '61000' });
    expect(poor.ok).toBe(false);
    expect(poor.problems).toEqual([expect.objectContaining({ code: 'insufficient_balance', message: 'Not enough BTC: the order needs 1 BTC, 0.5 BTC is available' })]);
    expect(orderPosts().length).toBe(before); // nothing sent, nothing journaled
    expect(await journal()).toEqual([]);
  });
});

describe('bad input is refused before any exchange call and journaled as rejected', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['below the minimum cost', { symbol: BTC, side: 'buy', type: 'limit', amount: '0.00001', price: '60000' }, 'invalid_order', /Cost 0\.60 USDT is below the minimum 5 USDT/],
    ['more than the balance', { symbol: BTC, side: 'buy', type: 'limit', amount: '0.2', price: '60000' }, 'insufficient_funds', /Not enough USDT: the order needs 12000 USDT, 10000 USDT is available/],
    ['a price off the tick', { symbol: BTC, side: 'buy', type: 'limit', amount: '0.001', price: '59000.005' }, 'invalid_order', /not a multiple of the tick 0\.01/],
    ['a symbol not on the exchange', { symbol: 'DOGE/USDT', side: 'buy', type: 'market', amount: '10' }, 'invalid_order', /binance has no market DOGE\/USDT/],
    ['a limit order without a price', { symbol: BTC, side: 'buy', type: 'limit', amount: '0.001' }, 'invalid_order', /A limit order needs a price/],
    ['an amount below the minimum amount', { symbol: 'ETH/USDT', side: 'buy', type: 'limit', amount: '0.00001', price: '3000' }, 'invalid_order', /Amount 0\.00001 is below the minimum 0\.0001 ETH/],
  ];
  it.each(cases)('%s', async (_name, input, code, message) => {
    const posts = orderPosts().length;
    const e = await err(c.call('orders.place', { brokerId, ...input }));
    expect(e?.code).toBe(code);
    expect(e?.message).toMatch(message);
    expect(orderPosts().length).toBe(posts);
    const row = e!.details.order!;
    expect(row).toMatchObject({ status: 'rejected', source: 'manual', errorCode: code, symbol: input.symbol, exchangeOrderId: null });
    expect(row.errorMessage).toMatch(message);
    const [latest] = await journal({ limit: 1 });
    expect(latest).toEqual(row);
  });
});

describe('the order check speaks French: every line by key and params (issue 15)', () => {
  type Worded = { key: string; params: Params; message: string };
  it('a refusal by the check: the error, its problems and the journal row carry keys; French from the same keys', async () => {
    const posts = orderPosts().length;
    const r = await c.request('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.00001', price: '59000.005' });
    if (!('error' in r)) throw new Error('expected a refusal');
    const e = r.error as { code: string; message: string; key: string; params: Params; details: { problems: (Worded & { code: string })[]; order: Order } };
    expect(orderPosts().length).toBe(posts);
    expect(e).toMatchObject({ code: 'invalid_order', key: 'errors.trading.problems' });
    expect(e.details.problems.map((p) => [p.code, p.key])).toEqual([
      ['price_not_on_tick', 'coreTrading.problem.priceNotOnTick'],
      ['cost_below_min', 'coreTrading.problem.costBelowMin'],
    ]);
    // The English message is the keys' English; each line and the whole message come out in French.
    for (const p of e.details.problems) expect(translate('en', p.key, p.params)).toBe(p.message);
    expect(wordError('en', e)).toBe(e.message);
    expect(e.message).toBe('Price 59000.005 is not a multiple of the tick 0.01 (nearest valid price: 59000.01); Cost 0.59000005 USDT is below the minimum 5 USDT');
    expect(wordError('fr', e)).toBe('Le prix 59\u202f000,005 n’est pas un multiple de l’échelon de prix 0,01 (prix valide le plus proche : 59\u202f000,01) ; Le montant 0,59000005 USDT est inférieur au minimum de 5 USDT');
    // The journal row keeps the English and, beside it, the same key and params.
    const row = e.details.order;
    expect(row).toMatchObject({ status: 'rejected', errorMessage: e.message, errorKey: 'errors.trading.problems', errorParams: e.params });
    const [latest] = await journal({ limit: 1 });
    expect(latest).toMatchObject({ id: row.id, errorKey: 'errors.trading.problems', errorParams: e.params });
    expect(translate('fr', latest!.errorKey!, latest!.errorParams as Params)).toBe(wordError('fr', e));
  });

  it('validate: problems and check items by key, French wording of each', async () => {
    const v = await c.call<MethodOutput<'orders.validate'>>('orders.validate', { brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.2', price: '60000' });
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([{ field: 'cost', code: 'insufficient_balance', key: 'coreTrading.problem.insufficientBalance', params: { asset: 'USDT', required: '12000', free: '10000' }, message: 'Not enough USDT: the order needs 12000 USDT, 10000 USDT is available' }]);
    expect(translate('fr', v.problems[0]!.key!, v.problems[0]!.params as Params)).toBe('Solde USDT insuffisant : l’ordre demande 12\u202f000 USDT, 10\u202f000 USDT disponible');
    for (const check of v.checks) {
      expect(check.key, check.name).toBeTruthy();
      expect(translate('en', check.key!, check.params as Params)).toBe(check.message);
    }
    const fr = Object.fromEntries(v.checks.map((x) => [x.name, translate('fr', x.key!, x.params as Params)]));
    expect(fr).toMatchObject({ market: 'BTC/USDT est négocié', price: 'Prix 60\u202f000 USDT (échelon de prix 0,01)', balance: 'Solde USDT insuffisant : l’ordre demande 12\u202f000 USDT, 10\u202f000 USDT disponible' });
    expect(fr.amount).toMatch(/^Quantité 0,2 BTC \(pas de 0,00001, /);
    const caps = await c.call<MethodOutput<'trading.capabilities'>>('trading.capabilities', { brokerId });
    expect(caps.modifyNoteKey).toBe('coreTrading.modify.binance');
    expect(translate('fr', caps.modifyNoteKey!, caps.modifyNoteParams as Params)).toMatch(/^Modifier utilise le cancel-replace de Binance/);
  });

  it('an older journal row (no key) still shows its stored English', async () => {
    const e = await err(c.call('orders.place', { brokerId, symbol: 'DOGE/USDT', side: 'buy', type: 'market', amount: '10' }));
    const id = e!.details.order!.id;
    await asOwner(t.db.ownerUrl, (q) => q.query('UPDATE orders SET error_key = NULL, error_params = NULL WHERE id = $1', [id]));
    const old = (await journal({ limit: 50 })).find((o) => o.id === id)!;
    expect(old).toMatchObject({ errorKey: null, errorParams: null, errorMessage: 'binance has no market DOGE/USDT' });
    // What the page shows (coreText / wordError): no key, so the stored English.
    expect(wordError('fr', { message: old.errorMessage!, key: old.errorKey, params: old.errorParams as Params | null })).toBe('binance has no market DOGE/USDT');
  });
});

describe('orders against the simulator through CCXT', () => {
  it('market buy: filled at once, fills and the position match the simulator’s books', async () => {
    const btcBefore = simBalance('BTC');
    const usdtBefore = simBalance('USDT');
    const order = await c.call<Order>('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.0101' });
    expect(order).toMatchObject({ status: 'filled', source: 'manual', amount: '0.0101', filled: '0.0101', averagePrice: '60000', cost: '606', fee: { cost: '0.0000101', currency: 'BTC' } });
    expect(order.clientOrderId).toMatch(/^a3m[0-9a-f]{24}$/);
    const [s] = simOrder(order.clientOrderId);
    expect(s).toMatchObject({ status: 'FILLED', executedQty: '0.01010000' });
    expect(order.exchangeOrderId).toBe(String(s!.orderId));
    const fills = await c.call<MethodOutput<'orders.fills'>>('orders.fills', { orderId: order.id });
    expect(fills).toEqual([expect.objectContaining({ price: '60000', amount: '0.0101', cost: '606', fee: { cost: '0.0000101', currency: 'BTC' }, takerOrMaker: 'taker' })]);
    // the simulator's books moved by exactly what the journal says
    expect(simBalance('BTC').minus(btcBefore).toFixed()).toBe('0.0100899');
    expect(usdtBefore.minus(simBalance('USDT')).toFixed()).toBe('606');
    const [pos] = await c.call<Position[]>('positions.list', { brokerId });
    expect(pos).toMatchObject({ symbol: BTC, quantity: '0.0100899', realisedPnl: '0', price: '60000' });
    // entry cost 606 USDT for 0.0100899 BTC (the fee came out of the BTC); at 60000 that is −0.606 USDT
    expect(new Decimal(pos!.averageEntry!).times(pos!.quantity).toDecimalPlaces(8).toFixed()).toBe('606');
    expect(new Decimal(pos!.unrealisedPnl!).toDecimalPlaces(8).toFixed()).toBe('-0.606');
    await expect.poll(() => c.events.some((e) => e.event === 'positions.updated')).toBe(true);
  });

  it('limit order: open, listed, modified (cancel-replace), cancelled; history newest first; balance released', async () => {
    const order = await c.call<Order>('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000' });
    expect(order).toMatchObject({ status: 'open', filled: '0', remaining: '0.01', price: '55000' });
    expect(sim.balances(KEY).USDT?.locked).toBe('550.00000000');
    const open = await c.call<Order[]>('orders.open', { brokerId });
    expect(open.map((o) => o.id)).toEqual([order.id]);

    const m = await c.call<MethodOutput<'orders.modify'>>('orders.modify', { orderId: order.id, price: '55500.5' });
    expect(m.method).toBe('edit');
    expect(m.replaced).toMatchObject({ id: order.id, status: 'cancelled' });
    expect(m.order).toMatchObject({ status: 'open', price: '55500.5', amount: '0.01', replacesOrderId: order.id, source: 'manual' });
    expect(simOrder(order.clientOrderId)[0]?.status).toBe('CANCELED');
    expect(simOrder(m.order.clientOrderId)[0]).toMatchObject({ status: 'NEW', price: '55500.50000000' });
    expect((await c.call<Order[]>('orders.open', { brokerId })).map((o) => o.id)).toEqual([m.order.id]);

    const cancelled = await c.call<Order>('orders.cancel', { orderId: m.order.id });
    expect(cancelled.status).toBe('cancelled');
    expect(simOrder(m.order.clientOrderId)[0]?.status).toBe('CANCELED');
    expect(sim.balances(KEY).USDT?.locked).toBe('0.00000000');
    expect(await c.call<Order[]>('orders.open', { brokerId })).toEqual([]);
    const again = await err(c.call('orders.cancel', { orderId: m.order.id }));
    expect(again).toMatchObject({ code: 'conflict', message: 'The order is already cancelled.' });

    const history = await c.call<Order[]>('orders.history', { brokerId });
    expect(history.slice(0, 2).map((o) => o.id)).toEqual([m.order.id, order.id]);
    expect(history.every((o) => o.status === 'filled' || o.status === 'cancelled')).toBe(true);
  });

  it('modify refuses a bad new price without touching the order', async () => {
    const order = await c.call<Order>('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.001', price: '50000' });
    const posts = sim.requestLog.filter((r) => r.path === '/api/v3/order/cancelReplace').length;
    const e = await err(c.call('orders.modify', { orderId: order.id, price: '50000.001' }));
    expect(e?.code).toBe('invalid_order');
    expect(e?.message).toMatch(/not a multiple of the tick 0\.01.*The original order is unchanged\./);
    expect(e?.details.order).toMatchObject({ status: 'rejected', replacesOrderId: order.id });
    expect(sim.requestLog.filter((r) => r.path === '/api/v3/order/cancelReplace').length).toBe(posts);
    expect(simOrder(order.clientOrderId)[0]?.status).toBe('NEW');
    await c.call('orders.cancel', { orderId: order.id });
  });

  it('partial fills: the journal follows the exchange until filled; realised P&L on the sell', async () => {
    sim.setMaxFillPerTick('0.004');
    const before = await c.call<Position[]>('positions.list', { brokerId });
    const qtyBefore = new Decimal(before.find((p) => p.symbol === BTC)?.quantity ?? 0);
    const btcBefore = simBalance('BTC');
    const order = await c.call<Order>('orders.place', { brokerId, symbol: BTC, side: 'sell', type: 'limit', amount: '0.01', price: '61000' });
    expect(order.status).toBe('open');
    sim.series.setPrice(BTC, '61000');
    sim.tick();
    let [row] = (await c.call<Order[]>('orders.open', { brokerId })).filter((o) => o.id === order.id);
    expect(row).toMatchObject({ status: 'partially_filled', filled: '0.008', remaining: '0.002' }); // one tick + the matching on the sync's own request
    sim.tick();
    const open = await c.call<Order[]>('orders.open', { brokerId });
    expect(open.find((o) => o.id === order.id)).toBeUndefined();
    [row] = await journal({ clientOrderId: order.clientOrderId });
    expect(row).toMatchObject({ status: 'filled', filled: '0.01', averagePrice: '61000', cost: '610', fee: { cost: '0.61', currency: 'USDT' } });
    const fills = await c.call<MethodOutput<'orders.fills'>>('orders.fills', { orderId: order.id });
    expect(fills.map((f) => f.amount)).toEqual(['0.004', '0.004', '0.002']);
    expect(fills.every((f) => f.takerOrMaker === 'maker')).toBe(true);
    // position: the 0.01 sold leaves the books exactly as the simulator's
    const [pos] = (await c.call<Position[]>('positions.list', { brokerId })).filter((p) => p.symbol === BTC);
    expect(new Decimal(pos!.quantity).minus(qtyBefore).toFixed()).toBe('-0.01');
    expect(simBalance('BTC').minus(btcBefore).toFixed()).toBe('-0.01');
    expect(new Decimal(pos!.realisedPnl).gt(0)).toBe(true); // bought at 60000, sold at 61000 minus fees
  });

  it('shows orders placed outside the app (source external)', async () => {
    const ex = new ccxt.binance({ apiKey: KEY, secret: SECRET, enableRateLimit: false });
    pointExchangeAt(ex, sim.url);
    const o = await ex.createOrder('ETH/USDT', 'limit', 'buy', 0.1, 2000);
    const open = await c.call<Order[]>('orders.open', { brokerId });
    const ext = open.find((x) => x.exchangeOrderId === o.id);
    expect(ext).toMatchObject({ source: 'external', symbol: 'ETH/USDT', side: 'buy', type: 'limit', amount: '0.1', price: '2000', status: 'open' });
    await ex.cancelOrder(o.id!, 'ETH/USDT');
    expect((await c.call<Order[]>('orders.open', { brokerId })).find((x) => x.exchangeOrderId === o.id)).toBeUndefined();
    const [row] = await journal({ source: 'external' });
    expect(row).toMatchObject({ exchangeOrderId: o.id, status: 'cancelled' });
  });
});

describe('fault cases', () => {
  it('the create request times out after the simulator accepted the order: exactly one order, the journal matches it', async () => {
    const posts = orderPosts().length;
    sim.hangNextOrder(4000); // longer than the 1.5 s request timeout
    const order = await c.call<Order>('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.002', price: '54000' });
    expect(orderPosts().length).toBe(posts + 1); // never sent again
    const mine = simOrder(order.clientOrderId);
    expect(mine).toHaveLength(1);
    expect(order).toMatchObject({ status: 'open', exchangeOrderId: String(mine[0]!.orderId), amount: '0.002', price: '54000' });
    const lookups = sim.requestLog.filter((r) => r.method === 'GET' && r.path === '/api/v3/order' && r.params.origClientOrderId === order.clientOrderId);
    expect(lookups.length).toBeGreaterThanOrEqual(1);
    expect(t.logText()).toContain('order found by client order id after a lost answer');
    await c.call('orders.cancel', { orderId: order.id });
  });

  it('a 429 on create is not resent: looked up by client order id, journaled as refused', async () => {
    const posts = orderPosts().length;
    const ordersBefore = sim.orders(KEY).length;
    sim.failNext('/api/v3/order', { status: 429, code: -1003, msg: 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE.', method: 'POST' });
    const e = await err(c.call('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.002', price: '54000' }));
    expect(e?.code).toBe('exchange_rate_limit');
    expect(e?.message).toMatch(/rate-limiting.*The order was not placed \(not found at the exchange by its client order id\); it was not sent again\./);
    const row = e!.details.order!;
    expect(row).toMatchObject({ status: 'rejected', errorCode: 'exchange_rate_limit', exchangeOrderId: null });
    expect(orderPosts().length).toBe(posts + 1);
    expect(sim.orders(KEY).length).toBe(ordersBefore);
    expect(sim.requestLog.some((r) => r.method === 'GET' && r.path === '/api/v3/order' && r.params.origClientOrderId === row.clientOrderId)).toBe(true);
  });

  it('an answer that leaves the outcome open (-1007) is never resent: the order stays unknown until found or provably absent', async () => {
    const posts = orderPosts().length;
    sim.failNext('/api/v3/order', { status: 408, code: -1007, msg: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.', method: 'POST' });
    const e = await err(c.call('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.002', price: '54000' }));
    expect(e?.code).toBe('exchange_network');
    expect(e?.message).toMatch(/Whether the order was placed is not known yet: it is not found at the exchange by its client order id a3m[0-9a-f]{24} so far\. It will not be sent again/);
    const row = e!.details.order!;
    expect(row).toMatchObject({ status: 'unknown', errorCode: 'exchange_network' });
    // the background reconciliation looks again, still within Binance's recvWindow: unknown, nothing sent
    await t.host.services!.orders.reconcile();
    const [again] = await journal({ clientOrderId: row.clientOrderId });
    expect(again?.status).toBe('unknown');
    expect(orderPosts().length).toBe(posts + 1);
    expect(simOrder(row.clientOrderId)).toEqual([]);
    // Cancel and Modify refuse an order whose outcome is not known
    expect(await err(c.call('orders.cancel', { orderId: row.id }))).toMatchObject({ code: 'conflict' });
    // it is listed with the open orders, marked as being checked
    expect((await c.call<Order[]>('orders.open', { brokerId })).find((o) => o.id === row.id)?.status).toBe('unknown');
  });

  it('an exchange refusal is journaled with the exchange’s code and message', async () => {
    sim.failNext('/api/v3/order', { status: 400, code: -2010, msg: 'Account has insufficient balance for requested action.', method: 'POST' });
    const e = await err(c.call('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.002', price: '54000' }));
    expect(e?.code).toBe('insufficient_funds');
    expect(e?.details.order).toMatchObject({ status: 'rejected', errorCode: 'insufficient_funds' });
    expect(e?.details.order?.errorMessage).toContain('code -2010: Account has insufficient balance for requested action.');
  });

  it('a 429 on a read is honoured: waits the Retry-After, then one more try succeeds', async () => {
    // Put the simulator’s clock 2.5 s before the end of its weight window, and spend the window.
    const now = Date.now();
    clockOffset = (60_000 - 2_500 - (now % 60_000) + 60_000) % 60_000;
    try {
      // One request in this window first: a limit of 0 (nothing used yet) would refuse the retry too.
      await c.call('tickers.get', { brokerId, symbol: BTC });
      expect(sim.usedWeight()).toBeGreaterThan(0);
      sim.setWeightLimit(sim.usedWeight());
      const before = sim.requestLog.length;
      const tk = await c.call<MethodOutput<'tickers.get'>>('tickers.get', { brokerId, symbol: 'ETH/USDT' });
      expect(tk.symbol).toBe('ETH/USDT');
      const calls = sim.requestLog.slice(before).filter((r) => r.path === '/api/v3/ticker/24hr');
      expect(calls.map((r) => r.status)).toEqual([429, 200]);
      // the retry waited for the window the Retry-After named
      expect(Math.floor(calls[1]!.time / 60_000)).toBeGreaterThan(Math.floor(calls[0]!.time / 60_000));
    } finally {
      sim.setWeightLimit(6000);
      clockOffset = 0;
    }
  });
});
