import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../shared/errors';
import { frenchNumber, translate, type Params } from '../shared/i18n';
import { floorToTimeframe } from '../shared/timeframes';
import type { HeartbeatSignal } from '../shared/contract/heartbeat';
import { BotEngine, botClientOrderId, toColumns } from '../electron/bot/engine';
import type { HeartbeatService } from '../electron/heartbeat/service';
import type { Kernel } from '../electron/kernel';
import { StrategyService } from '../electron/strategies/service';
import type { DirectTrading } from '../electron/trading/fixtures/direct';
import type { OrderService } from '../electron/trading/orders';
import type { ExchangeSim } from './sim/exchange/server';
import type { StreamSimulator } from './sim/stream/server';
import type { TestDb } from './support/db';
import { startLiveBot, type LiveBot } from './support/live-bot';

/**
 * The trading bot on live signals: the heartbeat on the stream simulator (its clock drives the
 * engine's), orders through the real order service and CCXT on the Binance REST simulator (whose
 * price follows the streamed candles' closes), the strategies from the templates in the sandbox.
 */

const MIN = 60_000;
const BTC = 'BTC/USDT';
// just after a 4h boundary with backfillHours 0: no history, the bot's windows and the backtest start at the same candle
const T0 = Date.UTC(2024, 2, 11, 0, 0, 30);

let live: LiveBot;
let tdb: TestDb;
let ex: ExchangeSim;
let stream: StreamSimulator;
let tr: DirectTrading;
let orders: OrderService;
let strategies: StrategyService;
let kernel: Kernel;
let hb: HeartbeatService;
let bot: BotEngine;
let signals: HeartbeatSignal[];

beforeAll(async () => {
  live = await startLiveBot({ startTime: T0, balances: { USDT: '10000', BTC: '0.5', ETH: '3' } });
  ({ tdb, ex, stream, tr, orders, hb, strategies, kernel, signals, bot } = live);
}, 60_000);

afterAll(async () => {
  await live?.close();
});

/** Advance the stream minute by minute; after each, wait for its 1m signal and for the bot. */
const run = (minutes: number) => live.run(minutes);
/** The app's bot restarted (the engine stopped, a new one started on the same parts). */
const restart = async () => (bot = await live.restart());

