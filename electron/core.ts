import { existsSync, readFileSync, writeFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { z } from 'zod';
import type { AppStatus } from '../shared/contract/app';
import { AppError, errorPayload, type ErrorPayload } from '../shared/errors';
import { appHandlers } from './api/app-handlers';
import { Dispatcher, type CallResult, type Handlers, type Session } from './api/dispatch';
import type { Config } from './config';
import { processAlive, processCommand, startBundledPostgres, type BundledPostgres } from './db/bundled';
import { Database, redactUrl } from './db/database';
import { EventBus } from './events';
import { createLogger, type Logger } from './log';
import { DebugService } from './profiles/debug';
import { ProfileService } from './profiles/service';
import { SessionRegistry } from './sessions';
import { exchangeHandlers } from './exchanges/api';
import { BrokerService, TestnetMode } from './exchanges/brokers';
import { ExchangeGateway } from './exchanges/gateway';
import { MarketService } from './exchanges/markets';
import { tradingHandlers } from './trading/api';
import { heartbeatHandlers } from './heartbeat/api';
import { binanceMarkets } from './heartbeat/markets';
import { HeartbeatService, heartbeatConfigFromEnv, DEFAULT_HEARTBEAT_CONFIG } from './heartbeat/service';
import { OrderService } from './trading/orders';
import { TradingReads } from './trading/portfolio';
import { openSecretStore, type SecretStoreResult } from './secrets';
import { webhookHandlers } from './webhooks/api';
import { WebhookService } from './webhooks/service';
import { backtestHandlers } from './backtest/api';
import { withExamples } from './backtest/examples';
import { BacktestService } from './backtest/service';
import { Kernel } from './kernel';
import { strategyHandlers } from './strategies/api';
import { StrategyService } from './strategies/service';
import { aiHandlers } from './ai/api';
import { strategyCodeCheck } from './ai/check';
import { AiService, DEFAULT_CALLS_PER_MINUTE } from './ai/service';
import { AiSettingsStore } from './ai/settings';
import { botHandlers } from './bot/api';
import { BotEngine } from './bot/engine';
import { BotProtection } from './bot/protection';
import { notificationHandlers } from './notifications/api';
import { NotificationService, notifyEnv } from './notifications/service';
import { TelegramClient } from './notifications/telegram';
import { LiveVsBacktest } from './bot/compare';
import { RoadToLive } from './bot/gate';
import { statsHandlers } from './stats/api';
import { chartHandlers } from './charts/api';
import { MarketCandlesService } from './charts/service';
import { StatsQueries } from './stats/queries';
import { StatsService, statsIntervalFromEnv } from './stats/service';

/** The app's version, from the nearest package.json above this module (source or bundle). */
function findVersion(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')).version as string;
    if (dirname(dir) === dir) return '0.0.0';
  }
}
export const VERSION: string = findVersion(import.meta.dirname);

type Status = z.input<typeof AppStatus>;

/** Everything the core built, in dependency order; `stop` disposes in reverse. */
interface Core {
  db: Database;
  dispatcher: Dispatcher;
  profiles: ProfileService;
  debug: DebugService;
  secrets: SecretStoreResult;
  gateway: ExchangeGateway;
  brokers: BrokerService;
  markets: MarketService;
  orders: OrderService;
  heartbeat: HeartbeatService;
  strategies: StrategyService;
  stop(): Promise<void>;
}

/** One app per data folder: a pid file, taken over when its process is gone (after a crash). */
export function acquireInstanceLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'aristobot.lock');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    // A live pid that is not a Node/Electron program was reused after a crash or reboot: stale.
    const cmd = Number.isInteger(pid) && pid > 0 ? processCommand(pid) : null;
    const ours = cmd === null || /node|electron|aristobot|tsx/i.test(cmd);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid) && ours) {
      throw new AppError('already_running', 'errors.app.aristobot3AlreadyRunningWith', { dataDir, pid });
    }
  }
  writeFileSync(file, String(process.pid));
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {
      // already gone
    }
  };
}

