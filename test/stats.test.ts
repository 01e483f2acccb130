import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../shared/errors';
import { translate } from '../shared/i18n';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import type { OrderService } from '../electron/trading/orders';
import { StatsQueries } from '../electron/stats/queries';
import { StatsService } from '../electron/stats/service';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * Statistics end to end in the core: the real order service placing manual, webhook and bot orders on
 * the Binance simulator through CCXT, fills journaled, the ledger rebuilt per book, equity snapshots
 * valued from the simulator's tickers, a deposit found from the balances, a price outage named.
 */

const BTC = 'BTC/USDT';
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let orders: OrderService;
let stats: StatsService;
let q: StatsQueries;
const $ = (x: Decimal.Value) => new Decimal(x);
const P = Decimal.clone({ precision: 60 });
const sum = (xs: (string | null)[]) => xs.reduce((a, x) => a.plus(x ?? 0), new P(0));

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
  const creds = generateCredentials();
  // 0.5 BTC held before the app ever saw the account
  sim.addAccount({ ...creds, balances: { USDT: '20000', BTC: '0.5' } });
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, creds);
  orders = tr.service();
  stats = new StatsService({ db: tr.db, brokers: tr.brokers, gateway: tr.gateway, bus: tr.bus, log: tr.log, snapshotIntervalMs: 0, snapshotAtStart: false });
  await stats.start();
  q = new StatsQueries({ db: tr.db, brokers: tr.brokers, gateway: tr.gateway, stats });
}, 60_000);
afterAll(async () => {
  await stats?.stop();
  await tdb?.close();
  await sim?.close();
});

const webhookRequest = (sender: string) =>
  tr.db.withProfile(tr.profileId, async (c) =>
    (await c.query<{ id: string }>("INSERT INTO webhook_requests (http_status, status, payload, action, symbol) VALUES (200, 'processed', $1, 'BuyMarket', 'BTCUSDT') RETURNING id", [{ action: 'BuyMarket', sender, secret: '•••' }])).rows[0]!.id,
  );

