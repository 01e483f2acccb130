import type { Exchange } from 'ccxt';
import Decimal from 'decimal.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError, isAppError } from '../shared/errors';
import { translate } from '../shared/i18n';
import { TestnetMode } from '../electron/exchanges/brokers';
import { ExchangeGateway, type Credentials } from '../electron/exchanges/gateway';
import { pointExchangeAt } from '../electron/exchanges/urls';
import { silentLogger } from '../electron/log';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { getOrder, type OrderRow } from '../electron/trading/journal';
import { TradingReads } from '../electron/trading/portfolio';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * The order service's safety rules, driven directly against the Binance simulator: live and testnet
 * orders never mix up, nothing is left 'sent' without a request, outcomes that are not known are
 * never reported as refusals (nor turned into 'rejected' on mere absence), a client order id's
 * refused attempt stays refused, shutdown waits for orders in flight, and the reconciliation is not
 * starved by rows it cannot ask about.
 */

const BTC = 'BTC/USDT';
const ETH = 'ETH/USDT';
const INTERNAL_ERROR = { status: 500, code: -1001, msg: 'Internal error; unable to process your request. Please try again.' };
const EXECUTION_UNKNOWN = { status: 408, code: -1007, msg: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.' };

/** A gateway whose live instances talk to one simulator and whose testnet (sandbox) instances to another. */
class TwoExchanges extends ExchangeGateway {
  constructor(private readonly urls: { live: string; testnet: string }) {
    super({ log: silentLogger(), timeoutMs: 1500, env: {} });
  }
  override create(id: string, credentials: Credentials, sandbox: boolean): Exchange {
    const ex = super.create(id, credentials, sandbox);
    pointExchangeAt(ex, sandbox ? this.urls.testnet : this.urls.live);
    return ex;
  }
}

let sim: ExchangeSim;
let testnetSim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let creds: { apiKey: string; secret: string };

beforeAll(async () => {
  // ETH/USDT with an 8-decimal step and huge maximums: amounts of 17 significant digits pass its filters.
  const markets = [{ symbol: BTC }, { symbol: ETH, stepSize: '0.00000001', minQty: '0.00000001', maxQty: '1000000000', maxNotional: '100000000' }];
  sim = await startExchangeSim({ markets });
  testnetSim = await startExchangeSim({ markets });
  tdb = await createTestDb();
}, 60_000);
afterAll(async () => {
  await tdb?.close();
  await sim?.close();
  await testnetSim?.close();
});
beforeEach(async () => {
  creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '100000000', BTC: '1' } });
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, creds, { timeoutMs: 1500 });
});

const rows = (): Promise<OrderRow[]> => tr.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders ORDER BY created_at')).rows);
const row = (id: string, t: DirectTrading = tr): Promise<OrderRow> => t.db.withProfile(t.profileId, async (c) => (await getOrder(c, id))!);
const failure = (p: Promise<unknown>): Promise<AppError> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => {
      if (!isAppError(e)) throw e;
      return e;
    },
  );
const orderOf = (e: AppError) => (e.details as { order?: { id: string; status: string; clientOrderId: string; errorCode: string | null } }).order;
const posts = (s: ExchangeSim = sim) => s.requestLog.filter((r) => r.method === 'POST' && r.path.startsWith('/api/v3/order')).length;
const lookupsById = (s: ExchangeSim, clientOrderId: string) => s.requestLog.filter((r) => r.method === 'GET' && r.path === '/api/v3/order' && r.params.origClientOrderId === clientOrderId);