const err = async (p: Promise<unknown>) => p.then(() => null, (e: unknown) => (isAppError(e) ? { code: e.code, message: e.message } : { code: 'thrown', message: String(e) }));
const orderPosts = () => ex.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order');
/** A core sentence by key: its stored English is the English catalogue's; its French as the renderer words it. */
const french = (english: string | null | undefined, key: string | null | undefined, params: unknown) => {
  expect(key, `a key for "${english}"`).toEqual(expect.any(String));
  expect(translate('en', key!, (params ?? undefined) as Params | undefined)).toBe(english);
  return translate('fr', key!, (params ?? undefined) as Params | undefined);
};
const activations = () => tdb.db.withProfile(tr.profileId, async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM bot_activations')).rows[0]!.n);

let emaId: string;
let actA: string;

describe('the trading bot on live signals', () => {
  it('refuses bad input with invalid_input and creates nothing', async () => {
    emaId = (await strategies.create(tr.profileId, { name: 'EMA', template: 'ema-cross' })).id;
    const ok = { strategyId: emaId, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m' as const, budget: '1000' };
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['unknown symbol for the broker', { symbol: 'NOPE/USDT' }, /has no market NOPE\/USDT/],
      ['budget 0', { budget: '0' }, /more than 0/],
      ['budget above the free balance', { budget: '20000' }, /above the broker's free balance \(10000 USDT\)/],
      ['end before start', { from: '2024-03-12T00:00:00Z', to: '2024-03-11T00:00:00Z' }, /end must be after the start/],
      ['unknown version', { version: 9 }, /no version 9/],
      ['undeclared param', { params: { nope: 1 } }, /declares no param "nope"/],
      ['param out of range', { params: { fast: 1 } }, /fast must be at least 2/],
    ];
    for (const [name, change, msg] of cases) {
      const e = await err(bot.create(tr.profileId, { ...ok, ...change } as Parameters<BotEngine['create']>[1]));
      expect(e, name).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(msg) });
    }
    // a strategy that does not load (saved code cannot fail to compile; a version whose module throws at load can)
    const throwing = await strategies.create(tr.profileId, {
      name: 'Throws at load',
      code: `import { Strategy } from 'aristobot';\nthrow new Error('broken module');\nexport default class X extends Strategy { shouldLong() { return false; } shouldShort() { return false; } }\n`,
    });
    expect(await err(bot.create(tr.profileId, { ...ok, strategyId: throwing.id }))).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/does not load/) });
    expect(await activations()).toBe(0);
    expect(orderPosts()).toHaveLength(0);
  });

  it('an activation of a template trades on live signals; its decisions are those of a backtest of the same version on the same candles', async () => {
    const a = await bot.create(tr.profileId, { strategyId: emaId, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '1000', params: { fast: 3, slow: 8, stopLoss: 0.5 } });
    actA = a.id;
    expect(a).toMatchObject({ state: 'running', version: 1, position: null, realisedPnl: '0', budget: '1000' });
    await run(80);

    const decisions = (await bot.decisions(tr.profileId, a.id, 1000)).reverse();
    expect(decisions.length).toBe(80);
    expect(decisions.every((d) => d.status === 'done' && d.kind === 'signal')).toBe(true);
    const acted = decisions.filter((d) => d.action !== 'none');
    expect(acted.length).toBeGreaterThanOrEqual(2);
    // the decision rule's reasons by key: warm-up first, then which calls decided, in French too
    expect(decisions[0]).toMatchObject({ reason: expect.stringMatching(/^warm-up/), reasonKey: 'coreBot.why.warmup', reasonParams: { warmup: expect.any(Number), have: expect.any(Number) } });
    expect(french(decisions[0]!.reason, decisions[0]!.reasonKey, decisions[0]!.reasonParams)).toMatch(/^préchauffage \(il faut [\d\u202f]+ bougies avant la première décision, [\d\u202f]+ disponibles\)$/);
    for (const d of decisions) expect(french(d.reason, d.reasonKey, d.reasonParams)).not.toBe(d.reason);
    const opened = acted.find((d) => d.action === 'open_long')!;
    expect(opened).toMatchObject({ reason: 'shouldLong()', reasonKey: 'coreBot.why.shouldLong' });
    expect(french(opened.reason, opened.reasonKey, opened.reasonParams)).toBe('shouldLong() vrai');
    expect(decisions.some((d) => d.reasonKey === 'coreBot.why.longFalse' && translate('fr', d.reasonKey, d.reasonParams as Params) === 'shouldLong() faux')).toBe(true);

    // the backtest of the same version on the same stored candles (fills at the decision candle's close)
    await hb.whenStored();
    const candles = await hb.queryCandles({ exchange: 'binance', symbol: BTC, timeframe: '1m', from: floorToTimeframe(T0, '1m'), to: floorToTimeframe(stream.now(), '1m'), limit: 10_000 });
    expect(candles).toHaveLength(80);
    const v = await strategies.getVersion(tr.profileId, emaId, 1);
    const bt = await kernel.backtest({ js: v.js }, { fast: 3, slow: 8, stopLoss: 0.5 }, toColumns(candles), { initialBalance: 1000, fees: { maker: 0, taker: 0 }, slippageBps: 0, fillAt: 'close', allowShort: false, amountStep: 0, minAmount: 0, closeAtEnd: false });
    expect(acted.map((d) => [d.candleTime, d.action])).toEqual(bt.decisions.map((x) => [new Date(candles[x.index]!.openTime).toISOString(), x.action]));

    // its orders went to the exchange, its trades are those of the backtest, entries and exits at the candles' closes (± the spread)
    const trades = (await bot.trades(tr.profileId, a.id, 100)).reverse();
    expect(trades.length).toBe(bt.trades.length);
    expect(trades.length).toBeGreaterThanOrEqual(1);
    for (const [i, t] of trades.entries()) {
      expect(Math.abs(Number(t.entryPrice) - bt.trades[i]!.entryPrice)).toBeLessThan(1);
      expect(Math.abs(Number(t.exitPrice) - bt.trades[i]!.exitPrice)).toBeLessThan(1);
    }
    const placed = acted.filter((d) => d.orderIds.length > 0).length;
    expect(orderPosts()).toHaveLength(placed);
    const journaled = await orders.journal(tr.profileId, { source: 'strategy', limit: 1000 });
    expect(journaled.every((o) => o.source_ref === a.id && o.status === 'filled')).toBe(true);
    expect(journaled.map((o) => o.client_order_id).sort()).toEqual(acted.flatMap((d) => [botClientOrderId(a.id, 'signal', Date.parse(d.candleTime), d.action === 'open_long' ? 'open' : 'close')]).sort());
    // the book: realised P&L is the sum of its trades
    const now = await bot.get(tr.profileId, a.id);
    expect(now.realisedPnl).toBe(trades.reduce((s, t) => s.plus(t.pnl), new Decimal(0)).toFixed());
    expect(!!now.position).toBe(bt.exposure[bt.exposure.length - 1] === 1);
    // every decision with an order measured candle close → order request
    expect(decisions.filter((d) => d.orderIds.length > 0).every((d) => typeof d.latencyMs === 'number')).toBe(true);
  }, 120_000);

  it('a restart does not place a decision twice (same client order id; the candle is journaled once)', async () => {
    const posts = orderPosts().length;
    const last = (await bot.decisions(tr.profileId, actA, 1))[0]!;
    await restart();
    // the heartbeat delivering the same candle again (a repeat after a restart) is not decided again
    const again = signals.filter((s) => s.timeframe === '1m' && s.symbol === BTC).at(-1)!;
    (bot as unknown as { onSignal(s: HeartbeatSignal): void }).onSignal({ ...again });
    await bot.idle();
    expect((await bot.decisions(tr.profileId, actA, 1))[0]!.id).toBe(last.id);
    // and an order with a decision's client order id, asked again, answers the journaled one
    const journaled = (await orders.journal(tr.profileId, { source: 'strategy', limit: 1000 }))[0]!;
    const same = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: journaled.side, type: 'market', amount: '0.001', source: 'strategy', clientOrderId: journaled.client_order_id });
    expect(same.id).toBe(journaled.id);
    expect(orderPosts()).toHaveLength(posts);
  });

  it('a crash after the order went out but before the book: the restart replays the leg with the same client order id, never a second order', async () => {
    const always = await strategies.create(tr.profileId, {
      name: 'Replayed',
      code: `import { Strategy } from 'aristobot';\nexport default class Replayed extends Strategy {\n  static warmup = 1;\n  shouldLong() { return false; }\n  shouldShort() { return false; }\n}\n`,
    });
    const z = await bot.create(tr.profileId, { strategyId: always.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '100' });
    const candle = floorToTimeframe(stream.now(), '1m') - MIN;
    const clientOrderId = botClientOrderId(z.id, 'signal', candle, 'open');
    // what the dead process left: the decision journaled with its plan, the order placed, the book not updated
    await tdb.db.withProfile(tr.profileId, (c) =>
      c.query(`INSERT INTO bot_decisions (activation_id, kind, candle_time, action, reason, status, plan) VALUES ($1, 'signal', to_timestamp($2::float8 / 1000), 'open_long', 'shouldLong()', 'pending', $3::jsonb)`, [
        z.id,
        candle,
        JSON.stringify([{ leg: 'open', side: 'buy', cost: '50', clientOrderId, stopLoss: null, takeProfit: null }]),
      ]),
    );
    const placed = await orders.place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'buy', type: 'market', cost: '50', source: 'strategy', sourceRef: z.id, clientOrderId });
    const posts = orderPosts().length;
    await restart();
    await bot.idle();
    expect(orderPosts()).toHaveLength(posts);
    const d = (await bot.decisions(tr.profileId, z.id, 10)).find((x) => x.candleTime === new Date(candle).toISOString())!;
    expect(d).toMatchObject({ status: 'done', orderIds: [placed.id] });
    // a row written without a key (as before migration 0020) keeps its English, with no key: the page shows that English
    expect(d).toMatchObject({ reason: 'shouldLong()', reasonKey: null, reasonParams: null });
    const g = await bot.get(tr.profileId, z.id);
    expect(g.position).toMatchObject({ side: 'long', entryPrice: placed.average_price!.toFixed() });
    const net = placed.fee_currency === 'BTC' ? placed.filled.minus(placed.fee!) : placed.filled;
    expect(g.position!.amount).toBe(net.toFixed());
    await bot.stopActivation(tr.profileId, z.id, true);
    expect(orderPosts()).toHaveLength(posts + 1);
  });

  it('two activations on one symbol keep their own books; Sell closes one only; a throwing strategy errors its own activation only', async () => {
    const always = await strategies.create(tr.profileId, {
      name: 'Always long',
      code: `import { Strategy } from 'aristobot';\nexport default class AlwaysLong extends Strategy {\n  static warmup = 1;\n  shouldLong() { return true; }\n  shouldShort() { return false; }\n  calculatePositionSize() { return 0.5; }\n  calculateStopLoss() { return null; }\n  calculateTakeProfit() { return null; }\n}\n`,
    });
    const thrower = await strategies.create(tr.profileId, {
      name: 'Thrower',
      code: `import { Strategy } from 'aristobot';\nexport default class Thrower extends Strategy {\n  shouldLong(): boolean {\n    throw new Error('boom in shouldLong');\n  }\n  shouldShort() { return false; }\n  static warmup = 1;\n}\n`,
    });
    const b = await bot.create(tr.profileId, { strategyId: always.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '200' });
    const c = await bot.create(tr.profileId, { strategyId: always.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '400' });
    const x = await bot.create(tr.profileId, { strategyId: thrower.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '100' });
    await run(2);
    const [gb, gc, gx] = [await bot.get(tr.profileId, b.id), await bot.get(tr.profileId, c.id), await bot.get(tr.profileId, x.id)];
    expect(gx).toMatchObject({ state: 'error', reason: expect.stringMatching(/boom in shouldLong.*line 4/), reasonKey: expect.stringMatching(/^errors\.kernel\./) });
    // the strategy's own words stay as they are inside the French sentence
    const frError = french(gx.reason, gx.reasonKey, gx.reasonParams);
    expect(frError).toMatch(/boom in shouldLong/);
    expect(frError).not.toBe(gx.reason);
    const failed = (await bot.decisions(tr.profileId, x.id, 1))[0]!;
    expect(failed).toMatchObject({ reason: 'the strategy failed', reasonKey: 'coreBot.decision.strategyFailed', status: 'error', error: gx.reason, errorKey: gx.reasonKey, errorParams: gx.reasonParams });
    expect(french(failed.reason, failed.reasonKey, failed.reasonParams)).toBe('la stratégie a échoué');
    expect(gb.state).toBe('running');
    expect(gc.state).toBe('running');
    // each bought with half of its own budget
    const spentB = new Decimal(gb.position!.amount).times(gb.position!.entryPrice!);
    const spentC = new Decimal(gc.position!.amount).times(gc.position!.entryPrice!);
    expect(spentB.toNumber()).toBeGreaterThan(90);
    expect(spentB.toNumber()).toBeLessThanOrEqual(100);
    expect(spentC.toNumber()).toBeGreaterThan(180);
    expect(spentC.toNumber()).toBeLessThanOrEqual(200);

    const btcBefore = new Decimal(ex.balances(tr.credentials.apiKey).BTC!.free);
    const sold = await bot.sell(tr.profileId, b.id);
    expect(sold.position).toBeNull();
    expect(sold.state).toBe('running');
    const btcAfter = new Decimal(ex.balances(tr.credentials.apiKey).BTC!.free);
    // exactly b's amount (to the step) left the account; c's position is untouched
    expect(btcBefore.minus(btcAfter).toFixed()).toBe(new Decimal(gb.position!.amount).toDecimalPlaces(5, Decimal.ROUND_DOWN).toFixed());
    expect((await bot.get(tr.profileId, c.id)).position).toEqual(gc.position);
    expect((await bot.trades(tr.profileId, b.id))[0]).toMatchObject({ exitReason: 'sell' });
    const sale = (await bot.decisions(tr.profileId, b.id, 1))[0]!;
    expect(sale).toMatchObject({ kind: 'sell', reason: 'sold by the user', reasonKey: 'coreBot.decision.soldByUser' });
    expect(french(sale.reason, sale.reasonKey, sale.reasonParams)).toBe("vendu par l'utilisateur");
    expect(await bot.trades(tr.profileId, c.id)).toEqual([]);
    await bot.stopActivation(tr.profileId, x.id, false);

    // Suspend: no decisions; Resume: decisions again
    const suspended = await bot.suspendActivation(tr.profileId, c.id);
    expect(french(suspended.reason, suspended.reasonKey, suspended.reasonParams)).toBe("suspendue par l'utilisateur");
    const before = (await bot.decisions(tr.profileId, c.id, 1000)).length;
    await run(1);
    expect((await bot.decisions(tr.profileId, c.id, 1000)).length).toBe(before);
    expect(await bot.startActivation(tr.profileId, c.id)).toMatchObject({ state: 'running', reason: null, reasonKey: null, reasonParams: null });
    await run(1);
    expect((await bot.decisions(tr.profileId, c.id, 1000)).length).toBe(before + 1);

    // Stop with close: the position is sold; Stop with keep: it stays on the account, recorded
    const stopped = await bot.stopActivation(tr.profileId, c.id, true);
    expect(stopped).toMatchObject({ state: 'stopped', position: null });
    expect((await bot.trades(tr.profileId, c.id))[0]).toMatchObject({ exitReason: 'stop' });
    await run(1); // b re-opened (always long)
    const gb2 = await bot.get(tr.profileId, b.id);
    expect(gb2.position).not.toBeNull();
    const btc = new Decimal(ex.balances(tr.credentials.apiKey).BTC!.free);
    const kept = await bot.stopActivation(tr.profileId, b.id, false);
    expect(kept).toMatchObject({ state: 'stopped', position: gb2.position, reason: expect.stringMatching(/left on the account/), reasonKey: 'coreBot.state.stoppedLeft' });
    expect(french(kept.reason, kept.reasonKey, kept.reasonParams)).toBe("arrêtée par l'utilisateur ; la position a été laissée sur le compte");
    expect(new Decimal(ex.balances(tr.credentials.apiKey).BTC!.free).toFixed()).toBe(btc.toFixed());
  }, 60_000);

  it('a runaway strategy goes to error (CPU limit) while another activation on the symbol trades', async () => {
    const runaway = await strategies.create(tr.profileId, {
      name: 'Runaway',
      code: `import { Strategy } from 'aristobot';\nexport default class Runaway extends Strategy {\n  static warmup = 1;\n  shouldLong(): boolean {\n    for (;;) {}\n  }\n  shouldShort() { return false; }\n}\n`,
    });
    const always = (await strategies.list(tr.profileId)).find((s) => s.name === 'Always long')!;
    const r = await bot.create(tr.profileId, { strategyId: runaway.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '100' });
    const q = await bot.create(tr.profileId, { strategyId: always.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '100' });
    await run(1);
    expect(await bot.get(tr.profileId, r.id)).toMatchObject({ state: 'error', reason: expect.stringMatching(/CPU limit/) });
    expect((await bot.decisions(tr.profileId, r.id, 1))[0]).toMatchObject({ action: 'error', status: 'error' });
    const gq = await bot.get(tr.profileId, q.id);
    expect(gq.state).toBe('running');
    expect(gq.position).not.toBeNull();
    await bot.stopActivation(tr.profileId, q.id, true);
    await bot.stopActivation(tr.profileId, r.id, false);
  }, 60_000);

  it('engine off: no new trades on signals, stop-loss still executed; the switch is remembered', async () => {
    const tight = await strategies.create(tr.profileId, {
      name: 'Long with a tight stop',
      code: `import { Strategy } from 'aristobot';\nexport default class Tight extends Strategy {\n  static warmup = 1;\n  shouldLong() { return true; }\n  shouldShort() { return false; }\n  calculatePositionSize() { return 1; }\n  calculateStopLoss() { return 0.00001; }\n  calculateTakeProfit() { return null; }\n}\n`,
    });
    const t = await bot.create(tr.profileId, { strategyId: tight.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '3m', budget: '300' });
    await bot.stopActivation(tr.profileId, actA, true);
    // wait for the 3m candle that opens the position
    for (let i = 0; i < 4 && !(await bot.get(tr.profileId, t.id)).position; i++) await run(1);
    expect((await bot.get(tr.profileId, t.id)).position).not.toBeNull();
    const off = await bot.engineSet(tr.profileId, false);
    expect(off).toMatchObject({ running: false, note: expect.stringMatching(/still executed/), noteKey: 'coreBot.engine.off' });
    expect(french(off.note, off.noteKey, {})).toMatch(/restent exécutés/);
    // a restarted engine remembers the switch
    await restart();
    expect((await bot.engineGet(tr.profileId)).running).toBe(false);
    const posts = orderPosts().length;
    // the next 1m candle's low is under a stop 0.001% below the entry: sold at market, engine off or not
    for (let i = 0; i < 5 && (await bot.get(tr.profileId, t.id)).position; i++) await run(1);
    const after = await bot.get(tr.profileId, t.id);
    expect(after.position).toBeNull();
    expect((await bot.trades(tr.profileId, t.id))[0]).toMatchObject({ exitReason: 'stop_loss' });
    const stop = (await bot.decisions(tr.profileId, t.id, 20)).find((d) => d.kind === 'stop_loss')!;
    expect(stop).toMatchObject({ reason: expect.stringMatching(/^stop-loss \S+ reached \(1m candle low/), reasonKey: 'coreBot.decision.stopLossReached', reasonParams: { level: expect.any(String), low: expect.any(String), high: expect.any(String) } });
    expect(french(stop.reason, stop.reasonKey, stop.reasonParams)).toBe(`stop-loss ${frenchNumber(String(stop.reasonParams!.level))} atteint (bougie 1m : plus bas ${frenchNumber(String(stop.reasonParams!.low))}, plus haut ${frenchNumber(String(stop.reasonParams!.high))})`);
    expect(orderPosts()).toHaveLength(posts + 1);
    // and no new position on the next 3m signals while off
    await run(6);
    expect((await bot.get(tr.profileId, t.id)).position).toBeNull();
    expect(orderPosts()).toHaveLength(posts + 1);
    const engineOff = (await bot.decisions(tr.profileId, t.id, 3)).find((d) => d.reason === 'engine off')!;
    expect(engineOff).toMatchObject({ reasonKey: 'coreBot.decision.engineOff' });
    expect(french(engineOff.reason, engineOff.reasonKey, engineOff.reasonParams)).toBe('moteur arrêté');
    await bot.engineSet(tr.profileId, true);
  }, 60_000);

  it('end date reached: the position is closed at market and the activation stops', async () => {
    const always = (await strategies.list(tr.profileId)).find((s) => s.name === 'Always long')!;
    const to = floorToTimeframe(stream.now(), '1m') + 2 * MIN + 30_000;
    const e = await bot.create(tr.profileId, { strategyId: always.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '100', to });
    await run(1);
    expect((await bot.get(tr.profileId, e.id)).position).not.toBeNull();
    await run(2);
    const ended = await bot.get(tr.profileId, e.id);
    expect(ended).toMatchObject({ state: 'stopped', position: null, reason: expect.stringMatching(/end date reached; the position was closed/), reasonKey: 'coreBot.state.endReachedClosed' });
    expect(french(ended.reason, ended.reasonKey, ended.reasonParams)).toBe('date de fin atteinte ; la position a été clôturée');
    expect(await bot.trades(tr.profileId, e.id)).toEqual([expect.objectContaining({ exitReason: 'stop' })]);
    expect(await err(bot.startActivation(tr.profileId, e.id))).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/end date/) });
  }, 60_000);
});
