import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../shared/errors';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import type { OrderRow } from '../electron/trading/journal';
import type { KnownState, OrderService, PlaceRequest } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim, type RequestLogEntry } from './sim/exchange/server';
import { startTestHost, type TestHost, type WsClient } from './support/host';
import { createTestDb, type TestDb } from './support/db';

/**
 * A trusted in-process caller's known price and free balance (`PlaceRequest.known`, the bot's):
 * the order service prepares a market order with them instead of reading the ticker and the
 * balance, and everything else is as without them. Real parts: the order service through CCXT on
 * the Binance REST simulator (its request log shows what was asked before the order left), the
 * bundled PostgreSQL. And the API cannot hand such a field over.
 */

const BTC = 'BTC/USDT';
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let orders: OrderService;
let creds: { apiKey: string; secret: string };

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
}, 60_000);
afterAll(async () => {
  await tdb?.close();
  await sim?.close();
});
beforeEach(async () => {
  creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000', BTC: '1' } });
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, creds);
  // a fresh service per test: no ticker in its cache
  orders = tr.service();
  // the markets are read once per broker, before any order (not what is looked at here)
  await tr.brokers.exchangeFor(tr.profileId, tr.brokerId);
});

const rows = (): Promise<OrderRow[]> => tr.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders ORDER BY created_at')).rows);
const isTicker = (r: RequestLogEntry) => r.path.startsWith('/api/v3/ticker');
const isAccount = (r: RequestLogEntry) => r.path === '/api/v3/account';
const isOrderPost = (r: RequestLogEntry) => r.method === 'POST' && r.path === '/api/v3/order';
const fresh = (value: string): KnownState['price'] => ({ value, observedAt: Date.now() - 2000 });

/** Places the order and answers the simulator's requests from the call on, up to (without) its POST /api/v3/order (all of them when none). */
async function placed(req: Omit<PlaceRequest, 'brokerId' | 'symbol' | 'source'>): Promise<{ row: OrderRow | null; error: unknown; before: RequestLogEntry[]; posts: number }> {
  const mark = sim.requestLog.length;
  let row: OrderRow | null = null;
  let error: unknown = null;
  try {
    row = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', ...req });
  } catch (e) {
    error = e;
  }
  const after = sim.requestLog.slice(mark);
  const post = after.findIndex(isOrderPost);
  return { row, error, before: post < 0 ? after : after.slice(0, post), posts: after.filter(isOrderPost).length };
}

