import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../shared/errors';
import { translate, type Params } from '../shared/i18n';
import { wordField } from '../shared/i18n/wording';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { toOrderDto, type OrderRow } from '../electron/trading/journal';
import type { OrderService } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * The paper exchange behind the gateway, driven through the unchanged order service: the same
 * manual orders on a paper broker and on the Binance simulator (through CCXT) give the same fills
 * when the prices are the same, and the same refusals; balances and orders persist (a new gateway,
 * as after a restart, sees them); journal rows carry the mode `paper`.
 */

const BTC = 'BTC/USDT';
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let orders: OrderService;
let paperId: string;

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000', BTC: '1' } });
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, creds);
  orders = tr.service();
  paperId = (await tr.brokers.createPaper(tr.profileId, { name: 'Paper', exchange: 'binance', balances: { USDT: '10000', BTC: '1' } })).id;
}, 60_000);
afterAll(async () => {
  await orders?.stop?.().catch(() => undefined);
  await tdb?.close();
  await sim?.close();
});

type Req = { side: 'buy' | 'sell'; type: 'market' | 'limit'; amount: string; price?: string };
const place = (brokerId: string, o: Req) => orders.place(tr.profileId, { brokerId, symbol: BTC, source: 'manual', ...o });
const outcome = (p: Promise<OrderRow>) => p.then((r) => ({ ok: true as const, row: r }), (e: unknown) => ({ ok: false as const, code: isAppError(e) ? e.code : 'thrown', message: (e as Error).message }));
const fills = async (brokerId: string) =>
  tr.db.withProfile(tr.profileId, async (c) =>
    (await c.query<{ side: string; price: Decimal; amount: Decimal; cost: Decimal; fee: Decimal; fee_currency: string; taker_or_maker: string }>(
      'SELECT f.side, f.price, f.amount, f.cost, f.fee, f.fee_currency, f.taker_or_maker FROM order_fills f JOIN orders o ON o.id = f.order_id WHERE f.broker_id = $1 ORDER BY o.created_at, f.executed_at',
      [brokerId],
    )).rows.map((f) => [f.side, f.price.toFixed(), f.amount.toFixed(), f.cost.toFixed(), f.fee.toFixed(), f.fee_currency, f.taker_or_maker]),
  );
const journal = (brokerId: string) =>
  tr.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders WHERE broker_id = $1 ORDER BY created_at', [brokerId])).rows);
const balances = async (brokerId: string) => {
  const { ex } = await tr.brokers.exchangeFor(tr.profileId, brokerId);
  const b = await ex.fetchBalance();
  const out: Record<string, string> = {};
  for (const a of ['BTC', 'USDT']) out[a] = new Decimal(String((b.total as unknown as Record<string, number>)[a] ?? 0)).toFixed();
  return out;
};

