import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotEngine } from '../electron/bot/engine';
import { StrategyService } from '../electron/strategies/service';
import type { DirectTrading } from '../electron/trading/fixtures/direct';
import { toOrderDto, type OrderRow } from '../electron/trading/journal';
import type { ExchangeSim } from './sim/exchange/server';
import type { TestDb } from './support/db';
import { startLiveBot, type LiveBot } from './support/live-bot';

/**
 * A bot activation trading on a PAPER broker end to end: the heartbeat on the stream simulator, the
 * engine unchanged, orders through the order service onto the paper exchange (prices from the
 * Binance simulator's public ticker, which follows the streamed closes). Nothing reaches the
 * exchange's private API; the journal rows are mode paper; the book matches the paper fills.
 */

const BTC = 'BTC/USDT';
const T0 = Date.UTC(2024, 2, 11, 0, 0, 30);

let live: LiveBot;
let tdb: TestDb;
let ex: ExchangeSim;
let tr: DirectTrading;
let strategies: StrategyService;
let bot: BotEngine;

beforeAll(async () => {
  live = await startLiveBot({ startTime: T0 });
  ({ tdb, ex, tr, strategies, bot } = live);
}, 60_000);
afterAll(async () => {
  await live?.close();
});

const run = (minutes: number) => live.run(minutes);

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