describe('live and testnet orders are kept apart', () => {
  let two: DirectTrading;
  const testnet = () => new TestnetMode(tdb.db);

  beforeEach(async () => {
    testnetSim.addAccount({ ...creds, balances: { USDT: '1000000', BTC: '1' } });
    testnetSim.series.setPrice(BTC, '60000');
    two = await directTrading(tdb.db, '', creds, { gateway: new TwoExchanges({ live: sim.url, testnet: testnetSim.url }) });
  });
  afterEach(() => testnet().set(two.profileId, false));

  it('a live order left unknown is reconciled, modified and cancelled live after the testnet switch is turned on', async () => {
    const orders = two.service({ lookupDelaysMs: [0] });
    // Placed live; the answer is lost (the request times out) and the lookup fails too: unknown.
    sim.hangNextOrder(3000);
    sim.failNext('/api/v3/order', { ...INTERNAL_ERROR, method: 'GET' });
    const lost = await failure(orders.place(two.profileId, { brokerId: two.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy' }));
    const pending = orderOf(lost)!;
    expect(pending.status).toBe('unknown');
    const live = sim.orders(creds.apiKey).filter((o) => o.clientOrderId === pending.clientOrderId);
    expect(live).toMatchObject([{ status: 'NEW' }]); // it did reach the live exchange
    expect(await row(pending.id, two)).toMatchObject({ sandbox: false });

    await testnet().set(two.profileId, true);
    // Not found on the testnet would prove nothing: it is looked up where it was placed.
    const restarted = two.service({ neverArrivedAfterMs: 0 });
    expect(await restarted.reconcile(two.profileId)).toEqual({ checked: 1, resolved: 1 });
    const found = await row(pending.id, two);
    expect(found).toMatchObject({ status: 'open', exchange_order_id: String(live[0]!.orderId), sandbox: false });
    expect(lookupsById(testnetSim, pending.clientOrderId)).toEqual([]);
    expect(lookupsById(sim, pending.clientOrderId).length).toBeGreaterThanOrEqual(2);

    // The page (testnet now) neither lists it nor touches it when syncing the testnet account.
    await restarted.sync(two.profileId, two.brokerId, { full: true });
    expect((await restarted.open(two.profileId, two.brokerId)).map((r) => r.id)).toEqual([]);
    expect(await row(pending.id, two)).toMatchObject({ status: 'open', sandbox: false });

    // Modify and cancel go to the live exchange too.
    const m = await restarted.modify(two.profileId, { orderId: pending.id, price: '54000' });
    expect(m.order).toMatchObject({ status: 'open', sandbox: false, replaces_order_id: pending.id });
    expect(m.order.price!.toFixed()).toBe('54000');
    expect(sim.orders(creds.apiKey).map((o) => [o.clientOrderId, o.status])).toEqual([
      [pending.clientOrderId, 'CANCELED'],
      [m.order.client_order_id, 'NEW'],
    ]);
    const cancelled = await restarted.cancel(two.profileId, m.order.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', sandbox: false });
    expect(sim.orders(creds.apiKey).map((o) => o.status)).toEqual(['CANCELED', 'CANCELED']);
    expect(testnetSim.orders(creds.apiKey)).toEqual([]);
    expect(testnetSim.requestLog.filter((r) => r.path.startsWith('/api/v3/order'))).toEqual([]);
  });

  it('a client order id is one attempt per mode; positions show the current mode only', async () => {
    const orders = two.service();
    const reads = new TradingReads({ db: tdb.db, brokers: two.brokers, gateway: two.gateway, log: two.log });
    const liveBuy = await orders.place(two.profileId, { brokerId: two.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.01', source: 'webhook', clientOrderId: 'hook-mode-1' });
    expect(liveBuy).toMatchObject({ status: 'filled', sandbox: false });

    await testnet().set(two.profileId, true);
    // The same id on the testnet is another attempt, on the other account.
    const testBuy = await orders.place(two.profileId, { brokerId: two.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.02', source: 'webhook', clientOrderId: 'hook-mode-1' });
    expect(testBuy.id).not.toBe(liveBuy.id);
    expect(testBuy).toMatchObject({ status: 'filled', sandbox: true });
    expect(testnetSim.orders(creds.apiKey)).toMatchObject([{ clientOrderId: 'hook-mode-1', executedQty: '0.02000000' }]);
    expect(sim.orders(creds.apiKey)).toMatchObject([{ clientOrderId: 'hook-mode-1', executedQty: '0.01000000' }]);
    // …and again in the same mode answers that attempt
    expect((await orders.place(two.profileId, { brokerId: two.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.02', source: 'webhook', clientOrderId: 'hook-mode-1' })).id).toBe(testBuy.id);

    // Fees come out of the BTC bought (0.1 %): the testnet position is 0.02 − fee, the live one 0.01 − fee.
    const shown = async () => (await reads.positions(two.profileId, two.brokerId)).map((p) => [p.symbol, p.sandbox, p.quantity.toFixed()]);
    expect(await shown()).toEqual([[BTC, true, '0.01998']]);
    await testnet().set(two.profileId, false);
    expect(await shown()).toEqual([[BTC, false, '0.00999']]);
    // the fills belong to their own mode as well
    const fills = await tdb.db.withProfile(two.profileId, async (c) => (await c.query<{ sandbox: boolean; amount: Decimal }>('SELECT sandbox, amount FROM order_fills ORDER BY created_at')).rows);
    expect(fills.map((f) => [f.sandbox, f.amount.toFixed()])).toEqual([
      [false, '0.01'],
      [true, '0.02'],
    ]);
  });
});

describe('nothing is marked sent that cannot be sent', () => {
  it('an amount with more than 15 significant digits is refused before the intent is journaled', async () => {
    const orders = tr.service();
    const before = posts();
    // 987654321.98765432 is on the step, but as a JavaScript number it is 987654321.9876543.
    const e = await failure(orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: ETH, side: 'buy', type: 'limit', amount: '987654321.98765432', price: '0.01', source: 'strategy' }));
    expect(e.code).toBe('invalid_order');
    expect(e.message).toBe('Amount 987654321.98765432 has more significant digits than can be sent exactly (at most 15)');
    expect((e.details as { problems: { code: string }[] }).problems.map((p) => p.code)).toEqual(['amount_not_representable']);
    expect(orderOf(e)).toMatchObject({ status: 'rejected', errorCode: 'invalid_order' });
    expect((await rows()).map((r) => r.status)).toEqual(['rejected']);
    expect(posts()).toBe(before);
    // the ticket's validation says so too
    const v = await orders.validate(tr.profileId, { brokerId: tr.brokerId, symbol: ETH, side: 'buy', type: 'limit', amount: '987654321.98765432', price: '0.01' }, { quick: true });
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.code)).toEqual(['amount_not_representable']);
  });
});

describe('an outcome that is not known is never reported or journaled as a refusal', () => {
  it('an HTTP 5xx on create (an ExchangeError body) leaves the order unknown and looks it up', async () => {
    const orders = tr.service({ lookupDelaysMs: [0] });
    sim.failNext('/api/v3/order', { ...INTERNAL_ERROR, method: 'POST' });
    const e = await failure(orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy' }));
    expect(e.code).toBe('exchange_error');
    expect(e.message).toMatch(/^binance failed with a server error \(HTTP 500, code -1001: Internal error; unable to process your request\. Please try again\); whether the request took effect is unknown\. Whether the order was placed is not known yet/);
    expect(e.details).toMatchObject({ httpStatus: 500, retryable: true });
    const o = orderOf(e)!;
    expect(o.status).toBe('unknown');
    expect(lookupsById(sim, o.clientOrderId)).toHaveLength(1);
    expect(await row(o.id)).toMatchObject({ status: 'unknown' });
  });

  it('cancel-and-replace whose replacement answer is lost says so, not "refused"', async () => {
    const orders = tr.service({ lookupDelaysMs: [0] });
    const { ex } = await tr.brokers.exchangeFor(tr.profileId, tr.brokerId);
    ex.has.editOrder = false;
    try {
      const first = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy' });
      sim.failNext('/api/v3/order', { ...EXECUTION_UNKNOWN, method: 'POST' });
      const e = await failure(orders.modify(tr.profileId, { orderId: first.id, price: '54000' }));
      expect(e.code).toBe('exchange_network');
      expect(e.message).toMatch(/^The order was cancelled; whether its replacement was placed is not known yet \(unknown\), and it is being checked: /);
      expect(e.message).not.toMatch(/refused/);
      expect(orderOf(e)).toMatchObject({ status: 'unknown' });
      expect(await row(first.id)).toMatchObject({ status: 'cancelled' });
      expect(await row(orderOf(e)!.id)).toMatchObject({ status: 'unknown', replaces_order_id: first.id });
    } finally {
      ex.has.editOrder = true;
    }
  });
});

describe('where a lookup by client order id is not trusted', () => {
  it('not finding the order in the open and recent orders leaves it unknown, never rejected', async () => {
    const untrusted = { clientIdLookup: [] as string[], neverArrivedAfterMs: 0 };
    // The app stops between marking the order sent and sending it: nothing reaches the exchange.
    const crashing = tr.service({
      hooks: {
        beforeSend: () => {
          throw new Error('stopped before sending');
        },
      },
    });
    await expect(crashing.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy' })).rejects.toThrow('stopped before sending');
    const [sent] = await rows();
    expect(sent).toMatchObject({ status: 'sent' });

    expect(await tr.service(untrusted).reconcile(tr.profileId)).toEqual({ checked: 1, resolved: 0 });
    const after = await row(sent!.id);
    expect(after.status).toBe('unknown');
    expect(after.error_message).toMatch(/not among the exchange's open and recent orders/);
    expect(lookupsById(sim, sent!.client_order_id)).toEqual([]); // never asked by client order id
    expect(sim.requestLog.some((r) => r.path === '/api/v3/openOrders' && r.params.symbol === 'BTCUSDT')).toBe(true);
    expect(sim.requestLog.some((r) => r.path === '/api/v3/allOrders' && r.params.symbol === 'BTCUSDT')).toBe(true);
    // Again later: still not proof of anything.
    await tr.service(untrusted).reconcile(tr.profileId);
    expect(await row(sent!.id)).toMatchObject({ status: 'unknown' });

    // Binance's own "no order with this client order id", after its recvWindow, is.
    expect(await tr.service({ neverArrivedAfterMs: 0 }).reconcile(tr.profileId)).toEqual({ checked: 1, resolved: 1 });
    expect(await row(sent!.id)).toMatchObject({ status: 'rejected', error_code: 'not_sent' });
  });

  it('a lost answer is found among the open orders', async () => {
    const orders = tr.service({ clientIdLookup: [], lookupDelaysMs: [0] });
    const before = posts();
    sim.hangNextOrder(3000);
    const placed = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy' });
    const [s] = sim.orders(creds.apiKey);
    expect(placed).toMatchObject({ status: 'open', exchange_order_id: String(s!.orderId) });
    expect(posts()).toBe(before + 1);
    expect(lookupsById(sim, placed.client_order_id)).toEqual([]);
  });
});

describe('a client order id names one attempt', () => {
  it('its refused attempt is answered as the refusal, not as a success', async () => {
    const orders = tr.service();
    const poor = { brokerId: tr.brokerId, symbol: BTC, side: 'sell' as const, type: 'limit' as const, amount: '2', price: '61000', source: 'webhook' as const, clientOrderId: 'alert-9' };
    const first = await failure(orders.place(tr.profileId, poor));
    expect(first.code).toBe('insufficient_funds');
    const before = posts();
    const again = await failure(orders.place(tr.profileId, poor));
    expect(again.code).toBe('insufficient_funds');
    expect(again.message).toMatch(/^The order with client order id alert-9 was refused, and is not sent again: Not enough BTC/);
    expect(orderOf(again)).toMatchObject({ id: orderOf(first)!.id, status: 'rejected', clientOrderId: 'alert-9' });
    expect(posts()).toBe(before);
    expect(await rows()).toHaveLength(1);
  });

  it('a failure to read the ticker is not bound to the caller’s id: the retry places the order', async () => {
    const orders = tr.service();
    sim.failNext('/api/v3/ticker/24hr', INTERNAL_ERROR);
    const e = await failure(orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.001', source: 'webhook', clientOrderId: 'alert-10' }));
    expect(e.code).toBe('exchange_error');
    expect(orderOf(e)).toBeUndefined();
    expect(await rows()).toEqual([]); // nothing journaled under alert-10
    const placed = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.001', source: 'webhook', clientOrderId: 'alert-10' });
    expect(placed).toMatchObject({ status: 'filled', client_order_id: 'alert-10' });
    expect(sim.orders(creds.apiKey).filter((o) => o.clientOrderId === 'alert-10')).toHaveLength(1);
  });
});

describe('shutting down', () => {
  it('stop waits for an order being placed to be settled, then refuses new operations', async () => {
    let sending!: () => void;
    const sendingNow = new Promise<void>((r) => (sending = r));
    const orders = tr.service({ hooks: { beforeSend: () => sending() } });
    sim.hangNextOrder(800); // answered well within the 1.5 s timeout
    const placing = orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy' });
    await sendingNow;
    await orders.stop();
    const [r] = await rows();
    expect(r).toMatchObject({ status: 'open' }); // settled before stop returned (the pool closes after it)
    expect((await placing).id).toBe(r!.id);

    const posted = posts();
    const refused = await failure(orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy', clientOrderId: 'late-1' }));
    expect(refused).toMatchObject({ code: 'unavailable', message: 'Aristobot is shutting down: the order was not placed. Try again once it has restarted.' });
    // the operation is a key too: the whole refusal reads in French
    expect(translate('fr', refused.key, refused.params)).toBe("Aristobot s'arrête : l'ordre n'a pas été passé. Réessayez une fois l'application redémarrée.");
    expect(await failure(orders.cancel(tr.profileId, r!.id))).toMatchObject({ code: 'unavailable' });
    expect(await failure(orders.modify(tr.profileId, { orderId: r!.id, price: '54000' }))).toMatchObject({ code: 'unavailable' });
    expect(await failure(orders.sync(tr.profileId, tr.brokerId))).toMatchObject({ code: 'unavailable' });
    expect(posts()).toBe(posted);
    expect(await rows()).toHaveLength(1);
    expect(sim.orders(creds.apiKey).map((o) => o.status)).toEqual(['NEW']);
  });

  it('stop gives up waiting after its bound; the order is left pending for the next start', async () => {
    let sending!: () => void;
    const sendingNow = new Promise<void>((r) => (sending = r));
    const orders = tr.service({ stopTimeoutMs: 100, lookupDelaysMs: [0], hooks: { beforeSend: () => sending() } });
    sim.hangNextOrder(3000);
    const placing = orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy' }).then(
      () => 'settled',
      () => 'settled',
    );
    await sendingNow;
    const first = await Promise.race([orders.stop().then(() => 'stopped'), placing]);
    expect(first).toBe('stopped');
    expect((await rows()).map((r) => r.status)).toEqual(['sent']);
    expect(await placing).toBe('settled');
  });
});

describe('reconciliation is not starved', () => {
  it('pending rows of deleted and inactive brokers do not hold back the others', async () => {
    const inactive = await tr.db.withProfile(tr.profileId, async (c) => (await c.query<{ id: string }>("INSERT INTO brokers (name, exchange, active, secret_ref) VALUES ('Old', 'binance', false, 'sec_x') RETURNING id", [])).rows[0]!.id);
    await tr.db.withProfile(tr.profileId, (c) =>
      c.query(
        `INSERT INTO orders (broker_id, exchange, source, symbol, side, type, client_order_id, status, created_at, sent_at)
         SELECT CASE WHEN g % 2 = 0 THEN NULL ELSE $1::uuid END, 'binance', 'strategy', 'BTC/USDT', 'buy', 'limit', 'old-' || g, 'sent', now() - interval '1 day', now() - interval '1 day'
           FROM generate_series(1, 150) g`,
        [inactive],
      ),
    );
    // One order of the active broker, sent but never arrived.
    const crashing = tr.service({
      hooks: {
        beforeSend: () => {
          throw new Error('stopped before sending');
        },
      },
    });
    await expect(crashing.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy' })).rejects.toThrow();
    const mine = (await rows()).find((r) => r.broker_id === tr.brokerId)!;

    expect(await tr.service({ neverArrivedAfterMs: 0 }).reconcile(tr.profileId)).toEqual({ checked: 1, resolved: 1 });
    expect(await row(mine.id)).toMatchObject({ status: 'rejected', error_code: 'not_sent' });
    // the rows nobody can ask about are left as they are
    expect((await rows()).filter((r) => r.id !== mine.id).every((r) => r.status === 'sent' && r.checked_at === null)).toBe(true);
  });
});
