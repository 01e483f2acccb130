import Decimal from 'decimal.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError, isAppError } from '../shared/errors';
import type { ExchangeGateway } from '../electron/exchanges/gateway';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { getOrder, recordFills, toOrderDto, type OrderRow } from '../electron/trading/journal';
import type { ParsedTrade } from '../electron/trading/ccxt-io';
import type { OrderService } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { asOwner, createTestDb, type TestDb } from './support/db';

/**
 * Money-moving defects found before automation (issue 8, items 7–11), each driven against the
 * Binance simulator through CCXT: modify sizes the new order from the exchange's fill count at the
 * moment of the change, cancel-and-replace validates before cancelling, concurrent fills on one
 * symbol never lose a position update, status transitions are conditional (a reconcile racing a
 * placement, two concurrent modifies), and history and fees follow the exchange.
 */

const BTC = 'BTC/USDT';
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let orders: OrderService;
/** The simulator's clock runs ahead of the real one by this much (ms). */
let clockOffset = 0;

beforeAll(async () => {
  sim = await startExchangeSim({ now: () => Date.now() + clockOffset });
  tdb = await createTestDb();
}, 60_000);
afterAll(async () => {
  await tdb?.close();
  await sim?.close();
});
beforeEach(async () => {
  clockOffset = 0;
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '100000', BTC: '1' } });
  sim.series.setPrice(BTC, '60000');
  sim.setMaxFillPerTick(null);
  sim.setRepeatedCancels(false);
  tr = await directTrading(tdb.db, sim.url, creds);
  orders = tr.service({ lookupDelaysMs: [0] });
  const { ex } = await tr.brokers.exchangeFor(tr.profileId, tr.brokerId);
  ex.has.editOrder = true;
});

const row = (id: string): Promise<OrderRow> => tr.db.withProfile(tr.profileId, async (c) => (await getOrder(c, id))!);
const rows = (): Promise<OrderRow[]> => tr.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders ORDER BY created_at')).rows);
const simOrders = () => sim.orders(tr.credentials.apiKey);
/** What the account has committed to buy or sell: filled amounts plus what is still open. */
const committed = () => simOrders().reduce((sum, o) => sum.plus(o.executedQty).plus(o.status === 'NEW' || o.status === 'PARTIALLY_FILLED' ? new Decimal(o.origQty).minus(o.executedQty) : 0), new Decimal(0));
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
const setMode = async (mode: 'edit' | 'cancel_replace') => {
  const { ex } = await tr.brokers.exchangeFor(tr.profileId, tr.brokerId);
  ex.has.editOrder = mode === 'edit';
};
/** Fills `qty` of the resting BTC buys at the exchange (one matching pass), without the app knowing. */
const fillAtExchange = (qty: string) => {
  sim.setMaxFillPerTick(qty);
  sim.series.setPrice(BTC, '54000');
  sim.tick();
  sim.series.setPrice(BTC, '60000');
  sim.setMaxFillPerTick(null);
};
const buy = (amount = '0.01', price = '55000') => orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount, price, source: 'strategy' });

