import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import type { OrderRow } from '../electron/trading/journal';
import { silentLogger } from '../electron/log';
import { memorySecrets } from '../electron/trading/fixtures/memory-secrets';
import { webhookClientOrderId } from '../electron/webhooks/payload';
import { WebhookService } from '../electron/webhooks/service';
import { translate } from '../shared/i18n';
import type { RequestRow } from '../electron/webhooks/store';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * Webhooks with native stop-loss / take-profit: through the real listener, the order service, CCXT
 * and the Binance simulator (whose BTC/USDT accepts STOP_LOSS / TAKE_PROFIT and OCO lists). A buy
 * with SL/TP puts an OCO pair at the exchange for the webhook position; the take-profit filling
 * expires the stop-loss and flattens the book; MAJ replaces the pair; a sell cancels it first; a
 * request processed again after a crash places nothing twice; levels that cannot protect a long are
 * refused before anything is bought.
 */

const BTC = 'BTC/USDT';
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let svc: WebhookService;
let url: string;
let secret: string;

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000', BTC: '1' }, takerRate: '0', makerRate: '0' });
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, creds, { timeoutMs: 20_000 });
  svc = new WebhookService({ db: tdb.db, brokers: tr.brokers, gateway: tr.gateway, orders: tr.service(), secrets: memorySecrets(), bus: tr.bus, log: silentLogger(), config: { host: '127.0.0.1', port: 0, watchMs: 0, trustProxy: false } });
  await svc.start();
  url = (await svc.startListener(tr.profileId)).url;
  secret = (await svc.secret(tr.profileId)).secret;
}, 60_000);
afterAll(async () => {
  await svc?.stop();
  await tdb?.close();
  await sim?.close();
});

