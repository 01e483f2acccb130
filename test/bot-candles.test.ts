import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeartbeatSignal } from '../shared/contract/heartbeat';
import { BotEngine } from '../electron/bot/engine';
import { BrokerCandles } from '../electron/bot/candles';
import { ExchangeGateway } from '../electron/exchanges/gateway';
import { Kernel } from '../electron/kernel';
import { silentLogger } from '../electron/log';
import { StrategyService } from '../electron/strategies/service';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { standInHeartbeat } from './support/bot-heartbeat';
import { createTestDb, type TestDb } from './support/db';

/**
 * Candles for a broker whose exchange is not the heartbeat's (issue 12, item 2): the Binance REST
 * simulator also answers as `binanceus` (CCXT's own binanceus class, pointed at it), so the bot
 * reads that broker's candles through CCXT fetchOHLCV — incrementally, cached — instead of the
 * heartbeat's.
 */

const BTC = 'BTC/USDT';
const MIN = 60_000;
const log = silentLogger();
let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let usBroker: string;
let kernel: Kernel;

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000' } });
  const gateway = new ExchangeGateway({ log, timeoutMs: 5000, env: { ARISTOBOT_EXCHANGE_URL_binance: sim.url, ARISTOBOT_EXCHANGE_URL_binanceus: sim.url } });
  tr = await directTrading(tdb.db, sim.url, creds, { gateway });
  usBroker = await tdb.db.withProfile(tr.profileId, async (c) => (await c.query<{ id: string }>("INSERT INTO brokers (name, exchange, secret_ref) VALUES ('US', 'binanceus', $1) RETURNING id", [tr.secretRef])).rows[0]!.id);
  kernel = new Kernel();
}, 60_000);
afterAll(async () => {
  kernel?.dispose();
  await tdb?.close();
  await sim?.close();
});

const klines = () => sim.requestLog.filter((r) => r.method === 'GET' && r.path === '/api/v3/klines');

describe("a broker on another exchange than the heartbeat's", () => {
  it('its candles come from its exchange through fetchOHLCV, cached and read incrementally (closed candles only)', async () => {
    const last = Math.floor(Date.now() / MIN) * MIN - MIN;
    // the bot's clock: first 4 minutes back (the last closed candle is last - 5 min), then now
    let now = last - 4 * MIN + 1000;
    const bc = new BrokerCandles(tr.brokers, { now: () => now });
    // (the simulator's history starts a few minutes before it did)
    const first = await bc.window(tr.profileId, usBroker, BTC, '1m', 15, last - 5 * MIN);
    expect(first).toHaveLength(15);
    expect(first.at(-1)!.openTime).toBe(last - 5 * MIN);
    expect(first.every((c, i) => i === 0 || c.openTime - first[i - 1]!.openTime === MIN)).toBe(true);
    // the same candles as the exchange itself gives (read directly by CCXT)
    const { ex } = await tr.brokers.exchangeFor(tr.profileId, usBroker);
    expect(ex.id).toBe('binanceus');
    const direct = await ex.fetchOHLCV(BTC, '1m', first[0]!.openTime, first.length);
    expect(first.map((c) => [c.openTime, Number(c.open), Number(c.high), Number(c.low), Number(c.close), Number(c.volume)])).toEqual(direct);
    // cached: asked again, no request; later: only the new candles are requested
    const n = klines().length;
    expect(await bc.window(tr.profileId, usBroker, BTC, '1m', 15, last - 5 * MIN)).toEqual(first);
    expect(klines()).toHaveLength(n);
    now = Date.now();
    const later = await bc.window(tr.profileId, usBroker, BTC, '1m', 15, last);
    expect(later.at(-1)!.openTime).toBe(last);
    expect(later.slice(0, later.length - 5)).toEqual(first.slice(first.length - (later.length - 5)));
    expect(klines()).toHaveLength(n + 1);
    expect(Number(klines().at(-1)!.params.startTime)).toBe(last - 4 * MIN);
  });

  it('an activation on that broker decides on its own candles (the heartbeat has none for it) and trades there', async () => {
    const strategies = new StrategyService({ db: tdb.db, templatesDir: resolve(import.meta.dirname, '../resources/strategies') });
    const s = await strategies.create(tr.profileId, {
      name: 'Long above',
      code: `import { Strategy } from 'aristobot';\nexport default class LongAbove extends Strategy {\n  static warmup = 10;\n  shouldLong() { return this.close[this.i] > 0 && this.i >= 9; }\n  shouldShort() { return false; }\n  calculatePositionSize() { return 0.5; }\n}\n`,
    });
    const hb = standInHeartbeat(); // no candles at all: a window from it would fail the decision
    const bot = new BotEngine({ db: tdb.db, bus: tr.bus, log, heartbeat: hb, orders: tr.service(), brokers: tr.brokers, strategies, kernel, config: { reconcileIntervalMs: 0, windowCandles: 12 } });
    await bot.start();
    try {
      const a = await bot.create(tr.profileId, { strategyId: s.id, brokerId: usBroker, symbol: BTC, timeframe: '1m', budget: '1000' });
      await bot.idle();
      const last = Math.floor(Date.now() / MIN) * MIN - MIN;
      const candle = { openTime: last, open: '1', high: '1', low: '1', close: '1', volume: '1' };
      const signal: HeartbeatSignal = { exchange: 'binance', symbol: BTC, timeframe: '1m', openTime: last, closeTime: last + MIN - 1, candle, backfilled: false, receivedAt: null };
      const n = klines().length;
      hb.fire(signal);
      await bot.idle();
      expect(klines().length).toBeGreaterThan(n);
      const [d] = await bot.decisions(tr.profileId, a.id, 5);
      expect(d).toMatchObject({ kind: 'signal', action: 'open_long', status: 'done', candleTime: new Date(last).toISOString() });
      const g = await bot.get(tr.profileId, a.id);
      expect(g.position).toMatchObject({ side: 'long' });
      expect(sim.orders(tr.credentials.apiKey)).toHaveLength(1);
    } finally {
      await bot.stop();
    }
  });
});