describe('statistics over the real order journal', () => {
  it('first sight: the balances become the opening book, valued at the price then', async () => {
    const snap = await stats.snapshot(tr.profileId, tr.brokerId, 'start');
    expect(snap.missing).toEqual([]);
    expect(snap.value.toFixed()).toBe('50000'); // 20000 + 0.5 × 60000
    const openings = await tr.db.withProfile(tr.profileId, async (c) => (await c.query('SELECT asset, quantity::text, price::text, currency FROM stats_openings ORDER BY asset')).rows);
    expect(openings).toEqual([
      { asset: 'BTC', quantity: '0.5', price: '60000', currency: 'USDT' },
    ]);
  });

  it('manual, webhook and bot trades land in their own books; per-source figures add up to the total', async () => {
    const alpha = await webhookRequest('tv-alpha');
    await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.1', source: 'manual' });
    await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.05', source: 'webhook', sourceRef: alpha });
    await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', amount: '0.02', source: 'strategy', sourceRef: 'activation-1' });
    sim.series.setPrice(BTC, '61000');
    // manual sells 0.3 although it bought 0.1: the rest comes from the opening book (bought at 60000 when first seen)
    await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'sell', type: 'market', amount: '0.3', source: 'manual' });
    const sold = await webhookRequest('tv-alpha');
    await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'sell', type: 'market', amount: '0.04', source: 'webhook', sourceRef: sold });
    await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'sell', type: 'market', amount: '0.0199', source: 'strategy', sourceRef: 'activation-1' });
    await stats.snapshot(tr.profileId, tr.brokerId, 'manual');

    const by = await q.breakdown(tr.profileId, { period: 'all' }, 'book');
    // the opening book's remaining coins are a row too (unrealised only)
    expect(by.rows.map((r) => [r.key, r.trades]).sort()).toEqual([['manual', 1], ['opening', 0], ['strategy:activation-1', 1], ['webhook:tv-alpha', 1]]);
    expect(by.rows.find((r) => r.key === 'webhook:tv-alpha')!.label).toBe('Webhook · tv-alpha');
    expect(sum(by.rows.map((r) => r.realisedPnl)).eq(by.total.realisedPnl)).toBe(true);
    expect(sum(by.rows.map((r) => r.fees)).eq(by.total.fees)).toBe(true);
    expect(by.total.trades).toBe(3);

    const { trades } = await q.trades(tr.profileId, { period: 'all', source: 'manual' });
    expect(trades).toHaveLength(1);
    const m = trades[0]!;
    // the simulator charges 0.1 % in the base on buys, in the quote on sells: 0.0999 BTC bought for 6000,
    // then 0.2001 from the opening book at 60000; 0.3 sold at 61000 less 18.3 USDT
    expect(m).toMatchObject({ amount: '0.3', fromOpening: '0.2001', unmatched: '0', exitPrice: '61000' });
    expect(m.pnl).toBe($('0.3').times(61000).minus('18.3').minus(6000).minus($('0.2001').times(60000)).toFixed());
    // nothing is ever negative: webhook and bot books hold what they did not sell
    const lots = await tr.db.withProfile(tr.profileId, async (c) => (await c.query<{ book: string; quantity: Decimal }>('SELECT book, quantity FROM stats_lots ORDER BY book')).rows);
    for (const l of lots) expect(l.quantity.gt(0)).toBe(true);
    expect(lots.map((l) => l.book)).toEqual(['opening', 'strategy:activation-1', 'webhook:tv-alpha']);
    // and the positions view no longer shows a negative quantity for coins held before the app
    const pos = await tr.db.withProfile(tr.profileId, async (c) => (await c.query<{ quantity: Decimal }>('SELECT quantity FROM positions')).rows);
    for (const p of pos) expect(p.quantity.gte(0)).toBe(true);

    const summary = await q.summary(tr.profileId, { period: 'all' });
    expect(summary.realisedPnl).toBe(by.total.realisedPnl);
    expect(summary.trades).toBe(3);
    expect(summary.unrealisedPnl).not.toBeNull();
  });

  it('a deposit in the middle is not counted as profit', async () => {
    // the after-fill snapshot of the trades above must not be the one that sees the deposit
    await stats.settle();
    const before = await q.summary(tr.profileId, { period: 'all' });
    const usdt = $(sim.balances(tr.credentials.apiKey)['USDT']!.free);
    sim.setBalance(tr.credentials.apiKey, 'USDT', usdt.plus(5000));
    const snap = await stats.snapshot(tr.profileId, tr.brokerId, 'manual');
    expect(snap.flows.map((f) => [f.asset, f.amount.toFixed(), f.value?.toFixed()])).toEqual([['USDT', '5000', '5000']]);
    const after = await q.summary(tr.profileId, { period: 'all' });
    expect($(after.equityEnd!).minus(before.equityEnd!).toFixed()).toBe('5000');
    expect($(after.netFlows).minus(before.netFlows).toFixed()).toBe('5000');
    expect(after.equityPnl).toBe(before.equityPnl);
    const eq = await q.equity(tr.profileId, { period: 'all', interval: 'hour' });
    expect(eq.flows.map((f) => [f.asset, f.amount, f.origin])).toEqual([['USDT', '5000', 'balance']]);
    expect(eq.total.length).toBeGreaterThan(0);
  });

  it('a fill recorded just after a snapshot read the balances explains the interval it was executed in: the flow it caused is taken back', async () => {
    await stats.settle();
    const before = await q.summary(tr.profileId, { period: 'all' });
    // the exchange executed a buy of 0.001 BTC for 60 USDT; the app records it 3 s from now
    const bal = sim.balances(tr.credentials.apiKey);
    sim.setBalance(tr.credentials.apiKey, 'BTC', $(bal['BTC']!.free).plus('0.001'));
    sim.setBalance(tr.credentials.apiKey, 'USDT', $(bal['USDT']!.free).minus(60));
    const recordedAt = new Date(Date.now() + 3000);
    await tr.db.withProfile(tr.profileId, async (c) => {
      const o = (await c.query<{ id: string }>("INSERT INTO orders (broker_id, exchange, source, symbol, side, type, amount, client_order_id, status, filled, created_at) VALUES ($1, 'binance', 'manual', 'BTC/USDT', 'buy', 'market', 0.001, 'late-record', 'filled', 0.001, now()) RETURNING id", [tr.brokerId])).rows[0]!;
      await c.query("INSERT INTO order_fills (order_id, broker_id, exchange, symbol, side, trade_id, price, amount, cost, executed_at, created_at) VALUES ($1, $2, 'binance', 'BTC/USDT', 'buy', 'late-record', 60000, 0.001, 60, now(), $3)", [o.id, tr.brokerId, recordedAt]);
    });
    // this snapshot read the balances before the fill was recorded: the change is not explained yet
    const b = await stats.snapshot(tr.profileId, tr.brokerId, 'manual');
    expect(b.flows.map((f) => [f.asset, f.amount.toFixed()]).sort()).toEqual([['BTC', '0.001'], ['USDT', '-60']]);
    while (Date.now() <= recordedAt.getTime() + 50) await new Promise((r) => setTimeout(r, 100));
    // the next one sees the fill executed before that snapshot: its flows are taken back, none here
    const c2 = await stats.snapshot(tr.profileId, tr.brokerId, 'manual');
    expect(c2.flows).toEqual([]);
    const left = await tr.db.withProfile(tr.profileId, async (c) => (await c.query('SELECT asset FROM stats_flows WHERE snapshot_id = $1', [b.id])).rows);
    expect(left).toEqual([]);
    const after = await q.summary(tr.profileId, { period: 'all' });
    expect(after.netFlows).toBe(before.netFlows);
  });

  it('a broker whose prices cannot be read: the figures that can be computed, the missing valuation named', async () => {
    sim.failNext('/api/v3/ticker/24hr', { status: 500, code: -1000, msg: 'prices unavailable' });
    sim.failNext('/api/v3/ticker/price', { status: 500, code: -1000, msg: 'prices unavailable' });
    const snap = await stats.snapshot(tr.profileId, tr.brokerId, 'manual');
    expect(snap.missing).toEqual(['BTC']);
    const usdt = $(sim.balances(tr.credentials.apiKey)['USDT']!.free);
    expect(snap.value.eq(usdt)).toBe(true); // the USDT alone, BTC left out — not valued at 0 silently
    const s = await q.summary(tr.profileId, { period: 'all' });
    expect(s.missing.some((x) => x.asset === 'BTC' && x.brokerId === tr.brokerId && /no BTC\/USDT price/.test(x.reason))).toBe(true);
    expect(s.unrealisedPnl).toBeNull();
    expect(s.missing.some((x) => x.asset === 'BTC' && /unrealised/.test(x.reason))).toBe(true);
    // every gap carries its key: the page words it in French, the English stays in `reason`
    for (const m of s.missing) {
      expect(m.reasonKey, m.reason).toBeTruthy();
      expect(translate('en', m.reasonKey!, m.reasonParams)).toBe(m.reason);
    }
    const fr = s.missing.map((m) => translate('fr', m.reasonKey!, m.reasonParams));
    expect(fr).toContain('aucun prix BTC/USDT au dernier instantané : BTC est exclu du capital');
    expect(fr).toContain('aucun prix de BTC en USDT dans le dernier instantané : ses lots ouverts sont exclus du P&L latent');
  });

  it('bad input: unknown broker, a custom period ending before it starts, an unknown currency → invalid_input, nothing changed', async () => {
    const err = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);
    const e1 = await err(q.summary(tr.profileId, { period: 'all', brokerId: '00000000-0000-4000-8000-000000000000' }));
    expect(isAppError(e1) && e1.code).toBe('invalid_input');
    expect((e1 as Error).message).toMatch(/Unknown broker/);
    const e2 = await err(q.trades(tr.profileId, { period: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } }));
    expect(isAppError(e2) && e2.code).toBe('invalid_input');
    expect((e2 as Error).message).toMatch(/end of a custom period must be after its start/);
    const e3 = await err(stats.setCurrency(tr.profileId, 'ZZQX'));
    expect(isAppError(e3) && e3.code).toBe('invalid_input');
    expect(await stats.currency(tr.profileId)).toBe('USDT');
    const rows = await tr.db.withProfile(tr.profileId, async (c) => (await c.query('SELECT * FROM stats_settings')).rows);
    expect(rows).toEqual([]);
    // a known one is taken, and the figures are revalued in it at once (trades and equity)
    const inUsdt = await q.summary(tr.profileId, { period: 'all' });
    expect(await stats.currencySuggestions(tr.profileId)).toEqual(expect.arrayContaining(['USDT']));
    expect(await stats.setCurrency(tr.profileId, 'btc')).toBe('BTC');
    expect(await stats.currencySuggestions(tr.profileId)).toEqual(expect.arrayContaining(['USDT', 'BTC']));
    const currencies = await tr.db.withProfile(tr.profileId, async (c) => (await c.query<{ currency: string }>('SELECT DISTINCT currency FROM stats_trades')).rows.map((r) => r.currency));
    expect(currencies).toEqual(['BTC']);
    const inBtc = await q.summary(tr.profileId, { period: 'all' });
    expect(inBtc.currency).toBe('BTC');
    expect(inBtc.snapshotAt).not.toBeNull();
    expect($(inBtc.equityEnd!).gt(0) && $(inBtc.equityEnd!).lt($(inUsdt.equityEnd!).div(1000))).toBe(true); // BTC is worth thousands of USDT
    expect($(inBtc.realisedPnl).abs().lt($(inUsdt.realisedPnl).abs())).toBe(true);
    expect($(inBtc.realisedPnl).isZero()).toBe(false);
    await stats.setCurrency(tr.profileId, 'USDT');
    expect((await q.summary(tr.profileId, { period: 'all' })).realisedPnl).toBe(inUsdt.realisedPnl);
  });

  it('exports the round-trip trades as CSV', async () => {
    const { csv, filename } = await q.exportCsv(tr.profileId, { period: 'all' });
    expect(filename).toBe('aristobot-trades-all.csv');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/^closed_at,opened_at,broker,symbol,source,book,amount,/);
    expect(lines).toHaveLength(4);
    expect(lines.some((l) => l.includes(',webhook,Webhook · tv-alpha,'))).toBe(true);
  });
});