/**
 * Owns the core's life: starts it, keeps the failure when it cannot start (an unreachable external
 * database, say) so the UI can show which URL failed and why and offer a retry, and answers
 * `app.status` / `app.retry` in every state. Both shells (Electron, headless) talk to this.
 */
export class CoreHost {
  readonly bus = new EventBus();
  readonly sessions = new SessionRegistry();
  readonly log: Logger;
  private core: Core | null = null;
  private starting: Promise<void> | null = null;
  private error: ErrorPayload | null = null;
  private readonly startedAt = new Date();
  private releaseLock: (() => void) | null = null;
  private bundledPort: number | null = null;

  constructor(
    readonly config: Config,
    readonly shell: 'electron' | 'headless',
    log?: Logger,
    /** `appPassword`: a fixed password for the app role (tests sharing one cluster); random otherwise. */
    private readonly options: { appPassword?: string } = {},
  ) {
    this.log = log ?? createLogger({ dir: config.logToFile ? join(config.dataDir, 'logs') : undefined, level: config.logLevel });
  }

  get ready(): boolean {
    return this.core !== null;
  }

  /** Start (or retry). Never throws: a failure is kept and reported by `status()`. */
  start(): Promise<void> {
    if (this.core) return Promise.resolve();
    this.starting ??= this.doStart().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.error = null;
    const disposers: (() => Promise<void> | void)[] = [];
    try {
      if (!this.releaseLock) this.releaseLock = acquireInstanceLock(this.config.dataDir);
      let ownerUrl: string;
      if (this.config.databaseUrl) {
        ownerUrl = this.config.databaseUrl;
      } else {
        const pg: BundledPostgres = await startBundledPostgres({ dataDir: this.config.dataDir, log: this.log });
        disposers.push(() => pg.stop());
        ownerUrl = pg.ownerUrl;
        this.bundledPort = pg.port;
      }
      const db = await Database.open({ ownerUrl, migrationsDir: this.config.migrationsDir, log: this.log, exclusive: true, appPassword: this.options.appPassword });
      disposers.push(() => db.close());
      const session = await db.query<{ id: number }>('INSERT INTO app_sessions (version, mode) VALUES ($1, $2) RETURNING id', [VERSION, this.shell]);
      const sessionId = session.rows[0]!.id;
      disposers.push(async () => {
        await db.query('UPDATE app_sessions SET stopped_at = now() WHERE id = $1', [sessionId]).catch(() => undefined);
      });

      const profiles = new ProfileService(db, this.log);
      const debug = new DebugService(db, profiles, this.config.debugAvailable, this.log);
      await debug.start();

      const secrets = await openSecretStore({ mode: this.config.secrets, vaultPath: join(this.config.dataDir, 'vault.db'), passphrase: this.config.vaultPassphrase ?? undefined, log: this.log });
      disposers.push(async () => secrets.store?.close?.());
      const gateway = new ExchangeGateway({ log: this.log, timeoutMs: this.config.exchangeTimeoutMs });
      const testnet = new TestnetMode(db);
      const brokers = new BrokerService(db, gateway, secrets, testnet, this.log);
      const markets = new MarketService(db, brokers, gateway, this.bus, this.log);
      disposers.push(() => markets.stop());
      const orders = new OrderService({ db, brokers, gateway, bus: this.bus, log: this.log });
      const tradingReads = new TradingReads({ db, brokers, gateway, log: this.log });
      // Reconciles orders an earlier run left pending (by client order id), then every 30 s.
      orders.start();
      disposers.push(() => orders.stop());

      const hbConfig = { ...DEFAULT_HEARTBEAT_CONFIG, ...heartbeatConfigFromEnv() };
      const heartbeat = new HeartbeatService({
        db,
        log: this.log,
        emit: (name, data) => this.bus.emit(name, data),
        markets: binanceMarkets(db, hbConfig.restUrl),
        config: hbConfig,
      });
      if (this.config.heartbeat) {
        // Not awaited: the app is usable while the stream connects (the header shows its state).
        heartbeat.start().catch((e: Error) => this.log.error({ err: e.message }, 'the heartbeat did not start'));
      }
      disposers.push(() => heartbeat.stop('app stopped'));

      const webhooks = new WebhookService({
        db, brokers, gateway, orders, secrets, bus: this.bus, log: this.log,
        config: { host: this.config.webhookHost, port: this.config.webhookPort, watchMs: this.config.webhookWatchMs, trustProxy: this.config.webhookTrustProxy },
      });
      await webhooks.start();
      disposers.push(() => webhooks.stop());
      const strategies = new StrategyService({ db, bus: this.bus, log: this.log, templatesDir: join(this.config.migrationsDir, '..', 'resources', 'strategies'), checkTimeoutMs: this.config.strategyCheckTimeoutMs });
      disposers.push(() => strategies.stop());
      const aiSettings = new AiSettingsStore(db, secrets, this.log, DEFAULT_CALLS_PER_MINUTE);
      const ai = new AiService({ settings: aiSettings, bus: this.bus, log: this.log, check: strategyCodeCheck(strategies.checker), timeoutMs: this.config.aiTimeoutMs, openrouterUrl: this.config.aiOpenrouterUrl });
      disposers.push(() => ai.stop());

      // One strategy kernel for the backtester and the bot. Backtests: saved strategy versions (the
      // strategies service) and the built-in examples.
      const kernel = new Kernel();
      disposers.push(() => kernel.dispose());
      const backtests = new BacktestService({
        db,
        log: this.log,
        kernel,
        strategies: withExamples({ getVersion: (p, id, v) => strategies.getVersion(p, id, v), list: async (p) => (await strategies.list(p)).map((x) => ({ strategyId: x.id, name: x.name, version: x.version })) }),
        brokers: { forBroker: async (profileId, brokerId) => { const { ex, broker } = await brokers.exchangeFor(profileId, brokerId); return { exchange: broker.exchange, ex }; } },
        emit: (event, data, scope) => this.bus.emit(event, data, scope),
        reserveCandles: this.config.backtestReserveCandles,
      });
      await backtests.start();
      disposers.push(() => backtests.stop());

      // The live bot drives the same kernel (sandbox + decision rule) as the backtester.
      const bot = new BotEngine({ db, bus: this.bus, log: this.log, heartbeat, orders, brokers, strategies, kernel, protection: BotProtection.enabled() ? new BotProtection(orders, db, this.log) : undefined });
      await bot.start();
      disposers.push(() => bot.stop());
      const road = new RoadToLive({ db, log: this.log, brokers, gateway, strategies, kernel, backtests });
      const compare = new LiveVsBacktest({ db, strategies, kernel, brokers });

      // Notifications: fed by the bus (order, webhook, bot, heartbeat, backtest events); Telegram in the background.
      const notifyCfg = notifyEnv();
      const notifications = new NotificationService({ db, bus: this.bus, log: this.log, secrets, telegram: new TelegramClient(notifyCfg.telegramApiUrl), config: notifyCfg.config, heartbeat: () => heartbeat.status() });
      notifications.start();
      disposers.push(() => notifications.stop());

      const stats = new StatsService({ db, brokers, gateway, bus: this.bus, log: this.log, snapshotIntervalMs: statsIntervalFromEnv() });
      await stats.start();
      disposers.push(() => stats.stop());
      const statsQueries = new StatsQueries({ db, brokers, gateway, stats });
      const chartCandles = new MarketCandlesService({ brokers, gateway, heartbeat });

      const handlers: Handlers = {
        ...appHandlers({ profiles, debug, sessions: this.sessions, bus: this.bus, onProfileDeletion: [brokers, aiSettings, notifications] }),
        ...exchangeHandlers({ gateway, brokers, markets, testnet, bus: this.bus }),
        ...tradingHandlers({ orders, reads: tradingReads, log: this.log }),
        ...heartbeatHandlers(heartbeat),
        ...webhookHandlers(webhooks),
        ...backtestHandlers(backtests),
        ...strategyHandlers(strategies),
        ...aiHandlers({ ai, settings: aiSettings, bus: this.bus }),
        ...botHandlers(bot, road, compare),
        ...notificationHandlers({ notifications, bus: this.bus }),
        ...statsHandlers({ service: stats, queries: statsQueries }),
        ...chartHandlers({ candles: chartCandles }),
        'app.status': async (_i, { session }) => this.status(session),
        'app.retry': async () => this.status(),
      };
      const dispatcher = new Dispatcher(handlers, this.log);
      this.core = {
        db,
        dispatcher,
        profiles,
        debug,
        secrets,
        gateway,
        brokers,
        markets,
        orders,
        heartbeat,
        strategies,
        stop: async () => {
          for (const d of disposers.reverse()) await d();
        },
      };
      this.log.info({ version: VERSION, shell: this.shell, dataDir: this.config.dataDir, database: this.config.databaseUrl ? 'external' : 'bundled' }, 'core started');
    } catch (e) {
      for (const d of disposers.reverse()) await Promise.resolve(d()).catch(() => undefined);
      this.error = e instanceof AppError ? e.toPayload() : errorPayload('internal', 'errors.app.couldNotStart', { reason: (e as Error).message });
      this.log.error({ err: this.error }, 'core failed to start');
    }
  }

