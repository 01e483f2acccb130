import { randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotProtection } from '../electron/bot/protection';
import { silentLogger } from '../electron/log';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import type { OrderService } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * The bot engine's native stop-loss / take-profit (electron/bot/protection.ts) against the order
 * service, CCXT and the simulator: placed once per entry, 'native' while the exchange holds it, the
 * executed leg handed back under its own client order id — which the engine books by "placing" it
 * again: the order service answers the journaled (filled) order and sends nothing — and released
 * (cancelled) before a close.
 */

const BTC = 'BTC/USDT';
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let orders: OrderService;
let prot: BotProtection;

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000' }, takerRate: '0', makerRate: '0' });
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, creds);
  orders = tr.service();
  prot = new BotProtection(orders, tdb.db, silentLogger());
}, 60_000);
afterAll(async () => {
  await tdb?.close();
  await sim?.close();
});

async function entry(stopLoss: string | null, takeProfit: string | null) {
  const id = randomUUID();
  const open = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.01', source: 'strategy', sourceRef: id, clientOrderId: `open-${id.slice(0, 8)}` });
  return { id, profile_id: tr.profileId, broker_id: tr.brokerId, symbol: BTC, position_amount: open.filled, entry_price: open.average_price, entry_order_id: open.id, stop_loss: stopLoss ? new Decimal(stopLoss) : null, take_profit: takeProfit ? new Decimal(takeProfit) : null };
}
const posts = () => sim.requestLog.filter((r) => r.method === 'POST').length;
const openAtSim = () => sim.orders(tr.credentials.apiKey).filter((o) => o.type !== 'MARKET' && o.status === 'NEW');

describe('bot native stop-loss / take-profit', () => {
  it('placed once per entry; the executed leg is booked under its own client order id without a new order', async () => {
    const a = await entry('57000', '66000');
    expect(await prot.check(a)).toBeNull(); // nothing placed yet: the engine watches
    const p = await prot.place(a);
    expect([p?.mode, p?.how]).toEqual(['native', 'oco']);
    expect((await prot.place(a))?.orders.map((o) => o.id)).toEqual(p?.orders.map((o) => o.id)); // replayed: the same pair
    expect(openAtSim()).toHaveLength(2);
    expect(await prot.check(a)).toBe('native');

    sim.series.setPrice(BTC, '56500');
    sim.tick();
    const hit = await prot.check(a);
    expect(hit).toEqual({ kind: 'stop_loss', clientOrderId: `${BotProtection.pairId(a.id, a.entry_order_id)}-sl` });
    const before = posts();
    const booked = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'sell', type: 'market', amount: a.position_amount, source: 'strategy', sourceRef: a.id, clientOrderId: (hit as { clientOrderId: string }).clientOrderId });
    expect([booked.status, booked.filled.toFixed(), booked.average_price?.toFixed(), booked.protects]).toEqual(['filled', '0.01', '56500', 'stop_loss']);
    expect(posts()).toBe(before);
    expect(openAtSim()).toHaveLength(0);
    sim.series.setPrice(BTC, '60000');
  });

  it('released (cancelled) before a close, so the close can sell the coins', async () => {
    const a = await entry('55000', null);
    expect((await prot.place(a))?.how).toBe('single');
    expect(openAtSim()).toHaveLength(1);
    await prot.release(a);
    expect(openAtSim()).toHaveLength(0);
    expect(await prot.check(a)).toBeNull(); // gone without executing: watched by the engine again
    const sold = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'sell', type: 'market', amount: a.position_amount, source: 'strategy', sourceRef: a.id });
    expect(sold.status).toBe('filled');
  });

  it('is on by default; ARISTOBOT_BOT_NATIVE_STOPS=0 turns it off', () => {
    expect(BotProtection.enabled({})).toBe(true);
    expect(BotProtection.enabled({ ARISTOBOT_BOT_NATIVE_STOPS: '1' })).toBe(true);
    expect(BotProtection.enabled({ ARISTOBOT_BOT_NATIVE_STOPS: '0' })).toBe(false);
  });
});
