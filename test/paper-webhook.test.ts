import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../electron/log';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { memorySecrets } from '../electron/trading/fixtures/memory-secrets';
import { toOrderDto, type OrderRow } from '../electron/trading/journal';
import { WebhookService } from '../electron/webhooks/service';
import type { RequestRow } from '../electron/webhooks/store';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * A TradingView alert trading on a PAPER broker end to end: the real listener, the webhook service
 * and the order service, unchanged, onto the paper exchange (live prices from the Binance
 * simulator's public API). The exchange's private API sees nothing.
 */

const BTC = 'BTC/USDT';
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let svc: WebhookService;
let url: string;
let secret: string;
let paperId: string;

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, generateCredentials());
  paperId = (await tr.brokers.createPaper(tr.profileId, { name: 'Paper', exchange: 'binance', balances: { USDT: '10000' } })).id;
  svc = new WebhookService({
    db: tdb.db,
    brokers: tr.brokers,
    gateway: tr.gateway,
    orders: tr.service(),
    secrets: memorySecrets(),
    bus: tr.bus,
    log: silentLogger(),
    config: { host: '127.0.0.1', port: 0, watchMs: 0, trustProxy: false },
    forward: async () => {
      throw new Error('no tunnel in this test');
    },
  });
  await svc.start();
  url = (await svc.startListener(tr.profileId)).url;
  secret = (await svc.secret(tr.profileId)).secret;
}, 60_000);
afterAll(async () => {
  await svc?.stop();
  await tdb?.close();
  await sim?.close();
});

const post = async (body: Record<string, unknown>) => {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const request = async (id: unknown) => (await tdb.db.withProfile(tr.profileId, (c) => c.query<RequestRow>('SELECT * FROM webhook_requests WHERE id = $1', [id]))).rows[0]!;
const order = async (id: string | null) => (await tdb.db.withProfile(tr.profileId, (c) => c.query<OrderRow>('SELECT * FROM orders WHERE id = $1', [id]))).rows[0]!;

describe('a webhook alert on a paper broker', () => {
  it('BuyMarket then SellMarket 100 %: filled on paper at the live price, mode paper', async () => {
    const buy = await post({ secret, broker: 'Paper', symbol: 'BINANCE:BTCUSDT', id: 'p-1', action: 'BuyMarket', amount: '0.01', price: '60000' });
    expect(buy.status).toBe(202);
    await svc.idle();
    const rb = await request(buy.body.requestId);
    expect(rb).toMatchObject({ status: 'processed', market: BTC });
    const ob = await order(rb.order_id);
    expect([ob.status, ob.broker_id, ob.average_price?.toFixed(), ob.fee_currency, toOrderDto(ob).mode]).toEqual(['filled', paperId, '60000', 'BTC', 'paper']);

    sim.series.setPrice(BTC, '61000');
    const sell = await post({ secret, broker: 'Paper', symbol: 'BINANCE:BTCUSDT', id: 'p-2', action: 'SellMarket', percent: 100 });
    await svc.idle();
    const rs = await request(sell.body.requestId);
    expect(rs.status).toBe('processed');
    const os = await order(rs.order_id);
    expect([os.side, os.status, os.average_price?.toFixed(), toOrderDto(os).mode]).toEqual(['sell', 'filled', '61000', 'paper']);
    expect(sim.requestLog.filter((r) => ['/api/v3/order', '/api/v3/account', '/api/v3/myTrades', '/api/v3/openOrders'].includes(r.path))).toEqual([]);
  });
});