describe('a market order with what the caller knows', () => {
  it('leaves with no ticker and no balance read, its amount computed at the given price', async () => {
    // the given price is not the exchange's (60000): the amount shows which one was used
    const r = await placed({ side: 'buy', type: 'market', cost: '1000', clientOrderId: 'hint-buy-1', known: { price: fresh('50000'), free: { asset: 'USDT', amount: '10000' } } });
    expect(r.error).toBeNull();
    expect(r.posts).toBe(1);
    expect(r.before.filter(isTicker)).toEqual([]);
    expect(r.before.filter(isAccount)).toEqual([]);
    expect(r.row).toMatchObject({ status: 'filled', client_order_id: 'hint-buy-1', source: 'strategy' });
    expect(r.row!.amount!.toFixed()).toBe('0.02'); // 1000 / 50000
    expect(r.row!.requested_cost!.toFixed()).toBe('1000');
    const sent = sim.requestLog.find((x) => isOrderPost(x) && x.params['newClientOrderId'] === 'hint-buy-1');
    expect(sent?.params['quantity']).toBe('0.02');
    expect(sim.orders(creds.apiKey).map((o) => [o.clientOrderId, o.status, o.executedQty])).toEqual([['hint-buy-1', 'FILLED', '0.02000000']]);

    // a sell with the base balance: the same, the price only checks the market's limits
    const s = await placed({ side: 'sell', type: 'market', amount: '0.01', clientOrderId: 'hint-sell-1', known: { price: fresh('59000'), free: { asset: 'BTC', amount: '1.02' } } });
    expect(s.error).toBeNull();
    expect(s.posts).toBe(1);
    expect(s.before.filter((x) => isTicker(x) || isAccount(x))).toEqual([]);
    expect(s.row).toMatchObject({ status: 'filled', side: 'sell' });

    // the same client order id again: the journaled attempt, nothing sent
    const again = await placed({ side: 'buy', type: 'market', cost: '1000', clientOrderId: 'hint-buy-1', known: { price: fresh('50000'), free: { asset: 'USDT', amount: '10000' } } });
    expect(again.row?.id).toBe(r.row!.id);
    expect(again.posts).toBe(0);
    expect((await rows()).length).toBe(2);
  });

  it('reads the ticker when the given price is older than the limit (the balance given still stands)', async () => {
    const r = await placed({ side: 'buy', type: 'market', cost: '1000', clientOrderId: 'hint-stale-1', known: { price: { value: '50000', observedAt: Date.now() - 61_000 }, free: { asset: 'USDT', amount: '10000' } } });
    expect(r.error).toBeNull();
    expect(r.before.filter(isTicker).length).toBe(1);
    expect(r.before.filter(isAccount)).toEqual([]);
    // 1000 / 60000 rounded down to the market's step (0.00001)
    expect(r.row!.amount!.toFixed()).toBe('0.01666');

    // a limit of its own (a stricter one), and a price from the future: the ticker too
    const strict = tr.service({ knownPriceMaxAgeMs: 1000 });
    const mark = sim.requestLog.length;
    const o = await strict.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', side: 'buy', type: 'market', cost: '1000', known: { price: fresh('50000') } });
    expect(o.amount!.toFixed()).toBe('0.01666');
    const future = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', side: 'buy', type: 'market', cost: '1000', known: { price: { value: '50000', observedAt: Date.now() + 60_000 } } });
    expect(future.amount!.toFixed()).toBe('0.01666');
    // no balance given: read from the exchange, as without it
    expect(sim.requestLog.slice(mark).filter(isAccount).length).toBe(2);
  });

  it('refuses against a given balance too small: journaled insufficient_funds with the insufficient_balance problem, nothing sent', async () => {
    // the account holds 10000 USDT: the refusal is the given balance's
    const r = await placed({ side: 'buy', type: 'market', cost: '1000', clientOrderId: 'hint-poor-1', known: { price: fresh('50000'), free: { asset: 'USDT', amount: '500' } } });
    expect(r.posts).toBe(0);
    expect(r.before.filter((x) => isTicker(x) || isAccount(x))).toEqual([]);
    expect(isAppError(r.error) && r.error.code).toBe('insufficient_funds');
    const problems = (r.error as { details: { problems: unknown[] } }).details.problems;
    expect(problems).toEqual([
      { field: 'cost', code: 'insufficient_balance', key: 'coreTrading.problem.insufficientBalance', params: { asset: 'USDT', required: '1000', free: '500' }, message: 'Not enough USDT: the order needs 1000 USDT, 500 USDT is available' },
    ]);
    const [row] = await rows();
    expect(row).toMatchObject({ status: 'rejected', error_code: 'insufficient_funds', client_order_id: 'hint-poor-1', sent_at: null });
    expect(row!.error_message).toMatch(/Not enough USDT: the order needs 1000 USDT, 500 USDT is available/);
    expect(sim.orders(creds.apiKey)).toEqual([]);

    // journaled the same way as a refusal after reading the exchange's balance
    const read = await placed({ side: 'sell', type: 'market', amount: '2', clientOrderId: 'read-poor-1' });
    expect(read.before.filter(isAccount).length).toBe(1);
    expect(isAppError(read.error) && read.error.code).toBe('insufficient_funds');
    const byRead = (await rows()).find((x) => x.client_order_id === 'read-poor-1')!;
    expect([byRead.status, byRead.error_code, byRead.error_key]).toEqual([row!.status, row!.error_code, row!.error_key]);
    expect(sim.orders(creds.apiKey)).toEqual([]);
  });

  it('without what the caller knows, or for a limit order, or with the balance of another asset: reads as before', async () => {
    const plain = await placed({ side: 'buy', type: 'market', cost: '1000', clientOrderId: 'plain-1' });
    expect(plain.before.filter(isTicker).length).toBe(1);
    expect(plain.before.filter(isAccount).length).toBe(1);
    expect(plain.row!.amount!.toFixed()).toBe('0.01666');

    // a limit order ignores both: its price is the reference, the balance is the exchange's
    const limit = await placed({ side: 'buy', type: 'limit', amount: '0.01', price: '55000', clientOrderId: 'limit-1', known: { price: fresh('1'), free: { asset: 'USDT', amount: '1' } } });
    expect(limit.error).toBeNull();
    expect(limit.before.filter(isAccount).length).toBe(1);
    expect(limit.row).toMatchObject({ status: 'open', type: 'limit' });
    expect(limit.row!.price!.toFixed()).toBe('55000');

    // a balance of the asset the order does not spend: the exchange's is read
    const other = await placed({ side: 'buy', type: 'market', cost: '100', clientOrderId: 'other-1', known: { price: fresh('50000'), free: { asset: 'BTC', amount: '0' } } });
    expect(other.error).toBeNull();
    expect(other.before.filter(isTicker)).toEqual([]);
    expect(other.before.filter(isAccount).length).toBe(1);
    expect(other.row!.status).toBe('filled');
  });
});

