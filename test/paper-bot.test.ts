import { resolve } from 'node:path';
import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorToTimeframe } from '../shared/timeframes';
import type { HeartbeatSignal } from '../shared/contract/heartbeat';
import { BotEngine } from '../electron/bot/engine';
import { HeartbeatService } from '../electron/heartbeat/service';
import { Kernel } from '../electron/kernel';
import { silentLogger } from '../electron/log';
import { StrategyService } from '../electron/strategies/service';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { toOrderDto, type OrderRow } from '../electron/trading/journal';
import type { OrderService } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { StreamSimulator } from './sim/stream/server';
import { waitFor } from './sim/stream/wait';
import { createTestDb, type TestDb } from './support/db';

/**
 * A bot activation trading on a PAPER broker end to end: the heartbeat on the stream simulator, the
 * engine unchanged, orders through the order service onto the paper exchange (prices from the
 * Binance simulator's public ticker, which follows the streamed closes). Nothing reaches the
 * exchange's private API; the journal rows are mode paper; the book matches the paper fills.
 */

const MIN = 60_000;
const BTC = 'BTC/USDT';
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

beforeAll(async () => {
  tdb = await createTestDb();
  ex = await startExchangeSim();
  tr = await directTrading(tdb.db, ex.url, generateCredentials());
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
  bot = new BotEngine({ db: tdb.db, bus: tr.bus, log, heartbeat: hb, orders, brokers: tr.brokers, strategies, kernel, clock: { now: () => stream.now() } });
  await bot.start();
}, 60_000);
afterAll(async () => {
  await bot?.stop();
  kernel?.dispose();
  await hb?.stop();
  await stream?.close();
  await ex?.close();
  await tdb?.close();
});

async function run(minutes: number): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    stream.advance(MIN);
    const last = floorToTimeframe(stream.now(), '1m') - MIN;
    await waitFor(() => signals.some((s) => s.timeframe === '1m' && s.symbol === BTC && s.openTime === last), `the 1m signal of ${new Date(last).toISOString()}`, 8000);
    await bot.idle();
  }
}

describe('a bot activation on a paper broker', () => {
  it('opens on a signal and closes on Sell, on the paper account, at the live prices', async () => {
    const paper = await tr.brokers.createPaper(tr.profileId, { name: 'Paper', exchange: 'binance', balances: { USDT: '5000' } });
    const always = await strategies.create(tr.profileId, {
      name: 'Always long',
      code: `import { Strategy } from 'aristobot';\nexport default class AlwaysLong extends Strategy {\n  static warmup = 1;\n  shouldLong() { return true; }\n  shouldShort() { return false; }\n  calculatePositionSize() { return 0.5; }\n  calculateStopLoss() { return null; }\n  calculateTakeProfit() { return null; }\n}\n`,
    });
    const a = await bot.create(tr.profileId, { strategyId: always.id, brokerId: paper.id, symbol: BTC, timeframe: '1m', budget: '1000' });
    await run(3);
    const opened = await bot.get(tr.profileId, a.id);
    expect(opened.position).toMatchObject({ side: 'long' });
    await bot.sell(tr.profileId, a.id);
    await bot.idle();
    const after = await bot.get(tr.profileId, a.id);
    expect(after.position).toBeNull();
    const [trade] = await bot.trades(tr.profileId, a.id);
    expect(trade).toBeDefined();

    const rows = await tdb.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>("SELECT * FROM orders WHERE broker_id = $1 AND status = 'filled' ORDER BY created_at", [paper.id])).rows);
    expect(rows.map((r) => [r.side, r.source, toOrderDto(r).mode])).toEqual([['buy', 'strategy', 'paper'], ['sell', 'strategy', 'paper']]);
    // the book is the paper fills: entry at the paper buy's price, the trade's amount what the sell sold
    expect(trade!.entryPrice).toBe(rows[0]!.average_price!.toFixed());
    expect(trade!.exitPrice).toBe(rows[1]!.average_price!.toFixed());
    expect(trade!.amount).toBe(rows[1]!.filled.toFixed());
    // the paper account moved; the exchange saw no private request at all
    const { ex: pex } = await tr.brokers.exchangeFor(tr.profileId, paper.id);
    const bal = await pex.fetchBalance();
    const usdt = new Decimal(String((bal.total as unknown as Record<string, number>).USDT));
    expect(usdt.eq(5000)).toBe(false);
    // USDT: − the buy's cost + the sell's proceeds − the sell's fee (in USDT; the buy's fee was in BTC)
    const [buy, sell] = rows as [OrderRow, OrderRow];
    expect(buy.fee_currency).toBe('BTC');
    expect(sell.fee_currency).toBe('USDT');
    expect(usdt.minus(5000).toFixed()).toBe(sell.cost!.minus(sell.fee!).minus(buy.cost!).toFixed());
    expect(ex.requestLog.filter((r) => ['/api/v3/order', '/api/v3/account', '/api/v3/myTrades', '/api/v3/openOrders'].includes(r.path))).toEqual([]);
  });
});
