import { resolve } from 'node:path';
import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translate, type Params } from '../shared/i18n';
import { floorToTimeframe } from '../shared/timeframes';
import type { HeartbeatSignal } from '../shared/contract/heartbeat';
import { BotEngine } from '../electron/bot/engine';
import { BotProtection } from '../electron/bot/protection';
import { HeartbeatService } from '../electron/heartbeat/service';
import { Kernel } from '../electron/kernel';
import { silentLogger } from '../electron/log';
import { StrategyService } from '../electron/strategies/service';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import type { OrderService } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { StreamSimulator } from './sim/stream/server';
import { waitFor } from './sim/stream/wait';
import { createTestDb, type TestDb } from './support/db';

/**
 * The trading bot's native stop-loss / take-profit end to end (the app's default): the engine with
 * its BotProtection on the heartbeat (stream simulator), the real order service and CCXT on the
 * Binance REST simulator, which holds the OCO pair and executes a leg when its price crosses.
 * - after the open fill the pair rests at the exchange and the activation says 'native';
 * - the exchange executes the stop while the engine is off: the reconcile pass books it as the
 *   close (no new order sent), and the locked coins never read as a book mismatch;
 * - Sell and Stop (keep) cancel the pair first; a pair cancelled outside the app → watched again.
 */

const MIN = 60_000;
const BTC = 'BTC/USDT';
// just after a 4h boundary with backfillHours 0: no history, the bot's windows and the backtest start at the same candle
const T0 = Date.UTC(2024, 2, 11, 0, 0, 30);

let tdb: TestDb;
let ex: ExchangeSim;
let stream: StreamSimulator;
let tr: DirectTrading;
let orders: OrderService;
let hb: HeartbeatService;
let strategies: StrategyService;
let kernel: Kernel;
let bot: BotEngine;
const signals: HeartbeatSignal[] = [];

const log = silentLogger();

function newBot(): BotEngine {
  return new BotEngine({ db: tdb.db, bus: tr.bus, log, heartbeat: hb, orders, brokers: tr.brokers, strategies, kernel, clock: { now: () => stream.now() }, protection: new BotProtection(orders, tdb.db, log) });
}

beforeAll(async () => {
  tdb = await createTestDb();
  ex = await startExchangeSim();
  const creds = generateCredentials();
  ex.addAccount({ ...creds, balances: { USDT: '10000', BTC: '0.5', ETH: '3' } });
  tr = await directTrading(tdb.db, ex.url, creds);
  orders = tr.service();
  stream = await StreamSimulator.start({ startTime: T0 });
  hb = new HeartbeatService({
    db: tdb.db,
    log,
    emit: () => undefined,
    markets: async () => stream.markets(),
    clock: { now: () => stream.now() },
    config: { wsUrl: stream.wsUrl, restUrl: stream.restUrl, backfillHours: 0, silenceMs: 5000, gapGraceMs: 100, restSettleMs: 0, restTimeoutMs: 2000 },
  });
  // the exchange's price follows the stream: each closed minute's close (registered before the bot)
  hb.onSignal((s) => {
    signals.push(s);
    if (s.timeframe === '1m') ex.series.setPrice(s.symbol, s.candle.close);
  });
  strategies = new StrategyService({ db: tdb.db, templatesDir: resolve(import.meta.dirname, '../resources/strategies') });
  kernel = new Kernel();
  await hb.start();
  await waitFor(() => hb.status().connected && !hb.status().backfilling, 'heartbeat connected', 10_000);
  bot = newBot();
  await bot.start();
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await strategies?.stop();
  kernel?.dispose();
  await hb?.stop();
  await stream?.close();
  await ex?.close();
  await tdb?.close();
});

/** Advance the stream minute by minute; after each, wait for its 1m signal and for the bot. */
async function run(minutes: number): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    stream.advance(MIN);
    const last = floorToTimeframe(stream.now(), '1m') - MIN;
    await waitFor(() => signals.some((s) => s.timeframe === '1m' && s.symbol === BTC && s.openTime === last), `the 1m signal of ${new Date(last).toISOString()}`, 8000);
    await bot.idle();
  }
}

const orderPosts = () => ex.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order');
/** A core sentence by key: its stored English is the English catalogue's; its French as the renderer words it. */
const french = (english: string | null | undefined, key: string | null | undefined, params: unknown) => {
  expect(key, `a key for "${english}"`).toEqual(expect.any(String));
  expect(translate('en', key!, (params ?? undefined) as Params | undefined)).toBe(english);
  return translate('fr', key!, (params ?? undefined) as Params | undefined);
};


const STRATEGY = `import { Strategy } from 'aristobot';
export default class Guarded extends Strategy {
  static warmup = 1;
  shouldLong() { return true; }
  shouldShort() { return false; }
  calculatePositionSize() { return 1; }
  calculateStopLoss() { return 0.1; }
  calculateTakeProfit() { return 0.1; }
}
`;
const resting = () => ex.orders(tr.credentials.apiKey).filter((o) => o.type !== 'MARKET' && o.status === 'NEW');
const btcBalance = () => ex.balances(tr.credentials.apiKey).BTC ?? { free: '0', locked: '0' };