describe("a caller's record to be committed first (`after`, the bot's decision)", () => {
  const gate = () => {
    let open!: (v: boolean) => void;
    let fail!: (e: unknown) => void;
    const p = new Promise<boolean>((res, rej) => {
      open = res;
      fail = rej;
    });
    return { p, open, fail };
  };
  const known = (): KnownState => ({ price: fresh('60000'), free: { asset: 'USDT', amount: '10000' } });
  const settled = (p: Promise<unknown>) => p.then(() => 'done', () => 'done');
  const tick = () => new Promise((r) => setTimeout(r, 300));

  it('the order is prepared while the record is written; nothing is journaled or sent before it is committed', async () => {
    const g = gate();
    const mark = sim.requestLog.length;
    const p = orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', side: 'buy', type: 'market', cost: '1000', clientOrderId: 'after-ok-1', known: known(), after: g.p });
    const state = settled(p);
    await tick();
    // waiting for the record: no journal row, nothing at the exchange
    expect(await Promise.race([state, Promise.resolve('waiting')])).toBe('waiting');
    expect(await rows()).toEqual([]);
    expect(sim.requestLog.slice(mark).filter(isOrderPost)).toEqual([]);
    g.open(true);
    const row = await p;
    expect(row).toMatchObject({ status: 'filled', client_order_id: 'after-ok-1' });
    expect(sim.orders(creds.apiKey).map((o) => o.clientOrderId)).toEqual(['after-ok-1']);
  });

  it('withdrawn (that decision was made before) or the record failed: conflict or its error, nothing journaled or sent', async () => {
    const mark = sim.requestLog.length;
    const g = gate();
    const p = orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', side: 'buy', type: 'market', cost: '1000', clientOrderId: 'after-no-1', known: known(), after: g.p });
    g.open(false);
    const e = await p.then(() => null, (x: unknown) => x);
    expect(isAppError(e) && [e.code, e.key]).toEqual(['conflict', 'errors.trading.withdrawn']);
    expect((e as Error).message).toMatch(/after-no-1 was withdrawn by its caller/);

    const f = gate();
    const q = orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', side: 'buy', type: 'market', cost: '1000', clientOrderId: 'after-err-1', known: known(), after: f.p });
    f.fail(new Error('the decisions journal could not be written'));
    await expect(q).rejects.toThrow('the decisions journal could not be written');

    // a refusal (too small a balance) is not journaled either before the record is committed
    const r = gate();
    const poor = orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', side: 'buy', type: 'market', cost: '1000', clientOrderId: 'after-poor-1', known: { price: fresh('60000'), free: { asset: 'USDT', amount: '1' } }, after: r.p });
    r.open(false);
    await expect(poor).rejects.toMatchObject({ code: 'conflict' });

    expect(await rows()).toEqual([]);
    expect(sim.requestLog.slice(mark).filter(isOrderPost)).toEqual([]);
    expect(sim.orders(creds.apiKey)).toEqual([]);
    // the ids stay free: the same order with its record committed is placed
    expect(await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', side: 'buy', type: 'market', cost: '1000', clientOrderId: 'after-no-1', known: known(), after: Promise.resolve(true) })).toMatchObject({ status: 'filled' });
  });

  it('an id journaled before is answered only once the record is committed, and not at all when withdrawn', async () => {
    const first = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', side: 'buy', type: 'market', cost: '1000', clientOrderId: 'after-dup-1', known: known() });
    const g = gate();
    const again = orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', side: 'buy', type: 'market', cost: '1000', clientOrderId: 'after-dup-1', known: known(), after: g.p });
    g.open(false);
    await expect(again).rejects.toMatchObject({ code: 'conflict', key: 'errors.trading.withdrawn' });
    const h = gate();
    const answered = orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', side: 'buy', type: 'market', cost: '1000', clientOrderId: 'after-dup-1', known: known(), after: h.p });
    h.open(true);
    expect((await answered).id).toBe(first.id);
    expect(sim.orders(creds.apiKey).length).toBe(1);
  });
});

describe('the API cannot hand over what a caller knows', () => {
  const KEY = 'HintsTestKey00000000000000000000000000000000000000000000000000001';
  const SECRET = 'HintsTestSecret0000000000000000000000000000000000000000000000001';
  let t: TestHost;
  let c: WsClient;
  let brokerId: string;

  beforeAll(async () => {
    sim.addAccount({ apiKey: KEY, secret: SECRET, balances: { USDT: '10000', BTC: '1' } });
    process.env.ARISTOBOT_EXCHANGE_URL_binance = sim.url;
    t = await startTestHost();
    c = await t.client();
    await c.call('profiles.create', { name: 'Trader', password: 'pw-12345' });
    await c.call('profiles.login', { name: 'Trader', password: 'pw-12345' });
    brokerId = (await c.call<{ id: string }>('brokers.create', { name: 'Sim', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } })).id;
  }, 60_000);
  afterAll(async () => {
    c?.close();
    await t?.close();
    delete process.env.ARISTOBOT_EXCHANGE_URL_binance;
  });

  it('orders.place and orders.validate carrying `known` are refused with invalid_input; nothing journaled or sent', async () => {
    sim.series.setPrice(BTC, '60000');
    const mark = sim.requestLog.length;
    const known = { price: { value: '1', observedAt: Date.now() }, free: { asset: 'USDT', amount: '1000000' } };
    const place = await c.request('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'market', cost: '1000', clientOrderId: 'api-known-1', known });
    expect(place.error?.code).toBe('invalid_input');
    expect(place.error?.message).toMatch(/known/);
    const validate = await c.request('orders.validate', { brokerId, symbol: BTC, side: 'buy', type: 'market', cost: '1000', known });
    expect(validate.error?.code).toBe('invalid_input');
    expect(sim.requestLog.slice(mark).filter(isOrderPost)).toEqual([]);
    expect(await c.call<unknown[]>('orders.journal', {})).toEqual([]);

    // the same order without it: prepared from the exchange's ticker and balance, as always
    const ok = await c.call<{ amount: string; clientOrderId: string }>('orders.place', { brokerId, symbol: BTC, side: 'buy', type: 'market', cost: '1000', clientOrderId: 'api-known-1' });
    expect(ok).toMatchObject({ amount: '0.01666', clientOrderId: 'api-known-1' });
    const asked = sim.requestLog.slice(mark);
    expect(asked.filter(isTicker).length).toBeGreaterThan(0);
    expect(asked.filter(isAccount).length).toBeGreaterThan(0);
  });
});