let seq = 0;
const nextId = () => `p-${++seq}-${Date.now()}`;
async function send(o: Record<string, unknown>): Promise<RequestRow> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ secret, broker: 'Sim', symbol: 'BINANCE:BTCUSDT', id: nextId(), ...o }) });
  const body = (await res.json()) as { requestId: string };
  await svc.idle();
  return (await requests()).find((r) => r.id === body.requestId)!;
}
const requests = (): Promise<RequestRow[]> => tdb.db.withProfile(tr.profileId, async (c) => (await c.query<RequestRow>('SELECT * FROM webhook_requests ORDER BY received_at')).rows);
const legs = (): Promise<OrderRow[]> => tdb.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders WHERE oco_ref IS NOT NULL ORDER BY created_at, protects')).rows);
const position = async () => (await svc.positions(tr.profileId)).find((p) => p.symbol === BTC)!;
const openLegs = () => sim.orders(tr.credentials.apiKey).filter((o) => o.type !== 'MARKET' && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'));
const ocoPosts = () => sim.requestLog.filter((r) => r.path === '/api/v3/orderList/oco').length;

describe('webhooks with native stop-loss / take-profit', () => {
  it('a buy with SL and TP places a native OCO pair for the webhook position; the TP filling cancels the SL', async () => {
    const r = await send({ action: 'BuyMarket', amount: '0.01', sl: '55000', tp: '65000' });
    expect(r).toMatchObject({ status: 'processed', protection: 'native' });
    expect(r.reason).toMatch(/native orders at the exchange/);
    expect(r.reason_key).toBe('coreWebhooks.result.orderFilled');
    expect(translate('fr', r.reason_key!, r.reason_params!)).toMatch(/ Stop-loss \/ take-profit : ordres natifs sur la plateforme\.$/);
    let p = await position();
    expect([p.quantity.toFixed(), p.protection]).toEqual(['0.01', 'native']);
    expect(openLegs().map((o) => [o.type, o.origQty, o.stopPrice]).sort()).toEqual([
      ['STOP_LOSS', '0.01000000', '55000.00000000'],
      ['TAKE_PROFIT', '0.01000000', '65000.00000000'],
    ]);
    const l = await legs();
    expect(l.map((x) => [x.protects, x.source, x.source_ref, x.status])).toEqual([
      ['stop_loss', 'webhook', `position:${p.id}`, 'open'],
      ['take_profit', 'webhook', `position:${p.id}`, 'open'],
    ]);

    // the watcher does not sell at market on its own: the exchange holds the protection
    const marketPosts = sim.requestLog.filter((x) => x.path === '/api/v3/order' && x.method === 'POST').length;
    sim.series.setPrice(BTC, '65200');
    sim.tick();
    await svc.tick();
    await svc.idle();
    expect(sim.requestLog.filter((x) => x.path === '/api/v3/order' && x.method === 'POST').length).toBe(marketPosts);
    const after = await legs();
    expect(after.map((x) => [x.protects, x.status, x.filled.toFixed()])).toEqual([
      ['stop_loss', 'cancelled', '0'],
      ['take_profit', 'filled', '0.01'],
    ]);
    p = await position();
    expect(p.quantity.toFixed()).toBe('0');
    expect(p.realised_pnl.toFixed()).toBe('52');
    expect([p.stop_loss, p.take_profit]).toEqual([null, null]);
    expect(openLegs()).toEqual([]);
    sim.series.setPrice(BTC, '60000');
  });

  it('MAJ replaces the pair at the new levels; a sell cancels it first and protects what is left', async () => {
    await send({ action: 'BuyMarket', amount: '0.02', sl: '55000', tp: '65000' });
    const first = openLegs().map((o) => o.clientOrderId);
    expect(first).toHaveLength(2);

    const maj = await send({ action: 'MAJ', sl: '58000' });
    expect(maj).toMatchObject({ status: 'processed', protection: 'native' });
    const moved = openLegs();
    expect(moved.map((o) => [o.type, o.stopPrice]).sort()).toEqual([
      ['STOP_LOSS', '58000.00000000'],
      ['TAKE_PROFIT', '65000.00000000'],
    ]);
    expect(moved.some((o) => first.includes(o.clientOrderId))).toBe(false);
    expect(sim.orders(tr.credentials.apiKey).filter((o) => first.includes(o.clientOrderId)).map((o) => o.status)).toEqual(['CANCELED', 'CANCELED']);

    // a MAJ that cannot protect a long (stop-loss above the price): refused, the pair unchanged
    const bad = await send({ action: 'MAJ', sl: '61000' });
    expect(bad.status).toBe('rejected');
    expect(bad.reason).toMatch(/must be below the price 60000/);
    // the level checker's problem worded by key, in French too
    expect(bad.reason_key).toBe('coreWebhooks.refused.notMoved');
    expect(translate('en', bad.reason_key!, bad.reason_params!)).toBe(bad.reason);
    expect(translate('fr', bad.reason_key!, bad.reason_params!)).toBe('Stop-loss / take-profit non déplacés : le stop-loss 61\u202f000 doit être inférieur au prix 60\u202f000 pour une position longue.');
    expect(openLegs().map((o) => o.clientOrderId).sort()).toEqual(moved.map((o) => o.clientOrderId).sort());

    // a buy without levels adds to the position: the pair is placed again for the whole of it
    const more = await send({ action: 'BuyMarket', amount: '0.02' });
    expect([more.status, more.protection], more.reason ?? '').toEqual(['processed', 'native']);
    expect(openLegs().map((o) => [o.type, o.origQty]).sort()).toEqual([
      ['STOP_LOSS', '0.04000000'],
      ['TAKE_PROFIT', '0.04000000'],
    ]);
    // half sold by a webhook: the pair (holding the coins) is cancelled, the rest protected again
    const sell = await send({ action: 'SellMarket', percent: 50 });
    expect(sell.status).toBe('processed');
    expect((await position()).quantity.toFixed()).toBe('0.02');
    expect(openLegs().map((o) => [o.type, o.origQty, o.stopPrice]).sort()).toEqual([
      ['STOP_LOSS', '0.02000000', '58000.00000000'],
      ['TAKE_PROFIT', '0.02000000', '65000.00000000'],
    ]);
    // and all of it: nothing left open
    await send({ action: 'SellMarket', percent: 100 });
    expect((await position()).quantity.toFixed()).toBe('0');
    expect(openLegs()).toEqual([]);
  });

  it('a request processed again after a crash places neither the order nor the pair twice', async () => {
    const id = nextId();
    const first = await send({ id, action: 'BuyMarket', amount: '0.01', sl: '55000', tp: '65000' });
    expect(first.protection).toBe('native');
    const oco = ocoPosts();
    const open = openLegs().length;
    // the crash: the request was still 'processing' when the app stopped
    await tdb.db.withProfile(tr.profileId, (c) => c.query("UPDATE webhook_requests SET status = 'processing' WHERE id = $1", [first.id]));
    const again = new WebhookService({ db: tdb.db, brokers: tr.brokers, gateway: tr.gateway, orders: tr.service(), secrets: memorySecrets(), bus: tr.bus, log: silentLogger(), config: { host: '127.0.0.1', port: 0, watchMs: 0, trustProxy: false } });
    await again.start();
    await again.idle();
    await again.stop();
    expect((await requests()).find((r) => r.id === first.id)).toMatchObject({ status: 'processed', protection: 'native' });
    expect(ocoPosts()).toBe(oco);
    expect(openLegs()).toHaveLength(open);
    const orders = await tdb.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders WHERE client_order_id = $1', [webhookClientOrderId(tr.profileId, id)])).rows);
    expect(orders).toHaveLength(1);
    await send({ action: 'SellMarket', percent: 100 });
  });

  it('a BuyLimit with SL and TP that fills later gets its native pair at the fill, for the quantity bought', async () => {
    const before = ocoPosts();
    const r = await send({ action: 'BuyLimit', amount: '0.01', price: '59000', sl: '55000', tp: '65000' });
    expect(r.status).toBe('processed');
    const entry = (await tdb.db.withProfile(tr.profileId, (c) => c.query<OrderRow>('SELECT * FROM orders WHERE id = $1', [r.order_id]))).rows[0]!;
    expect([entry.type, entry.status]).toEqual(['limit', 'open']);
    // resting: nothing to protect yet
    expect(ocoPosts()).toBe(before);
    expect(openLegs().map((o) => o.type)).toEqual(['LIMIT']);
    let p = await position();
    expect([p.quantity.toFixed(), p.stop_loss?.toFixed(), p.take_profit?.toFixed()]).toEqual(['0', '55000', '65000']);

    // the price crosses: the watcher syncs the fill and the pair is placed at the exchange
    sim.series.setPrice(BTC, '58900');
    sim.tick();
    await svc.tick();
    await svc.idle();
    p = await position();
    expect([p.quantity.toFixed(), p.protection]).toEqual(['0.01', 'native']);
    expect(openLegs().map((o) => [o.type, o.origQty, o.stopPrice]).sort()).toEqual([
      ['STOP_LOSS', '0.01000000', '55000.00000000'],
      ['TAKE_PROFIT', '0.01000000', '65000.00000000'],
    ]);
    expect(ocoPosts()).toBe(before + 1);
    expect((await requests()).find((x) => x.id === r.id)!.protection).toBe('native');
    // another pass of the watcher places nothing more
    await svc.tick();
    await svc.idle();
    expect(ocoPosts()).toBe(before + 1);

    sim.series.setPrice(BTC, '60000');
    sim.tick();
    await send({ action: 'SellMarket', percent: 100 });
    expect((await position()).quantity.toFixed()).toBe('0');
    expect(openLegs()).toEqual([]);
  });

  it('levels that cannot protect a long are refused before anything is bought', async () => {
    const posts = sim.requestLog.filter((x) => x.method === 'POST').length;
    const before = (await position()).quantity;
    for (const [levels, reason, french] of [
      [{ sl: '61000', tp: '65000' }, /stop-loss 61000 must be below the price 60000/, 'le stop-loss 61\u202f000 doit être inférieur au prix 60\u202f000 pour une position longue'],
      [{ sl: '55000', tp: '59000' }, /take-profit 59000 must be above the price 60000/, 'le take-profit 59\u202f000 doit être supérieur au prix 60\u202f000 pour une position longue'],
      [{ sl: '50000', price: '49000', action: 'BuyLimit' }, /stop-loss 50000 must be below the price 49000/, 'le stop-loss 50\u202f000 doit être inférieur au prix 49\u202f000 pour une position longue'],
    ] as const) {
      const r = await send({ action: 'BuyMarket', amount: '0.01', ...levels });
      expect(r.status).toBe('rejected');
      expect(r.reason).toMatch(reason);
      expect(r.reason_key).toBe('coreWebhooks.refused.invalidLevels');
      expect(translate('fr', r.reason_key!, r.reason_params!)).toBe(`Stop-loss / take-profit invalides : ${french}. Aucun ordre n'a été passé.`);
      expect(r.order_id).toBeNull();
    }
    expect(sim.requestLog.filter((x) => x.method === 'POST').length).toBe(posts);
    expect((await position()).quantity.eq(before)).toBe(true);
  });
});