describe('modify sizes the new order from the fill count at the exchange (item 7)', () => {
  for (const mode of ['edit', 'cancel_replace'] as const) {
    it(`${mode}: a buy of 0.01 filled 0.006 unseen, modified with only a new price, commits 0.01 in all`, async () => {
      await setMode(mode);
      const first = await buy();
      fillAtExchange('0.006');
      expect((await row(first.id)).filled.toFixed()).toBe('0'); // the journal has not seen the fill
      const r = await orders.modify(tr.profileId, { orderId: first.id, price: '55500' });
      expect(r.method).toBe(mode);
      expect(r.order.amount!.toFixed()).toBe('0.004');
      expect(r.order.price!.toFixed()).toBe('55500');
      expect(r.replaced).toMatchObject({ id: first.id, status: 'cancelled' });
      expect(r.replaced.filled.toFixed()).toBe('0.006');
      expect(simOrders().map((o) => [o.status, o.origQty, o.executedQty])).toEqual([
        ['CANCELED', '0.01000000', '0.00600000'],
        ['NEW', '0.00400000', '0.00000000'],
      ]);
      expect(committed().toFixed()).toBe('0.01');
    });
  }

  it('edit: a fill between the read and the edit makes the replacement over-sized; it is reduced', async () => {
    await setMode('edit');
    let once = true;
    const racing = tr.service({
      lookupDelaysMs: [0],
      hooks: {
        beforeSend: () => {
          // the exchange fills 0.003 more of the old order while the edit is on its way
          if (once) fillAtExchange('0.003');
          once = false;
        },
      },
    });
    const first = await buy();
    fillAtExchange('0.006');
    const r = await racing.modify(tr.profileId, { orderId: first.id, price: '55500' });
    expect((await row(first.id)).filled.toFixed()).toBe('0.009');
    expect(committed().toFixed()).toBe('0.01');
    const open = simOrders().filter((o) => o.status === 'NEW');
    expect(open.map((o) => o.origQty)).toEqual(['0.00100000']);
    expect(r.order.amount!.toFixed()).toBe('0.001');
    expect(r.order.exchange_order_id).toBe(String(open[0]!.orderId));
    expect(r.order.status).toBe('open');
  });

  it('a new amount is what the page showed left: fills it had not shown are taken off it', async () => {
    await setMode('cancel_replace');
    const first = await buy();
    fillAtExchange('0.006');
    // the page showed 0.01 left; the trader asks for 0.008 left (0.008 in all): 0.006 is filled, 0.002 remains to place
    const r = await orders.modify(tr.profileId, { orderId: first.id, amount: '0.008' });
    expect(r.order.amount!.toFixed()).toBe('0.002');
    expect(committed().toFixed()).toBe('0.008');
  });

  it('edit: when the fill count cannot be read before the edit, nothing is changed', async () => {
    await setMode('edit');
    const first = await buy();
    const before = simOrders();
    const edits = () => sim.requestLog.filter((x) => x.path === '/api/v3/order/cancelReplace').length;
    const editsBefore = edits();
    sim.failNext('/api/v3/order', { status: 500, code: -1001, msg: 'Internal error; unable to process your request. Please try again.', method: 'GET' });
    const e = await failure(orders.modify(tr.profileId, { orderId: first.id, price: '55500' }));
    expect(e.message).toMatch(/^The order's fills could not be read at the exchange, so the new amount cannot be computed; nothing was changed: /);
    expect(simOrders()).toEqual(before);
    expect(edits()).toBe(editsBefore);
    expect((await rows()).map((r) => [r.id, r.status])).toEqual([[first.id, 'open']]);
  });

  it('a modify of an order filled completely at the exchange places nothing', async () => {
    await setMode('cancel_replace');
    const first = await buy();
    fillAtExchange('0.01');
    const e = await failure(orders.modify(tr.profileId, { orderId: first.id, price: '55500' }));
    expect(e.code).toBe('conflict');
    expect(e.message).toMatch(/already filled/);
    expect(simOrders().map((o) => o.status)).toEqual(['FILLED']);
    expect(committed().toFixed()).toBe('0.01');
  });
});

describe('cancel-and-replace validates before cancelling (item 8)', () => {
  const bad: [string, { price?: string; amount?: string }, RegExp][] = [
    ['an off-tick price', { price: '65000.005' }, /not a multiple of the tick 0\.01/],
    ['an amount below the minimum cost', { amount: '0.00001' }, /below the minimum/],
  ];
  for (const [name, change, message] of bad) {
    it(`${name} is refused and the resting order is untouched`, async () => {
      await setMode('cancel_replace');
      const sell = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'sell', type: 'limit', amount: '0.01', price: '65000', source: 'manual' });
      const deletes = sim.requestLog.filter((x) => x.method === 'DELETE').length;
      const e = await failure(orders.modify(tr.profileId, { orderId: sell.id, ...change }));
      expect(e.code).toBe('invalid_order');
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/The original order is unchanged/);
      expect(sim.requestLog.filter((x) => x.method === 'DELETE').length).toBe(deletes);
      expect(simOrders().map((o) => o.status)).toEqual(['NEW']);
      expect(await row(sell.id)).toMatchObject({ status: 'open' });
    });
  }
});