describe('the bot with native stop-loss / take-profit', () => {
  let id: string;

  /** Runs minutes until the activation holds a position, and returns it. */
  async function opened() {
    for (let i = 0; i < 4 && !(await bot.get(tr.profileId, id)).position; i++) await run(1);
    const a = await bot.get(tr.profileId, id);
    expect(a.position, 'a position opened').not.toBeNull();
    return a;
  }

  it('after the open fill the pair rests at the exchange, the coins locked; the activation says native; reconcile sees no mismatch', async () => {
    const s = await strategies.create(tr.profileId, { name: 'Guarded', code: STRATEGY });
    id = (await bot.create(tr.profileId, { strategyId: s.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '300' })).id;
    const a = await opened();
    expect(a.position).toMatchObject({ protection: 'native' });
    const entry = new Decimal(a.position!.entryPrice!);
    expect(new Decimal(a.position!.stopLoss!).toNumber()).toBeCloseTo(entry.times(0.9).toNumber(), 0);
    const legs = resting();
    expect(legs.map((o) => o.side).sort()).toEqual(['SELL', 'SELL']);
    // each leg sells the position rounded down to the market's lot step (the dust below a step stays)
    const amount = new Decimal(a.position!.amount);
    for (const o of legs) expect(amount.minus(o.origQty).gte(0) && amount.minus(o.origQty).lt('0.0001'), `${o.origQty} for ${amount.toFixed()}`).toBe(true);
    expect(new Decimal(btcBalance().locked).toFixed()).toBe(new Decimal(legs[0]!.origQty).toFixed()); // one OCO list locks once
    // quiet minutes: the pair is not asked on the signal path (no level reached), and stays
    const gets = ex.requestLog.length;
    await run(2);
    expect(ex.requestLog.slice(gets).filter((r) => r.path.startsWith('/api/v3/order')), 'no order request on quiet minutes').toHaveLength(0);
    expect(resting()).toHaveLength(2);
    const report = await bot.reconcile();
    expect(report.mismatched).toEqual([]);
    expect(await bot.get(tr.profileId, id)).toMatchObject({ state: 'running', position: { protection: 'native' } });
  }, 90_000);

  it('the exchange executes the stop while the engine is off: booked as the close by the reconcile pass, with no order of its own', async () => {
    await bot.engineSet(tr.profileId, false);
    const a = await bot.get(tr.profileId, id);
    const sl = new Decimal(a.position!.stopLoss!);
    const posts = orderPosts().length;
    ex.series.setPrice(BTC, sl.minus(100).toFixed());
    ex.tick();
    expect(resting()).toHaveLength(0); // one leg executed, the other expired
    const report = await bot.reconcile();
    expect(report.mismatched).toEqual([]);
    const after = await bot.get(tr.profileId, id);
    expect(after).toMatchObject({ state: 'running', position: null });
    const trade = (await bot.trades(tr.profileId, id))[0]!;
    expect(trade).toMatchObject({ exitReason: 'stop_loss' });
    const d = (await bot.decisions(tr.profileId, id, 20)).find((x) => x.kind === 'stop_loss')!;
    expect(d).toMatchObject({ status: 'done', reasonKey: 'coreBot.decision.stopLossNative' });
    expect(french(d.reason, d.reasonKey, d.reasonParams)).toMatch(/stop-loss/i);
    expect(orderPosts(), 'the executed leg is booked, not sent again').toHaveLength(posts);
    // engine off: no new position on the next signals
    await run(2);
    expect((await bot.get(tr.profileId, id)).position).toBeNull();
    await bot.engineSet(tr.profileId, true);
  }, 90_000);

  it('Sell cancels the pair first, then sells at market', async () => {
    const a = await opened();
    expect(a.position).toMatchObject({ protection: 'native' });
    expect(resting()).toHaveLength(2);
    const sold = await bot.sell(tr.profileId, id);
    expect(sold.position).toBeNull();
    expect(resting()).toHaveLength(0);
    expect((await bot.trades(tr.profileId, id))[0]).toMatchObject({ exitReason: 'sell' });
  }, 90_000);

  it('a pair cancelled outside the app: the reconcile pass says so and the engine watches the levels again', async () => {
    const a = await opened();
    expect(a.position).toMatchObject({ protection: 'native' });
    // the user cancels the pair at the exchange (its own client, not the app)
    expect(ex.cancelAllOpen(tr.credentials.apiKey, BTC)).toBeGreaterThan(0);
    expect(resting()).toHaveLength(0);
    await bot.reconcile();
    expect(await bot.get(tr.profileId, id)).toMatchObject({ state: 'running', position: { protection: 'engine' } });
  }, 90_000);

  it('Stop, keeping the position: the pair is cancelled and the coins are free on the account', async () => {
    await bot.sell(tr.profileId, id);
    const a = await opened();
    expect(a.position).toMatchObject({ protection: 'native' });
    const stopped = await bot.stopActivation(tr.profileId, id, false);
    expect(stopped).toMatchObject({ state: 'stopped', reasonKey: 'coreBot.state.stoppedLeft' });
    expect(resting()).toHaveLength(0);
    expect(new Decimal(btcBalance().locked).toFixed()).toBe('0');
    expect(new Decimal(btcBalance().free).gte(a.position!.amount)).toBe(true);
  }, 90_000);
});