describe('paper exchange vs the exchange simulator', () => {
  it('the same manual orders give the same fills (price, amount, fee) and the same refusals', async () => {
    const steps: Req[] = [
      { side: 'buy', type: 'market', amount: '0.01' },
      { side: 'sell', type: 'limit', amount: '0.005', price: '61000' }, // rests
      { side: 'buy', type: 'limit', amount: '0.002', price: '60500' }, // crosses on arrival: taker at the live price
      { side: 'buy', type: 'market', amount: '0.0000001' }, // below the lot size: refused
      { side: 'buy', type: 'market', amount: '5' }, // 300 000 USDT: refused, not enough USDT
      { side: 'sell', type: 'limit', amount: '0.001', price: '60000.001' }, // off the tick: refused
    ];
    for (const s of steps) {
      const live = await outcome(place(tr.brokerId, s));
      const paper = await outcome(place(paperId, s));
      expect(paper.ok, JSON.stringify(s)).toBe(live.ok);
      if (!live.ok && !paper.ok) {
        expect(paper.code).toBe(live.code);
        expect(paper.message).toBe(live.message);
      }
      if (live.ok && paper.ok) {
        expect([paper.row.status, paper.row.filled.toFixed(), paper.row.average_price?.toFixed()]).toEqual([live.row.status, live.row.filled.toFixed(), live.row.average_price?.toFixed()]);
      }
    }
    // the price reaches the resting sell: both fill it at its limit, as maker
    sim.series.setPrice(BTC, '61000');
    await orders.sync(tr.profileId, tr.brokerId);
    await orders.sync(tr.profileId, paperId);
    await outcome(place(tr.brokerId, { side: 'sell', type: 'market', amount: '0.003' }));
    await outcome(place(paperId, { side: 'sell', type: 'market', amount: '0.003' }));

    const live = await fills(tr.brokerId);
    const paper = await fills(paperId);
    expect(live).toHaveLength(4);
    expect(paper).toEqual(live);
    // in the order of the orders: the market buy, the resting sell (maker at its limit), the crossing buy, the market sell
    expect(live.map((f) => f[6])).toEqual(['taker', 'maker', 'taker', 'taker']);
    expect(await balances(paperId)).toEqual(await balances(tr.brokerId));

    const lj = await journal(tr.brokerId);
    const pj = await journal(paperId);
    expect(pj.map((r) => [r.side, r.type, r.status, r.error_code])).toEqual(lj.map((r) => [r.side, r.type, r.status, r.error_code]));
    expect(pj.map((r) => toOrderDto(r).mode)).toEqual(pj.map(() => 'paper'));
    expect(lj.map((r) => toOrderDto(r).mode)).toEqual(lj.map(() => 'live'));
    // nothing of the paper broker reached the exchange: the simulator saw only the live account's 4 accepted orders (the refusals are the order service's, for both)
    expect(sim.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order')).toHaveLength(4);
  });

  it('a resting paper order and the balances persist across a restart (a new gateway and service)', async () => {
    sim.series.setPrice(BTC, '61000');
    const resting = await place(paperId, { side: 'buy', type: 'limit', amount: '0.004', price: '59000' });
    expect(resting.status).toBe('open');
    const before = await balances(paperId);
    const again = await directTrading(tdb.db, sim.url, generateCredentials());
    // the same database, a fresh gateway and broker service: the paper account is read back
    const { ex } = await again.brokers.exchangeFor(tr.profileId, paperId);
    const open = await ex.fetchOpenOrders(BTC);
    expect(open.map((o) => [o.id, o.amount, o.price])).toEqual([[resting.exchange_order_id, 0.004, 59000]]);
    const b = await ex.fetchBalance();
    expect(new Decimal(String((b.total as unknown as Record<string, number>).USDT)).toFixed()).toBe(before.USDT);
    expect(new Decimal(String((b.used as unknown as Record<string, number>).USDT)).toFixed()).toBe('236');
    // cancelling gives the locked USDT back
    const svc = again.service();
    const cancelled = await svc.cancel(tr.profileId, resting.id);
    expect(cancelled.status).toBe('cancelled');
    const after = await ex.fetchBalance();
    expect((after.used as unknown as Record<string, number>).USDT).toBe(0);
    await svc.stop?.();
  });

  it('slippage moves a paper market order against it, rounded to the tick', async () => {
    const slipId = (await tr.brokers.createPaper(tr.profileId, { name: 'Slippy', exchange: 'binance', balances: { USDT: '1000' }, slippage: '0.001' })).id;
    sim.series.setPrice(BTC, '60000');
    const r = await place(slipId, { side: 'buy', type: 'market', amount: '0.01' });
    expect(r.status).toBe('filled');
    expect(r.average_price!.toFixed()).toBe('60060');
    const f = await fills(slipId);
    // fee: the market's taker rate (0.1 %) on the BTC received
    expect(f).toEqual([['buy', '60060', '0.01', '600.6', '0.00001', 'BTC', 'taker']]);
  });

  it('bad starting balances and an exchange without public market data are refused, and nothing is created', async () => {
    const count = async () => (await tr.brokers.list(tr.profileId)).length;
    const n = await count();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ USDT: '-5' }, 'binance', /negative/],
      [{ USDT: 'lots' }, 'binance', /not a number/],
      [{ USDT: '1e5' }, 'binance', /not a number/],
      [{ 'US DT': '5' }, 'binance', /not an asset code/],
      [{ USDT: '100' }, 'cryptomus', /does not publish its markets and prices/],
    ];
    for (const [balances, exchange, msg] of cases) {
      const e = await tr.brokers.createPaper(tr.profileId, { name: `Bad ${exchange}`, exchange, balances }).then(() => null, (x: unknown) => x);
      expect(isAppError(e) && e.code, JSON.stringify(balances)).toBe('invalid_input');
      expect((e as Error).message).toMatch(msg);
      // every issue names its field by key: its English is the key's, and the form words it in French
      const payload = (e as AppError).toPayload();
      const issues = (payload.details as { issues: { path: string; key: string; params: Params; message: string }[] }).issues;
      expect(issues.length).toBeGreaterThan(0);
      for (const i of issues) {
        expect(translate('en', i.key, i.params)).toBe(i.message);
        expect(wordField('fr', payload, i.path)).toBe(translate('fr', i.key, i.params));
      }
    }
    const negative = await tr.brokers.createPaper(tr.profileId, { name: 'Bad fr', exchange: 'binance', balances: { USDT: '-5' } }).then(() => null, (x: unknown) => (x as AppError).toPayload());
    expect(wordField('fr', negative!, 'balances.USDT')).toBe('le solde USDT -5 est négatif');
    const e = await tr.brokers.createPaper(tr.profileId, { name: 'Bad slip', exchange: 'binance', balances: {}, slippage: '2' }).then(() => null, (x: unknown) => x);
    expect(isAppError(e) && e.code).toBe('invalid_input');
    expect(await count()).toBe(n);
  });

  it('a reset starts the paper account again and cancels its open orders; a live broker cannot be reset', async () => {
    const resting = await place(paperId, { side: 'buy', type: 'limit', amount: '0.001', price: '50000' });
    const r = await tr.brokers.resetPaper(tr.profileId, paperId, { USDT: '500', ETH: '2' });
    expect(r.balances).toEqual([{ asset: 'ETH', free: '2', used: '0', total: '2' }, { asset: 'USDT', free: '500', used: '0', total: '500' }]);
    expect(await balances(paperId)).toEqual({ BTC: '0', USDT: '500' });
    const { ex } = await tr.brokers.exchangeFor(tr.profileId, paperId);
    expect((await ex.fetchOrder(resting.exchange_order_id!, BTC)).status).toBe('canceled');
    const bad = await tr.brokers.resetPaper(tr.profileId, paperId, { USDT: '-1' }).then(() => null, (x: unknown) => x);
    expect(isAppError(bad) && bad.code).toBe('invalid_input');
    expect(await balances(paperId)).toEqual({ BTC: '0', USDT: '500' });
    const live = await tr.brokers.resetPaper(tr.profileId, tr.brokerId, { USDT: '1' }).then(() => null, (x: unknown) => x);
    expect(isAppError(live) && live.code).toBe('invalid_input');
  });
});
