import Decimal from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorToTimeframe } from '../shared/timeframes';
import type { RequestLogEntry } from './sim/exchange/server';
import { waitFor } from './sim/stream/wait';
import { startLiveBot, type LiveBot } from './support/live-bot';

/**
 * The bot's market orders leave for the exchange without the order service's REST reads: the
 * engine hands over the close of the candle it decided on and its cached free balance
 * (`PlaceRequest.known`). Real parts (test/support/live-bot.ts): the heartbeat on the stream
 * simulator, the order service and CCXT on the Binance REST simulator (its request log), the
 * bundled PostgreSQL, the strategy in the sandbox.
 */

const BTC = 'BTC/USDT';
const ETH = 'ETH/USDT';
const T0 = Date.UTC(2024, 2, 11, 0, 0, 30);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isOrderPost = (r: RequestLogEntry) => r.method === 'POST' && r.path === '/api/v3/order';
const isRead = (r: RequestLogEntry) => r.path.startsWith('/api/v3/ticker') || r.path === '/api/v3/account';

let live: LiveBot;

beforeAll(async () => {
  live = await startLiveBot({ startTime: T0, balances: { USDT: '10000', BTC: '0.5' } });
}, 60_000);
afterAll(async () => {
  await live?.close();
});

describe("the bot's orders and the order service's pre-reads", () => {
  it('opening and closing orders reach the exchange with no ticker or balance request between the signal and the order; the amount is computed at the candle close', async () => {
    const { bot, tr, ex, strategies, orders, signals } = live;
    // long when flat, out when long: an opening order, then a closing one, minute after minute
    const flip = await strategies.create(tr.profileId, {
      name: 'Flip',
      code: `import { Strategy } from 'aristobot';\nexport default class Flip extends Strategy {\n  static warmup = 1;\n  shouldLong() { return true; }\n  shouldShort() { return false; }\n  shouldExit() { return true; }\n  calculatePositionSize() { return 0.5; }\n}\n`,
    });
    const a = await bot.create(tr.profileId, { strategyId: flip.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '1000' });

    const minutes: { before: RequestLogEntry[]; posts: number }[] = [];
    for (let i = 0; i < 5; i++) {
      // the engine re-reads the balances in the background a second after an order event: let that pass first
      await sleep(1300);
      await bot.idle();
      const mark = ex.requestLog.length;
      await live.run(1);
      const asked = ex.requestLog.slice(mark);
      const post = asked.findIndex(isOrderPost);
      minutes.push({ before: post < 0 ? asked : asked.slice(0, post), posts: asked.filter(isOrderPost).length });
    }

    const decisions = (await bot.decisions(tr.profileId, a.id, 10)).reverse();
    // the first candle warms the strategy up
    expect(decisions.map((d) => [d.action, d.status])).toEqual([
      ['none', 'done'],
      ['open_long', 'done'],
      ['close', 'done'],
      ['open_long', 'done'],
      ['close', 'done'],
    ]);
    expect(minutes[0]!.posts).toBe(0);
    for (const [i, m] of minutes.entries()) {
      if (i === 0) continue;
      expect(m.posts, `minute ${i + 1}: one order`).toBe(1);
      expect(m.before.filter(isRead), `minute ${i + 1}: no ticker or balance request before the order`).toEqual([]);
    }

    // the opening orders: cost (0.5 × what the budget has left) ÷ the decided candle's close, down to the market's step
    const journal = (await orders.journal(tr.profileId, { source: 'strategy', limit: 10 })).reverse();
    expect(journal.map((o) => [o.side, o.status])).toEqual([
      ['buy', 'filled'],
      ['sell', 'filled'],
      ['buy', 'filled'],
      ['sell', 'filled'],
    ]);
    expect(journal[0]!.requested_cost!.toFixed()).toBe('500');
    for (const d of decisions.filter((x) => x.action === 'open_long')) {
      const o = journal.find((x) => x.id === d.orderIds[0])!;
      const candle = signals.find((s) => s.timeframe === '1m' && s.symbol === BTC && new Date(s.openTime).toISOString() === d.candleTime)!;
      expect(o.amount!.toFixed()).toBe(o.requested_cost!.div(candle.candle.close).toDecimalPlaces(5, Decimal.ROUND_DOWN).toFixed());
    }
    // the closing orders sold what the opening ones bought (net of fees in the base currency)
    const book = await bot.get(tr.profileId, a.id);
    expect(book.position).toBeNull();
    expect((await bot.trades(tr.profileId, a.id, 10)).length).toBe(2);
    await bot.stopActivation(tr.profileId, a.id, false);
  }, 60_000);

  it('two activations opening at once on one broker: the free balance handed over counts what the other is spending; the order beyond it is refused before sending', async () => {
    const { bot, tr, ex, strategies, orders } = live;
    ex.setBalance(tr.credentials.apiKey, 'USDT', '1000');
    await bot.reconcile(); // the engine's balance cache reads it
    const all = await strategies.create(tr.profileId, {
      name: 'All in',
      code: `import { Strategy } from 'aristobot';\nexport default class AllIn extends Strategy {\n  static warmup = 1;\n  shouldLong() { return true; }\n  shouldShort() { return false; }\n  calculatePositionSize() { return 1; }\n}\n`,
    });
    // each budget fits the account's 1000 USDT; both together do not
    const btc = await bot.create(tr.profileId, { strategyId: all.id, brokerId: tr.brokerId, symbol: BTC, timeframe: '1m', budget: '800' });
    const eth = await bot.create(tr.profileId, { strategyId: all.id, brokerId: tr.brokerId, symbol: ETH, timeframe: '1m', budget: '800' });
    await sleep(1300);
    await bot.idle();
    // minute by minute until the candle on which both open (after the warm-up; their closing messages arrive together)
    const mineOf = async () => (await orders.journal(tr.profileId, { source: 'strategy', limit: 10 })).filter((o) => o.source_ref === btc.id || o.source_ref === eth.id);
    let asked: RequestLogEntry[] = [];
    for (let i = 0; i < 3 && (await mineOf()).length === 0; i++) {
      const mark = ex.requestLog.length;
      await live.run(1);
      const last = floorToTimeframe(live.stream.now(), '1m') - 60_000;
      await waitFor(() => live.signals.some((s) => s.timeframe === '1m' && s.symbol === ETH && s.openTime === last), 'the ETH signal');
      await bot.idle();
      asked = ex.requestLog.slice(mark);
    }
    const mine = await mineOf();
    expect(asked.filter(isOrderPost)).toHaveLength(1);
    expect(mine.map((o) => o.status).sort()).toEqual(['filled', 'rejected']);
    const refused = mine.find((o) => o.status === 'rejected')!;
    expect(refused).toMatchObject({ error_code: 'insufficient_funds', sent_at: null, exchange_order_id: null });
    expect(refused.error_message).toMatch(/^Not enough USDT: the order needs [\d.]+ USDT, [\d.]+ USDT is available/);
    // the refusal is shown on its activation, the other holds its position
    const books = await Promise.all([bot.get(tr.profileId, btc.id), bot.get(tr.profileId, eth.id)]);
    expect(books.filter((b) => b.position !== null)).toHaveLength(1);
  }, 60_000);
});
