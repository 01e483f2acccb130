import { resolve } from 'node:path';
import type { HeartbeatSignal } from '../../shared/contract/heartbeat';
import { floorToTimeframe } from '../../shared/timeframes';
import { BotEngine } from '../../electron/bot/engine';
import { BotProtection } from '../../electron/bot/protection';
import { HeartbeatService } from '../../electron/heartbeat/service';
import { Kernel } from '../../electron/kernel';
import { silentLogger } from '../../electron/log';
import { StrategyService } from '../../electron/strategies/service';
import { directTrading, type DirectTrading } from '../../electron/trading/fixtures/direct';
import type { OrderService } from '../../electron/trading/orders';
import { generateCredentials } from '../sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from '../sim/exchange/server';
import { StreamSimulator } from '../sim/stream/server';
import { waitFor } from '../sim/stream/wait';
import { createTestDb, type TestDb } from './db';

/**
 * The trading bot on live signals, as the bot tests drive it: the heartbeat on the stream simulator
 * (its clock drives the engine's), orders through the real order service and CCXT on the Binance
 * REST simulator (whose price follows each closed minute's close), the strategies from the
 * templates in the sandbox. `run(n)` advances the stream minute by minute and waits for each 1m
 * signal and for the bot.
 */
export interface LiveBot {
  tdb: TestDb;
  ex: ExchangeSim;
  stream: StreamSimulator;
  tr: DirectTrading;
  orders: OrderService;
  hb: HeartbeatService;
  strategies: StrategyService;
  kernel: Kernel;
  /** Every signal the heartbeat gave, in order. */
  signals: HeartbeatSignal[];
  /** The running engine (replaced by `restart`). */
  bot: BotEngine;
  /** A new engine on the same parts (not started). */
  newBot(): BotEngine;
  /** Stops the engine and starts a new one (a restart of the app's bot). */
  restart(): Promise<BotEngine>;
  run(minutes: number, symbol?: string): Promise<void>;
  close(): Promise<void>;
}

const MIN = 60_000;

/** A strategy that always wants to be long, with a tenth of the budget (warm-up: one candle). */
export const HOLD_STRATEGY = `import { Strategy } from 'aristobot';
export default class Hold extends Strategy {
  static warmup = 1;
  shouldLong() { return true; }
  shouldShort() { return false; }
  calculatePositionSize() { return 0.1; }
}
`;

export async function startLiveBot(opts: {
  /** The stream's start (just after a 4h boundary with no backfill: the windows start at the first candle). */
  startTime: number;
  /** The exchange account's balances; omitted: the simulator's default account. */
  balances?: Record<string, string>;
  /** The engine's native stop-loss / take-profit (the app's default); omitted: watched by the engine. */
  protection?: boolean;
}): Promise<LiveBot> {
  const log = silentLogger();
  const tdb = await createTestDb();
  const ex = await startExchangeSim();
  const creds = generateCredentials();
  if (opts.balances) ex.addAccount({ ...creds, balances: opts.balances });
  const tr = await directTrading(tdb.db, ex.url, creds);
  const orders = tr.service();
  const stream = await StreamSimulator.start({ startTime: opts.startTime });
  const hb = new HeartbeatService({
    db: tdb.db,
    log,
    emit: () => undefined,
    markets: async () => stream.markets(),
    clock: { now: () => stream.now() },
    config: { wsUrl: stream.wsUrl, restUrl: stream.restUrl, backfillHours: 0, silenceMs: 5000, gapGraceMs: 100, restSettleMs: 0, restTimeoutMs: 2000 },
  });
  const signals: HeartbeatSignal[] = [];
  // the exchange's price follows the stream: each closed minute's close (registered before the bot)
  hb.onSignal((s) => {
    signals.push(s);
    if (s.timeframe === '1m') ex.series.setPrice(s.symbol, s.candle.close);
  });
  const strategies = new StrategyService({ db: tdb.db, templatesDir: resolve(import.meta.dirname, '../../resources/strategies') });
  const kernel = new Kernel();
  await hb.start();
  await waitFor(() => hb.status().connected && !hb.status().backfilling, 'heartbeat connected', 10_000);
  const newBot = () =>
    new BotEngine({ db: tdb.db, bus: tr.bus, log, heartbeat: hb, orders, brokers: tr.brokers, strategies, kernel, clock: { now: () => stream.now() }, ...(opts.protection ? { protection: new BotProtection(orders, tdb.db, log) } : {}) });
  const live: LiveBot = {
    tdb,
    ex,
    stream,
    tr,
    orders,
    hb,
    strategies,
    kernel,
    signals,
    bot: newBot(),
    newBot,
    async restart() {
      await live.bot.stop();
      live.bot = newBot();
      await live.bot.start();
      return live.bot;
    },
    async run(minutes, symbol = 'BTC/USDT') {
      for (let i = 0; i < minutes; i++) {
        stream.advance(MIN);
        const last = floorToTimeframe(stream.now(), '1m') - MIN;
        await waitFor(() => signals.some((s) => s.timeframe === '1m' && s.symbol === symbol && s.openTime === last), `the 1m signal of ${new Date(last).toISOString()}`, 8000);
        await live.bot.idle();
      }
    },
    async close() {
      await live.bot.stop();
      await strategies.stop();
      kernel.dispose();
      await hb.stop();
      await stream.close();
      await ex.close();
      await tdb.close();
    },
  };
  await live.bot.start();
  return live;
}
