import { resolve } from 'node:path';
import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../shared/errors';
import { frenchNumber, translate, type Params } from '../shared/i18n';
import { BotEngine, botClientOrderId } from '../electron/bot/engine';
import { Kernel } from '../electron/kernel';
import { silentLogger } from '../electron/log';
import { StrategyService } from '../electron/strategies/service';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { getOrder } from '../electron/trading/journal';
import type { OrderService } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';
import { standInHeartbeat } from './support/bot-heartbeat';

/**
 * Reconciliation of the bot's books with the exchange (issue 12, item 6), against the Binance REST
 * simulator through CCXT and the real order service: an order that filled while the app was off is
 * picked up; coins sold outside the app suspend the activation with the reason; adopting the
 * exchange's state makes the book consistent and the activation resumable; when everything matches,
 * nothing changes.
 */

const BTC = 'BTC/USDT';
const MIN = 60_000;
// the simulator's clock and the bot's are real time here (no signals: the reconciliation is the subject)
const now = () => Date.now();

let tdb: TestDb;
let ex: ExchangeSim;
let tr: DirectTrading;
let orders: OrderService;
let strategies: StrategyService;
let kernel: Kernel;
let bot: BotEngine;
let strategyId: string;
const log = silentLogger();
const hb = standInHeartbeat();

function newBot(): BotEngine {
  orders = tr.service();
  return new BotEngine({ db: tdb.db, bus: tr.bus, log, heartbeat: hb, orders, brokers: tr.brokers, strategies, kernel, clock: { now }, config: { reconcileIntervalMs: 0, balanceRefreshDelayMs: 10 } });
}

beforeAll(async () => {
  tdb = await createTestDb();
  ex = await startExchangeSim();
  const creds = generateCredentials();
  ex.addAccount({ ...creds, balances: { USDT: '10000' } });
  ex.series.setPrice(BTC, '50000');
  tr = await directTrading(tdb.db, ex.url, creds);
  strategies = new StrategyService({ db: tdb.db, templatesDir: resolve(import.meta.dirname, '../resources/strategies') });
  kernel = new Kernel();
  strategyId = (
    await strategies.create(tr.profileId, {
      name: 'Never',
      code: `import { Strategy } from 'aristobot';\nexport default class Never extends Strategy {\n  static warmup = 1;\n  shouldLong() { return false; }\n  shouldShort() { return false; }\n}\n`,
    })
  ).id;
  bot = newBot();
  await bot.start();
  await bot.idle();
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  kernel?.dispose();
  await ex?.close();
  await tdb?.close();
});

const err = async (p: Promise<unknown>) => p.then(() => null, (e: unknown) => (isAppError(e) ? { code: e.code, message: e.message } : { code: 'thrown', message: String(e) }));
const orderPosts = () => ex.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order');
const btcHeld = () => {
  const b = ex.balances(tr.credentials.apiKey).BTC;
  return b ? new Decimal(b.free).plus(b.locked) : new Decimal(0);
};
const rowOf = (id: string) => tdb.db.withProfile(tr.profileId, async (c) => (await c.query<{ updated_at: Date; state: string; state_reason: string | null; position_amount: Decimal }>('SELECT * FROM bot_activations WHERE id = $1', [id])).rows[0]!);

let actId: string;

