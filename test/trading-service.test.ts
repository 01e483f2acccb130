import ccxt from 'ccxt';
import Decimal from 'decimal.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../shared/errors';
import { pointExchangeAt } from '../electron/exchanges/urls';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import type { OrderRow } from '../electron/trading/journal';
import type { OrderService } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * The order service driven directly (as webhooks and the bot will): Modify on an exchange without
 * order editing, fills of orders placed elsewhere feeding the position, idempotent client order ids.
 */

const BTC = 'BTC/USDT';
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let orders: OrderService;

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
}, 60_000);
afterAll(async () => {
  await tdb?.close();
  await sim?.close();
});
beforeEach(async () => {
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000', BTC: '1' } });
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, creds);
  orders = tr.service();
});

const rows = (): Promise<OrderRow[]> => tr.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders ORDER BY created_at')).rows);
const place = (o: { side: 'buy' | 'sell'; type: 'market' | 'limit'; amount: string; price?: string; clientOrderId?: string; source?: 'manual' | 'webhook' | 'strategy' }) =>
  orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, source: 'strategy', ...o });

describe('the order service, directly', () => {
  it('modifies by cancel-and-replace where the exchange cannot edit orders, and says so', async () => {
    const { ex } = await tr.brokers.exchangeFor(tr.profileId, tr.brokerId);
    ex.has.editOrder = false;
    const first = await place({ side: 'buy', type: 'limit', amount: '0.01', price: '55000' });
    const r = await orders.modify(tr.profileId, { orderId: first.id, amount: '0.02' });
    expect(r.method).toBe('cancel_replace');
    expect(r.replaced).toMatchObject({ id: first.id, status: 'cancelled' });
    expect(r.order).toMatchObject({ status: 'open', replaces_order_id: first.id, source: 'strategy' });
    expect(r.order.amount!.toFixed()).toBe('0.02');
    expect(r.order.price!.toFixed()).toBe('55000');
    expect(sim.requestLog.some((x) => x.path === '/api/v3/order/cancelReplace')).toBe(false);
    expect(sim.orders(tr.credentials.apiKey).map((o) => [o.status, o.origQty])).toEqual([['CANCELED', '0.01000000'], ['NEW', '0.02000000']]);

    // the replacement refused after the cancellation: said plainly
    const e = await orders.modify(tr.profileId, { orderId: r.order.id, amount: '1' }).then(() => null, (x: unknown) => x);
    expect(isAppError(e) && e.code).toBe('insufficient_funds');
    expect((e as Error).message).toMatch(/^The order was cancelled, but its replacement was refused: Not enough USDT/);
    expect(sim.orders(tr.credentials.apiKey).filter((o) => o.status === 'NEW')).toEqual([]);
  });

  it('fills of orders placed outside the app feed the journal and the position', async () => {
    const ex = new ccxt.binance({ apiKey: tr.credentials.apiKey, secret: tr.credentials.secret, enableRateLimit: false });
    pointExchangeAt(ex, sim.url);
    await ex.createOrder(BTC, 'market', 'buy', 0.05);
    const resting = await ex.createOrder(BTC, 'limit', 'sell', 0.02, 61000);
    // the app traded BTC/USDT before, so the sync reads that symbol's closed orders too
    await place({ side: 'buy', type: 'market', amount: '0.001' });
    await orders.sync(tr.profileId, tr.brokerId, { full: true });
    const ext = (await rows()).filter((r) => r.source === 'external');
    expect(ext.map((r) => [r.type, r.side, r.status, r.filled.toFixed()]).sort()).toEqual([['limit', 'sell', 'open', '0'], ['market', 'buy', 'filled', '0.05']]);

    sim.series.setPrice(BTC, '61000');
    sim.tick();
    await orders.sync(tr.profileId, tr.brokerId);
    const sold = (await rows()).find((r) => r.exchange_order_id === resting.id)!;
    expect(sold).toMatchObject({ status: 'filled', source: 'external' });
    // the position is the simulator's BTC change: everything bought minus sold, net of fees in BTC
    const pos = await tr.db.withProfile(tr.profileId, async (c) => (await c.query<{ quantity: Decimal; realised_pnl: Decimal; fills: number }>('SELECT * FROM positions WHERE symbol = $1', [BTC])).rows[0]!);
    const b = sim.balances(tr.credentials.apiKey).BTC!;
    expect(pos.quantity.toFixed()).toBe(new Decimal(b.free).plus(b.locked).minus(1).toFixed());
    expect(pos.fills).toBe(3);
    expect(pos.realised_pnl.gt(0)).toBe(true);
  });

  it('the same client order id never places twice, even concurrently', async () => {
    const posts = () => sim.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order').length;
    const before = posts();
    const [a, b] = await Promise.all([
      place({ side: 'buy', type: 'limit', amount: '0.001', price: '50000', clientOrderId: 'tv-alert-7', source: 'webhook' }),
      place({ side: 'buy', type: 'limit', amount: '0.001', price: '50000', clientOrderId: 'tv-alert-7', source: 'webhook' }),
    ]);
    expect(a.id).toBe(b.id);
    expect(posts()).toBe(before + 1);
    expect(sim.orders(tr.credentials.apiKey).filter((o) => o.clientOrderId === 'tv-alert-7')).toHaveLength(1);
    expect(await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'limit', amount: '0.001', price: '50000', clientOrderId: 'tv-alert-7', source: 'webhook' })).toMatchObject({ id: a.id });
    expect(posts()).toBe(before + 1);
  });
});