describe('concurrent fills on one symbol (item 9)', () => {
  it('two transactions recording fills at once: the position always agrees with order_fills', async () => {
    const a = await buy('0.01', '50000');
    const b = await buy('0.02', '50000');
    const trade = (o: OrderRow, id: string, amount: string): ParsedTrade => ({
      id,
      orderId: o.exchange_order_id,
      symbol: BTC,
      side: 'buy',
      price: new Decimal('50000'),
      amount: new Decimal(amount),
      cost: new Decimal(amount).times(50000),
      fee: null,
      takerOrMaker: 'maker',
      timestamp: Date.now(),
    });
    const market = { base: 'BTC', quote: 'USDT' };
    let recorded!: () => void;
    const firstRecorded = new Promise<void>((r) => (recorded = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const t1 = tr.db.withProfile(tr.profileId, async (c) => {
      await recordFills(c, a, [trade(a, 't-1', '0.01')], market);
      recorded();
      await gate; // not committed yet
    });
    await firstRecorded;
    const t2 = tr.db.withProfile(tr.profileId, (c) => recordFills(c, b, [trade(b, 't-2', '0.02')], market));
    // the second transaction is waiting for the first (a lock), whatever it waits on
    let waiting = 0;
    for (let i = 0; i < 500 && waiting === 0; i++) {
      waiting = await asOwner(tdb.ownerUrl, async (c) => Number((await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0]!.n));
      if (waiting === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(waiting).toBe(1);
    release();
    await Promise.all([t1, t2]);
    const { pos, fills } = await tr.db.withProfile(tr.profileId, async (c) => ({
      pos: (await c.query<{ quantity: Decimal; fills: number }>('SELECT quantity, fills FROM positions WHERE symbol = $1', [BTC])).rows[0]!,
      fills: (await c.query<{ n: number; total: Decimal }>('SELECT count(*)::int AS n, sum(amount) AS total FROM order_fills WHERE symbol = $1', [BTC])).rows[0]!,
    }));
    expect(fills.n).toBe(2);
    expect(pos.fills).toBe(2);
    expect(pos.quantity.toFixed()).toBe(fills.total.toFixed());
    expect(pos.quantity.toFixed()).toBe('0.03');
  });
});

describe('status transitions are checked against the current state (item 10)', () => {
  for (const mode of ['edit', 'cancel_replace'] as const) {
    it(`${mode}: two concurrent modifies create at most one replacement, even where the exchange accepts repeated cancels`, async () => {
      await setMode(mode);
      sim.setRepeatedCancels(true);
      const first = await buy();
      const results = await Promise.allSettled([orders.modify(tr.profileId, { orderId: first.id, price: '55100' }), orders.modify(tr.profileId, { orderId: first.id, price: '55200' })]);
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0]!.reason).toMatchObject({ code: 'conflict', message: expect.stringMatching(/already cancelled/) });
      expect(simOrders().filter((o) => o.status === 'NEW')).toHaveLength(1);
      expect(committed().toFixed()).toBe('0.01');
      const replacements = (await rows()).filter((r) => r.replaces_order_id === first.id && r.status !== 'rejected');
      expect(replacements).toHaveLength(1);
    });
  }

  it('a reconcile that looked an order up before it was sent does not mark it rejected once it is placed', async () => {
    let lookedUp!: () => void;
    const lookupDone = new Promise<void>((r) => (lookedUp = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // The reconciling service's lookup answers "no such order" before the order is sent; its
    // decision is held until the placement has finished.
    const g = tr.gateway;
    const slowLookups: Pick<ExchangeGateway, 'run' | 'timeoutMs' | 'forBroker' | 'loadMarkets' | 'info'> = {
      timeoutMs: g.timeoutMs,
      forBroker: g.forBroker.bind(g),
      loadMarkets: g.loadMarkets.bind(g),
      info: g.info.bind(g),
      run: async (id, what, fn) => {
        try {
          return await g.run(id, what, fn);
        } finally {
          if (what === 'look up order by client order id') {
            lookedUp();
            await released;
          }
        }
      },
    };
    const reconciler = tr.service({ gateway: slowLookups, neverArrivedAfterMs: 0 });
    let reconciling: Promise<unknown> | null = null;
    const placer = tr.service({
      hooks: {
        afterIntent: async () => {
          reconciling = reconciler.reconcile(tr.profileId);
          await lookupDone;
        },
      },
    });
    const placed = await placer.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy' });
    expect(placed.status).toBe('open');
    release();
    await reconciling;
    expect(simOrders().map((o) => o.status)).toEqual(['NEW']);
    expect(await row(placed.id)).toMatchObject({ status: 'open', error_code: null });
  });

  it('a placement whose intent the reconcile already judged never sent is not sent', async () => {
    const reconciler = tr.service({ neverArrivedAfterMs: 0 });
    const placer = tr.service({
      hooks: {
        afterIntent: async () => {
          await reconciler.reconcile(tr.profileId);
        },
      },
    });
    const e = await failure(placer.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'strategy' }));
    expect(e.code).toBe('conflict');
    expect(simOrders()).toEqual([]);
    expect((await rows()).map((r) => [r.status, r.error_code])).toEqual([['rejected', 'not_sent']]);
  });
});

describe('history and fees follow the exchange (item 11)', () => {
  it('history sorts by when the exchange closed the order, not when the app noticed', async () => {
    const a = await buy('0.001', '55000');
    const b = await buy('0.001', '54500');
    // a fills first at the exchange…
    sim.series.setPrice(BTC, '54900');
    sim.tick();
    // …b three seconds later on the exchange's clock (a matching pass, no request meanwhile)
    clockOffset = 3000;
    sim.series.setPrice(BTC, '54000');
    sim.tick();
    clockOffset = 0;
    sim.series.setPrice(BTC, '60000');
    // The app notices b first, a later.
    expect(await failure(orders.cancel(tr.profileId, b.id))).toMatchObject({ code: 'conflict' });
    expect(await failure(orders.cancel(tr.profileId, a.id))).toMatchObject({ code: 'conflict' });
    const history = await orders.history(tr.profileId, tr.brokerId, 1);
    expect(history.map((r) => r.id)).toEqual([b.id, a.id]);
    const simB = simOrders().find((o) => String(o.orderId) === (history[0]!.exchange_order_id ?? ''))!;
    expect(history[0]!.closed_at!.getTime()).toBe(simB.updateTime);
  });

  it('an order keeps every fee currency (BNB, then USDT when the BNB runs out)', async () => {
    sim.series.setPrice('BNB/USDT', '600');
    sim.setBalance(tr.credentials.apiKey, 'BNB', '0.0007');
    sim.payFeesIn(tr.credentials.apiKey, 'BNB');
    sim.setMaxFillPerTick('0.005');
    const sold = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'sell', type: 'market', amount: '0.01', source: 'manual' });
    expect(sold.status).toBe('filled');
    const trades = sim.trades(tr.credentials.apiKey).map((t) => [t.commission, t.commissionAsset]);
    expect(trades).toEqual([
      ['0.00050000', 'BNB'],
      ['0.30000000', 'USDT'],
    ]);
    const dto = toOrderDto(await row(sold.id));
    expect(dto.fees).toEqual([
      { cost: '0.0005', currency: 'BNB' },
      { cost: '0.3', currency: 'USDT' },
    ]);
    expect(dto.fee).toBeNull(); // more than one currency: see `fees`
    // the answer's fees alone (before the fills are read) say the same
    const fills = await orders.fills(tr.profileId, sold.id);
    expect(fills.map((f) => f.fee)).toEqual([
      { cost: '0.0005', currency: 'BNB' },
      { cost: '0.3', currency: 'USDT' },
    ]);
    sim.payFeesIn(tr.credentials.apiKey, null);
  });
});