describe('the bot reconciles its books with the exchange', () => {
  it('an order that filled while the app was off (its answer never stored) is picked up at start: the book takes the fill, no second order', async () => {
    const a = await bot.create(tr.profileId, { strategyId, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '1000' });
    actId = a.id;
    const candle = Math.floor(now() / MIN) * MIN - MIN;
    const clientOrderId = botClientOrderId(a.id, 'signal', candle, 'open');
    // What the previous run left: the decision journaled with its plan, the order sent and filled at
    // the exchange, the answer lost (the process died before storing it).
    await tdb.db.withProfile(tr.profileId, (c) =>
      c.query(`INSERT INTO bot_decisions (activation_id, kind, candle_time, action, reason, status, plan) VALUES ($1, 'signal', to_timestamp($2::float8 / 1000), 'open_long', 'shouldLong()', 'pending', $3::jsonb)`, [
        a.id,
        candle,
        JSON.stringify([{ leg: 'open', side: 'buy', cost: '500', clientOrderId, stopLoss: null, takeProfit: null }]),
      ]),
    );
    const dying = tr.service({
      hooks: {
        afterAnswer: () => {
          throw new Error('the app stopped here');
        },
      },
    });
    await expect(dying.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', cost: '500', source: 'strategy', sourceRef: a.id, clientOrderId })).rejects.toThrow(/the app stopped here/);
    const journaled = await tdb.db.withProfile(tr.profileId, async (c) => (await c.query<{ id: string; status: string }>('SELECT id, status FROM orders WHERE client_order_id = $1', [clientOrderId])).rows[0]!);
    expect(journaled.status).toBe('sent');
    expect(ex.orders(tr.credentials.apiKey)).toEqual([expect.objectContaining({ clientOrderId, status: 'FILLED' })]);
    const posts = orderPosts().length;

    await bot.stop();
    bot = newBot();
    await bot.start();
    await bot.idle();

    expect(orderPosts()).toHaveLength(posts);
    const order = (await tdb.db.withProfile(tr.profileId, (c) => getOrder(c, journaled.id)))!;
    expect(order.status).toBe('filled');
    const d = (await bot.decisions(tr.profileId, a.id, 10)).find((x) => x.kind === 'signal')!;
    expect(d).toMatchObject({ status: 'done', orderIds: [journaled.id] });
    const g = await bot.get(tr.profileId, a.id);
    expect(g).toMatchObject({ state: 'running', reason: null, position: { side: 'long', entryPrice: order.average_price!.toFixed() } });
    // the fee is paid in BTC: the book holds what the account received
    expect(g.position!.amount).toBe(btcHeld().toFixed());
  });

  it('when everything matches, a reconciliation changes nothing', async () => {
    const before = await rowOf(actId);
    const decisions = (await bot.decisions(tr.profileId, actId, 100)).length;
    const posts = orderPosts().length;
    expect(await bot.reconcile()).toEqual({ mismatched: [], replayed: 0, unreadable: [] });
    const after = await rowOf(actId);
    expect(after.updated_at.getTime()).toBe(before.updated_at.getTime());
    expect(after).toMatchObject({ state: 'running', state_reason: null });
    expect((await bot.decisions(tr.profileId, actId, 100)).length).toBe(decisions);
    expect(orderPosts()).toHaveLength(posts);
    // and nothing to adopt
    expect(await err(bot.adopt(tr.profileId, actId))).toMatchObject({ code: 'conflict', message: expect.stringMatching(/already matches the exchange/) });
    expect((await rowOf(actId)).updated_at.getTime()).toBe(before.updated_at.getTime());
  });

  it('coins sold outside the app suspend the activation with the reason (bot.get, bot.updated); it cannot be resumed as it is', async () => {
    const events: { id: string; state: string; reason: string | null; reasonKey?: string | null; reasonParams?: Params | null }[] = [];
    const off = tr.bus.on((e) => {
      if (e.event === 'bot.updated') events.push(e.data as (typeof events)[number]);
    });
    const held = btcHeld();
    // the user sells 40% on the exchange's own site (another client, the same account)
    const outside = tr.gateway.create('binance', tr.credentials, false);
    await outside.loadMarkets();
    const sell = held.times(0.4).toDecimalPlaces(5, Decimal.ROUND_DOWN);
    await outside.createOrder(BTC, 'market', 'sell', sell.toNumber());
    const left = btcHeld();
    expect(left.lt(held)).toBe(true);

    const report = await bot.reconcile();
    expect(report.mismatched).toEqual([{ id: actId, reason: expect.stringMatching(/^Book mismatch: the exchange holds [\d.]+ BTC, less than this activation's position of [\d.]+ BTC/) }]);
    const g = await bot.get(tr.profileId, actId);
    expect(g.state).toBe('suspended');
    expect(g.reason).toBe(`Book mismatch: the exchange holds ${left.toFixed()} BTC, less than this activation's position of ${held.toFixed()} BTC — sold outside the app? Adopt the exchange's quantity, or close.`);
    expect(g.position!.amount).toBe(held.toFixed()); // the book itself is not changed behind the user's back
    // by key: the error's own key and parameters, worded in French by the renderer
    expect(g).toMatchObject({ reasonKey: 'errors.bot.bookMismatch', reasonParams: { have: left.toFixed(), own: held.toFixed(), base: 'BTC' } });
    expect(translate('en', g.reasonKey!, g.reasonParams as Params)).toBe(g.reason);
    expect(translate('fr', g.reasonKey!, g.reasonParams as Params)).toBe(`Écart de carnet : l'exchange détient ${frenchNumber(left.toFixed())} BTC, moins que la position de cette activation (${frenchNumber(held.toFixed())} BTC) — vendu hors de l'application ? Reprenez la quantité de l'exchange, ou clôturez.`);
    expect(events).toContainEqual({ id: actId, state: 'suspended', reason: g.reason, reasonKey: g.reasonKey, reasonParams: g.reasonParams });
    expect((await bot.decisions(tr.profileId, actId, 1))[0]).toMatchObject({ kind: 'reconcile', action: 'suspend', reason: g.reason, reasonKey: g.reasonKey, reasonParams: g.reasonParams });
    off();

    // resuming the mismatched book is refused and changes nothing
    expect(await err(bot.startActivation(tr.profileId, actId))).toMatchObject({ code: 'conflict', message: g.reason });
    expect(await bot.get(tr.profileId, actId)).toMatchObject({ state: 'suspended', reason: g.reason });
    // a second reconciliation journals nothing new
    const n = (await bot.decisions(tr.profileId, actId, 100)).length;
    await bot.reconcile();
    expect((await bot.decisions(tr.profileId, actId, 100)).length).toBe(n);
  });

  it("adopting the exchange's state makes the book consistent (journaled) and the activation resumable; bad adopts change nothing", async () => {
    const left = btcHeld();
    const before = await bot.get(tr.profileId, actId);
    const entryCost = async () => tdb.db.withProfile(tr.profileId, async (c) => (await c.query<{ entry_cost: Decimal }>('SELECT entry_cost FROM bot_activations WHERE id = $1', [actId])).rows[0]!.entry_cost);
    const costBefore = await entryCost();
    const adopted = await bot.adopt(tr.profileId, actId);
    expect(adopted.position!.amount).toBe(left.toFixed());
    expect(adopted.position!.entryPrice).toBe(before.position!.entryPrice);
    expect(adopted).toMatchObject({ state: 'suspended', reason: expect.stringMatching(/^adopted the exchange's state: position [\d.]+ → [\d.]+ BTC/) });
    const d = (await bot.decisions(tr.profileId, actId, 1))[0]!;
    expect(d).toMatchObject({ kind: 'adopt', action: 'adopt', status: 'done', reason: `adopted the exchange's state: position ${before.position!.amount} → ${left.toFixed()} BTC (the exchange holds ${left.toFixed()} BTC)` });
    expect(d).toMatchObject({ reasonKey: 'coreBot.decision.adopted', reasonParams: { own: before.position!.amount, next: left.toFixed(), have: left.toFixed(), base: 'BTC' } });
    expect(translate('fr', d.reasonKey!, d.reasonParams as Params)).toBe(`état de la plateforme adopté : position ${frenchNumber(before.position!.amount)} → ${frenchNumber(left.toFixed())} BTC (la plateforme détient ${frenchNumber(left.toFixed())} BTC)`);
    // the state reason nests the decision's: "…; resume when ready", in French too
    expect(adopted).toMatchObject({ reason: `${d.reason}; resume when ready`, reasonKey: 'coreBot.state.resumeWhenReady', reasonParams: { reason: { key: d.reasonKey, params: d.reasonParams } } });
    expect(translate('en', adopted.reasonKey!, adopted.reasonParams as Params)).toBe(adopted.reason);
    expect(translate('fr', adopted.reasonKey!, adopted.reasonParams as Params)).toBe(`${translate('fr', d.reasonKey!, d.reasonParams as Params)} ; reprenez quand vous serez prêt`);
    // the entry cost shrank in proportion: the book's P&L stays the trade's
    expect((await entryCost()).div(left).toDecimalPlaces(8).toFixed()).toBe(costBefore.div(before.position!.amount).toDecimalPlaces(8).toFixed());

    expect(await bot.reconcile()).toEqual({ mismatched: [], replayed: 0, unreadable: [] });
    expect(await bot.startActivation(tr.profileId, actId)).toMatchObject({ state: 'running', reason: null });
    // adopting again: nothing to adopt; an unknown id; an activation without a position
    const row = await rowOf(actId);
    expect(await err(bot.adopt(tr.profileId, actId))).toMatchObject({ code: 'conflict' });
    expect(await err(bot.adopt(tr.profileId, '00000000-0000-4000-8000-000000000000'))).toMatchObject({ code: 'not_found' });
    const flat = await bot.create(tr.profileId, { strategyId, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '100' });
    expect(await err(bot.adopt(tr.profileId, flat.id))).toMatchObject({ code: 'conflict', message: expect.stringMatching(/no open position/) });
    expect((await rowOf(actId)).updated_at.getTime()).toBe(row.updated_at.getTime());
    expect((await bot.decisions(tr.profileId, flat.id, 10))).toEqual([]);

    // closing works on the adopted book: exactly its amount (to the step) leaves the account
    const sold = await bot.sell(tr.profileId, actId);
    expect(sold.position).toBeNull();
    expect(btcHeld().toFixed()).toBe(left.minus(left.toDecimalPlaces(5, Decimal.ROUND_DOWN)).toFixed());
  });

  it('all coins sold outside the app: adopting closes the book (position 0)', async () => {
    const b = await bot.create(tr.profileId, { strategyId, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '300' });
    // give it a position by a replayed decision (as after a restart)
    const candle = Math.floor(now() / MIN) * MIN - 2 * MIN;
    const clientOrderId = botClientOrderId(b.id, 'signal', candle, 'open');
    await tdb.db.withProfile(tr.profileId, (c) =>
      c.query(`INSERT INTO bot_decisions (activation_id, kind, candle_time, action, reason, status, plan) VALUES ($1, 'signal', to_timestamp($2::float8 / 1000), 'open_long', 'shouldLong()', 'pending', $3::jsonb)`, [
        b.id,
        candle,
        JSON.stringify([{ leg: 'open', side: 'buy', cost: '200', clientOrderId, stopLoss: null, takeProfit: null }]),
      ]),
    );
    await bot.reconcile();
    const g = await bot.get(tr.profileId, b.id);
    expect(g.position).not.toBeNull();
    ex.setBalance(tr.credentials.apiKey, 'BTC', '0');
    expect((await bot.reconcile()).mismatched.map((m) => m.id)).toEqual([b.id]);
    const adopted = await bot.adopt(tr.profileId, b.id);
    expect(adopted.position).toBeNull();
    expect(adopted.reason).toMatch(new RegExp(`position ${g.position!.amount.replace('.', '\\.')} → 0 BTC`));
    expect(await bot.startActivation(tr.profileId, b.id)).toMatchObject({ state: 'running', position: null });
  });
});
