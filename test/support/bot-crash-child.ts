/**
 * A bot process that dies (SIGKILL, no cleanup) at a chosen step between a decision and the
 * exchange's answer, for the kill -9 matrix (test/bot-crash.test.ts). One JSON argument:
 *   node --import tsx test/support/bot-crash-child.ts '{"dbUrl":…,"appPassword":…,"simUrl":…,"secretRef":…,
 *     "credentials":{…},"signal":{…},"candles":[…],"now":…,"crashAt":"afterDecision"|"afterIntent"|"beforeSend"|"afterAnswer"}'
 * The engine, the order service, CCXT and the database are the real ones; the heartbeat is the
 * stand-in (the test hands it the candles and the one signal). Prints `CRASHING <step>` before dying.
 */
import { resolve } from 'node:path';
import { BotEngine } from '../../electron/bot/engine';
import { Database } from '../../electron/db/database';
import { EventBus } from '../../electron/events';
import { BrokerService, TestnetMode } from '../../electron/exchanges/brokers';
import { ExchangeGateway } from '../../electron/exchanges/gateway';
import type { StoredCandle } from '../../electron/heartbeat/store';
import { Kernel } from '../../electron/kernel';
import { silentLogger } from '../../electron/log';
import { StrategyService } from '../../electron/strategies/service';
import { memorySecrets } from '../../electron/trading/fixtures/memory-secrets';
import { OrderService } from '../../electron/trading/orders';
import type { HeartbeatSignal } from '../../shared/contract/heartbeat';
import { standInHeartbeat } from './bot-heartbeat';

interface Config {
  dbUrl: string;
  appPassword: string;
  simUrl: string;
  secretRef: string;
  credentials: Record<string, string>;
  signal: HeartbeatSignal;
  candles: StoredCandle[];
  now: number;
  crashAt: 'afterDecision' | 'afterIntent' | 'beforeSend' | 'afterAnswer';
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;
const log = silentLogger();
const ROOT = resolve(import.meta.dirname, '../..');
const db = await Database.open({ ownerUrl: cfg.dbUrl, migrationsDir: resolve(ROOT, 'migrations'), log, appPassword: cfg.appPassword });
const gateway = new ExchangeGateway({ log, timeoutMs: 5000, env: { ARISTOBOT_EXCHANGE_URL_binance: cfg.simUrl } });
const brokers = new BrokerService(db, gateway, memorySecrets({ [cfg.secretRef]: JSON.stringify(cfg.credentials) }), new TestnetMode(db), log);
const die = (what: string) => () => {
  process.stdout.write(`CRASHING ${what}\n`, () => process.kill(process.pid, 'SIGKILL'));
  return new Promise<void>(() => undefined); // never resumes
};
const bus = new EventBus();
const orders = new OrderService({ db, brokers, gateway, bus, log, reconcileIntervalMs: 0, hooks: cfg.crashAt === 'afterDecision' ? {} : { [cfg.crashAt]: die(cfg.crashAt) } });
const hb = standInHeartbeat();
hb.candles.set(`${cfg.signal.symbol}|${cfg.signal.timeframe}`, cfg.candles);
const bot = new BotEngine({
  db,
  bus,
  log,
  heartbeat: hb,
  orders,
  brokers,
  strategies: new StrategyService({ db, templatesDir: resolve(ROOT, 'resources/strategies') }),
  kernel: new Kernel(),
  clock: { now: () => cfg.now },
  config: { reconcileIntervalMs: 0 },
  hooks: cfg.crashAt === 'afterDecision' ? { afterDecision: die('afterDecision') } : {},
});
await bot.start();
await bot.idle();
hb.fire(cfg.signal);
await bot.idle();
process.stdout.write('NOT CRASHED\n');
process.exit(1);