  /**
   * The app's state. Once the core is ready, a caller without a logged-in profile sees no internals
   * (data folder, database address, secrets message): only what the login screen needs. While the
   * core is starting or failed, the details stay (nobody can log in, and they say what to fix).
   */
  async status(session?: Session): Promise<Status> {
    const debug = this.core ? await this.core.debug.get().catch(() => ({ available: this.config.debugAvailable, enabled: false })) : { available: this.config.debugAvailable, enabled: false };
    const full: Status = {
      version: VERSION,
      state: this.core ? 'ready' : this.error ? 'failed' : 'starting',
      error: this.error ? { code: this.error.code, message: this.error.message } : null,
      database: { mode: this.config.databaseUrl ? 'external' : 'bundled', url: this.config.databaseUrl ? redactUrl(this.config.databaseUrl) : `127.0.0.1:${this.bundledPort ?? '(not started)'}` },
      dataDir: this.config.dataDir,
      uptimeSeconds: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      startedAt: this.startedAt.toISOString(),
      debugAvailable: debug.available,
      debugEnabled: debug.enabled,
      secrets: this.core ? { backend: this.core.secrets.backend, message: this.core.secrets.message, key: this.core.secrets.text.key, params: this.core.secrets.text.params ?? {} } : { backend: 'none', message: 'Not started.', key: 'coreRest.secrets.notStarted', params: {} },
      shell: this.shell,
    };
    if (session && !session.profile && this.core) return { ...full, dataDir: '', database: { mode: full.database.mode, url: '' }, secrets: { backend: full.secrets.backend, message: '' } };
    return full;
  }

  /** Every call from every transport comes through here. */
  async call(method: string, params: unknown, session: Session): Promise<CallResult> {
    if (method === 'app.status') return { result: await this.status(session) };
    if (method === 'app.retry') {
      await this.start();
      return { result: await this.status(session) };
    }
    if (!this.core) {
      if (this.starting) await this.starting;
    }
    if (!this.core) {
      return { error: this.error ?? errorPayload('unavailable', 'errors.app.starting') };
    }
    return this.core.dispatcher.call(method, params, session);
  }

  async stop(): Promise<void> {
    if (this.starting) await this.starting;
    const core = this.core;
    this.core = null;
    await core?.stop();
    this.releaseLock?.();
    this.releaseLock = null;
    this.log.info('core stopped');
    await new Promise<void>((r) => this.log.flush(() => r()));
  }

  /** For tests and the composition of later services. */
  get services(): Core | null {
    return this.core;
  }
}
