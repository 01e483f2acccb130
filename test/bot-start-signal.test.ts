import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorToTimeframe } from '../shared/timeframes';
import type { HeartbeatSignal } from '../shared/contract/heartbeat';
import { BotEngine } from '../electron/bot/engine';
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
 * A heartbeat signal that goes out while the app starts, before the bot engine listens, is not
 * lost: at start each running activation decides its latest closed candle when it is at most one
 * timeframe old and not decided yet — once (a restart, or the live signal of the same candle,
 * places nothing again), never late. The heartbeat on the stream simulator, orders through CCXT
 * on the Binance REST simulator.
 */

const MIN = 60_000;
const BTC = 'BTC/USDT';
const T0 = Date.UTC(2024, 2, 11, 0, 0, 30);
// flips every minute: each candle's decision opens or closes, so each decision is an order
const FLIP = `import { Strategy } from 'aristobot';
export default class Flip extends Strategy {
  static warmup = 1;
  shouldLong() { return Math.floor(this.time[this.i] / 60000) % 2 === 0; }
  shouldShort() { return false; }
  shouldExit() { return Math.floor(this.time[this.i] / 60000) % 2 === 1; }
  calculatePositionSize() { return 0.1; }
}
`;

let tdb: TestDb;
let ex: ExchangeSim;
let stream: StreamSimulator;
let tr: DirectTrading;
let orders: OrderService;
let hb: HeartbeatService;
let strategies: StrategyService;
let kernel: Kernel;
const signals: HeartbeatSignal[] = [];
const log = silentLogger();

const newBot = (aheadMs = 0) => new BotEngine({ db: tdb.db, bus: tr.bus, log, heartbeat: hb, orders, brokers: tr.brokers, strategies, kernel, clock: { now: () => stream.now() + aheadMs } });
const orderPosts = () => ex.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order');
const decisionsOf = (candle: number) =>
  tdb.db.withProfile(tr.profileId, async (c) => (await c.query<{ action: string; plan: unknown[]; legs_done: number }>("SELECT action, plan, legs_done FROM bot_decisions WHERE kind = 'signal' AND candle_time = $1", [new Date(candle)])).rows);

async function minute(): Promise<number> {
  stream.advance(MIN);
  const last = floorToTimeframe(stream.now(), '1m') - MIN;
  await waitFor(() => signals.some((s) => s.timeframe === '1m' && s.symbol === BTC && s.openTime === last), `the 1m signal of ${new Date(last).toISOString()}`, 8000);
  return last;
}

beforeAll(async () => {
  tdb = await createTestDb();
  ex = await startExchangeSim();
  const creds = generateCredentials();
  ex.addAccount({ ...creds, balances: { USDT: '10000' } });
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
  hb.onSignal((s) => {
    signals.push(s);
    if (s.timeframe === '1m') ex.series.setPrice(s.symbol, s.candle.close);
  });
  strategies = new StrategyService({ db: tdb.db, templatesDir: resolve(import.meta.dirname, '../resources/strategies') });
  kernel = new Kernel();
  await hb.start();
  await waitFor(() => hb.status().connected && !hb.status().backfilling, 'heartbeat connected', 10_000);
}, 60_000);

afterAll(async () => {
  await strategies?.stop();
  kernel?.dispose();
  await hb?.stop();
  await stream?.close();
  await ex?.close();
  await tdb?.close();
});

describe('a signal before the engine listens', () => {
  it('is taken up at start, once; a candle older than one timeframe is not', { timeout: 120_000 }, async () => {
    const s = await strategies.create(tr.profileId, { name: 'Flip', code: FLIP });
    let bot = newBot();
    await bot.start();
    await bot.create(tr.profileId, { strategyId: s.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '1000' });
    for (let i = 0; i < 3; i++) {
      await minute();
      await bot.idle();
    }
    await bot.stop();
    const before = orderPosts().length;
    expect(before).toBeGreaterThan(0);

    // the app restarts: the heartbeat's signal goes out before the engine subscribes
    const missed = await minute();
    expect(await decisionsOf(missed)).toHaveLength(0);
    bot = newBot();
    await bot.start();
    await bot.idle();
    const d = await decisionsOf(missed);
    expect(d).toHaveLength(1);
    expect(d[0]!.plan).toHaveLength(1);
    expect(d[0]!.legs_done).toBe(1);
    expect(orderPosts()).toHaveLength(before + 1);

    // a second restart: decided before, nothing placed again
    await bot.stop();
    bot = newBot();
    await bot.start();
    await bot.idle();
    expect(await decisionsOf(missed)).toHaveLength(1);
    expect(orderPosts()).toHaveLength(before + 1);
    await bot.stop();

    // missed again, but the engine starts more than one timeframe after that candle closed: not acted on
    const late = await minute();
    bot = newBot(2 * MIN);
    await bot.start();
    await bot.idle();
    expect(await decisionsOf(late)).toHaveLength(0);
    expect(orderPosts()).toHaveLength(before + 1);
    await bot.stop();
  });
});
