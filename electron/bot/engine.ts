import { createHash } from 'node:crypto';
import Decimal from 'decimal.js';
import type { z } from 'zod';
import type { Activation, BotDecision, BotTrade, EngineState } from '../../shared/contract/bot';
import type { HeartbeatSignal } from '../../shared/contract/heartbeat';
import { AppError, invalidField, isAppError } from '../../shared/errors';
import { floorToTimeframe, timeframeMs, type Timeframe } from '../../shared/timeframes';
import type { Database } from '../db/database';
import type { EventBus } from '../events';
import type { BrokerService } from '../exchanges/brokers';
import type { HeartbeatService } from '../heartbeat/service';
import type { StoredCandle } from '../heartbeat/store';
import type { Kernel, StrategySandbox } from '../kernel';
import { sharedColumns } from '../kernel/columns';
import type { Columns, Decision } from '../kernel/types';
import type { Logger } from '../log';
import type { StrategyService } from '../strategies/service';
import type { OrderRow } from '../trading/journal';
import type { KnownState, OrderService } from '../trading/orders';
import type { BotProtection } from './protection';
import { BrokerCandles } from './candles';
import { DecisionJournal } from './journal';
import { nested, saidAs, saidOf, say, type Said } from './text';
import type { Text } from '../../shared/i18n';
import { getActivation, toActivationDto, toDecisionDto, toTradeDto, type ActivationRow, type DecisionKind, type DecisionRow, type Leg, type TradeRow } from './store';

/**
 * The trading bot's engine. On each heartbeat signal, every running activation of that symbol and
 * timeframe (within its dates) takes the latest candles (the heartbeat's memory, else the store),
 * runs its strategy in its own sandbox (the kernel's one decision rule: `init()` on the window, the
 * decision on the last candle) and acts by the decision through the order service (market orders,
 * source 'strategy', the activation as source_ref).
 *
 * Exactly once: a decision is journaled (bot_decisions, unique per activation, kind and candle) with
 * its planned orders and their client order ids — derived from (activation, kind, candle, leg) —
 * committed BEFORE anything is journaled or sent for its first order. That order is requested from
 * the order service as soon as the strategy has decided, beside the journal write: the service
 * prepares it meanwhile and waits for the decision's commit (`PlaceRequest.after`) before it
 * journals the order's intent; a candle decided before (the unique key) withdraws it, and nothing
 * is journaled or sent. The book is updated with each order's outcome in the same transaction that
 * counts the leg done. A restart replays the legs not done with the same ids: the order service
 * answers the journaled attempt and never places a second order.
 *
 * Each activation has its own queue (its decisions in order); activations run concurrently. A
 * signal older than one timeframe is skipped and journaled. A strategy that throws or runs away
 * puts its activation in `error` with the message (and line); the others carry on.
 *
 * Stop-loss and take-profit are prices in the activation's book: placed as native orders at the
 * exchange where it supports them (protection.ts; the default, `ARISTOBOT_BOT_NATIVE_STOPS=0` turns it
 * off) — asked on a 1m candle that reaches a level and on every reconcile pass, cancelled before any
 * close — otherwise watched by the engine on every 1m candle of the symbol and executed at market;
 * both also while the engine is off or the activation is suspended.
 */

export interface BotConfig {
  /** Candles handed to the strategy at each decision (at least its warm-up + 1). */
  windowCandles: number;
  /** How long `stop` waits for decisions under way. */
  stopTimeoutMs: number;
  /** How often the books are reconciled with the exchanges (and the balances re-read). 0 = only at start. */
  reconcileIntervalMs: number;
  /** The wait before the balance cache of a broker is re-read after an order event (coalesced). */
  balanceRefreshDelayMs: number;
  /** A broker on another exchange than the heartbeat's: how often (and how long apart) its signalled candle is asked for again when not closed there yet. */
  foreignCandleRetries: number;
  foreignCandleRetryMs: number;
}

export const DEFAULT_BOT_CONFIG: BotConfig = { windowCandles: 500, stopTimeoutMs: 15_000, reconcileIntervalMs: 60_000, balanceRefreshDelayMs: 1000, foreignCandleRetries: 3, foreignCandleRetryMs: 1000 };

/** Points where a test process may die (the kill -9 matrix). */
export interface BotHooks {
  /** The decision and its plan are committed; no order has been requested. */
  afterDecision?(decision: DecisionRow): void | Promise<void>;
}

/** A leg's order, requested (`request`). */
interface Requested {
  order: Promise<OrderRow>;
  latency: number | null;
  done: Promise<void>;
  spent: () => void;
}

/** A candle's close price and when it closed (the engine's clock): a market leg's reference price. */
interface CandlePrice {
  value: string;
  at: number;
}

/** A broker's balances as last read (or as the bot's own fills moved them since). */
interface BalanceBook {
  free: Map<string, Decimal>;
  total: Map<string, Decimal>;
  at: number;
}

export interface ReconcileReport {
  /** Activations whose book no longer matches the exchange (suspended), with the reason. */
  mismatched: { id: string; reason: string }[];
  /** Decisions left pending that were taken up again. */
  replayed: number;
  /** Brokers whose balance could not be read (nothing concluded for them). */
  unreadable: string[];
}

export interface BotDeps {
  db: Database;
  bus: EventBus;
  log: Logger;
  heartbeat: Pick<HeartbeatService, 'onSignal' | 'retain' | 'recentCandles' | 'addSymbol'>;
  orders: Pick<OrderService, 'place'> & Partial<Pick<OrderService, 'reconcile'>>;
  brokers: Pick<BrokerService, 'exchangeFor'>;
  strategies: Pick<StrategyService, 'getVersion'>;
  kernel: Pick<Kernel, 'load' | 'info'>;
  clock?: { now(): number };
  config?: Partial<BotConfig>;
  /** Native stop-loss / take-profit orders (the app passes it unless turned off); without it the engine watches the levels. */
  protection?: BotProtection;
  hooks?: BotHooks;
}

export interface CreateActivation {
  strategyId: string;
  version?: number;
  params?: Record<string, number>;
  brokerId: string;
  symbol: string;
  timeframe: Timeframe;
  from?: string | number;
  to?: string | number;
  budget: string;
}

export interface UpdateActivation {
  id: string;
  params?: Record<string, number>;
  budget?: string;
  from?: string | number | null;
  to?: string | number | null;
}

type ActivationDto = z.input<typeof Activation>;
type DecisionDto = z.input<typeof BotDecision>;
type TradeDto = z.input<typeof BotTrade>;
type EngineDto = z.input<typeof EngineState>;

interface Live {
  row: ActivationRow;
  js: string;
  warmup: number;
  sandbox: Promise<StrategySandbox> | null;
  /** The sandbox once loaded (the signal path takes it without an await). */
  loaded: StrategySandbox | null;
  /** The activation's candle window, kept in memory: each signal appends its candle (no store read). */
  window: StoredCandle[] | null;
  /** The window as the kernel's columns, kept in step with it (a full window shifts by one candle). */
  cols: Columns | null;
  /** The broker's exchange id (null until read): candles come from it when it is not the heartbeat's. */
  exchange: string | null;
  queue: Promise<void>;
  /** Tasks queued or running in `queue`. */
  pending: number;
  release: (() => void) | null;
}

/** The exchange the heartbeat's candles are from (electron/heartbeat/service.ts EXCHANGE). */
const HEARTBEAT_EXCHANGE = 'binance';


/** `a3s` + 24 hex digits of sha256(activation, kind, candle or decision, leg): 27 characters, as the order service's own ids. */
export function botClientOrderId(activationId: string, kind: DecisionKind, key: string | number, leg: Leg['leg']): string {
  return `a3s${createHash('sha256').update(`${activationId}|${kind}|${key}|${leg}`).digest('hex').slice(0, 24)}`;
}

/** Candles (decimal strings) as the kernel's float64 columns. */
export function toColumns(candles: readonly StoredCandle[]): Columns {
  const n = candles.length;
  const cols: Columns = { time: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const c = candles[i]!;
    cols.time[i] = c.openTime;
    cols.open[i] = Number(c.open);
    cols.high[i] = Number(c.high);
    cols.low[i] = Number(c.low);
    cols.close[i] = Number(c.close);
    cols.volume[i] = Number(c.volume);
  }
  return cols;
}

function setColumn(cols: Columns, i: number, c: StoredCandle): void {
  cols.time[i] = c.openTime;
  cols.open[i] = Number(c.open);
  cols.high[i] = Number(c.high);
  cols.low[i] = Number(c.low);
  cols.close[i] = Number(c.close);
  cols.volume[i] = Number(c.volume);
}

/** Drops the first candle of full columns and puts `c` last. */
function shiftColumns(cols: Columns, c: StoredCandle): void {
  for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) cols[k].copyWithin(0, 1);
  setColumn(cols, cols.time.length - 1, c);
}

const bad = invalidField;

/** An activation's state reason as a message (its key when it has one), for another message's parameters. */
function stateReasonText(r: ActivationRow): Text | string {
  if (r.state_reason_key) return { key: r.state_reason_key, params: r.state_reason_params ?? {} };
  return r.state_reason ?? { key: 'coreBot.state.seeDecisions' };
}
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

function parseWhen(v: string | number | null | undefined, path: string): Date | null {
  if (v === undefined || v === null) return null;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw bad(path, 'errors.bot.notDate', { path });
  return d;
}

const balanceKey = (profileId: string, brokerId: string) => `${profileId}|${brokerId}`;

function toBalanceBook(bal: { free?: unknown; total?: unknown }, at: number): BalanceBook {
  const read = (m: unknown) => {
    const out = new Map<string, Decimal>();
    for (const [k, v] of Object.entries((m ?? {}) as Record<string, number | string | null | undefined>)) if (v !== null && v !== undefined && Number.isFinite(Number(v))) out.set(k, new Decimal(String(v)));
    return out;
  };
  return { free: read(bal.free), total: read(bal.total), at };
}

function splitSymbol(symbol: string): { base: string; quote: string } {
  const [base = symbol, rest = ''] = symbol.split('/');
  return { base, quote: rest.split(':')[0] ?? rest };
}

/** The fee of an order valued in the quote currency (0 when paid in a third currency). */
function feeInQuote(o: OrderRow, base: string, quote: string): Decimal {
  if (!o.fee || !o.fee_currency) return new Decimal(0);
  if (o.fee_currency === quote) return o.fee;
  if (o.fee_currency === base) return o.fee.times(o.average_price ?? 0);
  return new Decimal(0);
}

export class BotEngine {
  private readonly cfg: BotConfig;
  private readonly clock: { now(): number };
  private readonly live = new Map<string, Live>();
  private readonly engineOn = new Map<string, boolean>();
  private readonly tasks = new Set<Promise<void>>();
  /** Per `profile|broker`: the balances as last read, moved by the bot's own fills since. */
  private readonly balances = new Map<string, BalanceBook>();
  private readonly balanceReads = new Map<string, Promise<BalanceBook>>();
  private readonly balanceTimers = new Map<string, NodeJS.Timeout>();
  /** Per `profile|broker|asset`: what the bot's legs being placed right now spend (see `knownFor`). */
  private readonly spending = new Map<string, Decimal>();
  private reconcileRun: Promise<ReconcileReport> | null = null;
  private readonly brokerCandles: BrokerCandles;
  private readonly decisionJournal: DecisionJournal;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private offBus: (() => void) | null = null;
  private stopped = true;

  constructor(private readonly d: BotDeps) {
    this.cfg = { ...DEFAULT_BOT_CONFIG, ...d.config };
    this.clock = d.clock ?? { now: Date.now };
    this.brokerCandles = new BrokerCandles(d.brokers, this.clock);
    this.decisionJournal = new DecisionJournal(d.db);
  }

  private get log(): Logger {
    return this.d.log;
  }

  // ── lifecycle ───────────────────────────────────────────────────────────────────────────────────

  /** Loads the activations of every profile, resumes decisions a previous run left pending, listens to the heartbeat. */
  async start(): Promise<void> {
    this.stopped = false;
    // the journal's own connections, opened before the first signal needs them
    this.track(this.decisionJournal.warm());
    const profiles = (await this.d.db.query<{ id: string }>('SELECT id FROM profiles')).rows.map((r) => r.id);
    for (const profileId of profiles) {
      await this.d.db.withProfile(profileId, async (c) => {
        const acts = await c.query<ActivationRow>("SELECT * FROM bot_activations WHERE state IN ('running', 'suspended') OR (state = 'error' AND position_side IS NOT NULL)");
        for (const row of acts.rows) await this.register(row);
        // the switch is read once here: the signal path never asks the database for it
        this.engineOn.set(profileId, (await c.query<{ running: boolean }>('SELECT running FROM bot_engine')).rows[0]?.running ?? true);
      });
    }
    this.unsubscribe = this.d.heartbeat.onSignal((s) => this.onSignal(s));
    // a signal that went out before this subscription (the heartbeat starts first) is taken up
    for (const l of this.live.values()) if (l.row.state === 'running') this.enqueue(l, () => this.catchUp(l));
    // another source's order (manual, webhook) moves a broker's balances: re-read them in the background
    this.offBus = this.d.bus.on((e) => {
      if (e.event !== 'orders.updated' || !e.profileId) return;
      const brokerId = (e.data as { brokerId: string | null }).brokerId;
      if (brokerId) this.scheduleBalanceRead(e.profileId, brokerId);
    });
    // Decisions left pending by the previous run are taken up again and the books checked against
    // the exchanges, in the background (REST); `idle()` waits for it.
    this.track(this.reconcile().then(() => undefined));
    if (this.cfg.reconcileIntervalMs > 0) {
      this.reconcileTimer = setInterval(() => this.track(this.reconcile().then(() => undefined)), this.cfg.reconcileIntervalMs);
      this.reconcileTimer.unref();
    }
  }

  private track(p: Promise<void>): void {
    const t = p.catch((e: unknown) => this.log.error({ err: errMessage(e) }, 'bot: a background task failed'));
    this.tasks.add(t);
    void t.finally(() => this.tasks.delete(t));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.offBus?.();
    this.offBus = null;
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.reconcileTimer = null;
    for (const t of this.balanceTimers.values()) clearTimeout(t);
    this.balanceTimers.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.tasks]), new Promise((r) => (timer = setTimeout(r, this.cfg.stopTimeoutMs)))]);
    clearTimeout(timer);
    for (const l of this.live.values()) this.unload(l);
    this.live.clear();
    this.decisionJournal.close();
  }

  /** Resolves when every decision queued so far is done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  private async register(row: ActivationRow): Promise<Live> {
    const existing = this.live.get(row.id);
    if (existing) {
      existing.row = row;
      return existing;
    }
    const v = await this.d.strategies.getVersion(row.profile_id, row.strategy_id ?? '00000000-0000-0000-0000-000000000000', row.version).catch(() => null);
    const l: Live = { row, js: v?.js ?? '', warmup: v?.warmup ?? 0, sandbox: null, loaded: null, window: null, cols: null, exchange: null, queue: Promise.resolve(), pending: 0, release: null };
    this.live.set(row.id, l);
    l.release = this.d.heartbeat.retain(row.symbol, row.timeframe, this.windowSize(l));
    // ready before the first signal: the isolate loaded, the window read once
    if (row.state === 'running') this.enqueue(l, () => this.prepare(l));
    return l;
  }

  private windowSize(l: Live): number {
    return Math.max(this.cfg.windowCandles, l.warmup + 1);
  }

  private async prepare(l: Live): Promise<void> {
    if (!l.js || this.stopped) return;
    // the isolate loaded and its decision context set up (a failure is reported at the decision)
    await this.sandboxOf(l)
      .then((sb) => sb.keepContext())
      .catch(() => undefined);
    if ((await this.exchangeOf(l).catch(() => HEARTBEAT_EXCHANGE)) !== HEARTBEAT_EXCHANGE) return;
    l.window ??= await this.d.heartbeat.recentCandles(l.row.symbol, l.row.timeframe, this.windowSize(l));
  }

  private async exchangeOf(l: Live): Promise<string> {
    if (l.exchange === null && l.row.broker_id) l.exchange = (await this.d.brokers.exchangeFor(l.row.profile_id, l.row.broker_id)).broker.exchange;
    return l.exchange ?? HEARTBEAT_EXCHANGE;
  }

  /** A broker on another exchange: its own candles through CCXT (cached, incremental), waiting a little for the signalled one to close there. */
  private async foreignWindow(l: Live, s: HeartbeatSignal): Promise<StoredCandle[]> {
    const r = l.row;
    for (let i = 0; ; i++) {
      const w = await this.brokerCandles.window(r.profile_id, r.broker_id!, r.symbol, r.timeframe, this.windowSize(l), s.openTime);
      if (w.at(-1)?.openTime === s.openTime || i >= this.cfg.foreignCandleRetries || this.stopped) return w;
      await new Promise((res) => setTimeout(res, this.cfg.foreignCandleRetryMs));
    }
  }

  /**
   * The window ending at the signalled candle: the activation's own, with the signal's candle
   * appended when it follows the last one (the usual case: no await); read from the heartbeat
   * (its memory, else the store) the first time and after a gap.
   */
  private async windowAt(l: Live, s: HeartbeatSignal): Promise<StoredCandle[]> {
    if ((l.exchange ?? (await this.exchangeOf(l).catch(() => HEARTBEAT_EXCHANGE))) !== HEARTBEAT_EXCHANGE) return this.foreignWindow(l, s);
    const kept = this.windowNow(l, s);
    if (kept) return kept;
    const fresh = await this.d.heartbeat.recentCandles(l.row.symbol, l.row.timeframe, this.windowSize(l), s.openTime);
    l.window = fresh;
    l.cols = null;
    return fresh;
  }

  /** `windowAt` without an await: the kept window with the signal's candle, or null when it must be read. */
  private windowNow(l: Live, s: HeartbeatSignal): StoredCandle[] | null {
    if (l.exchange !== HEARTBEAT_EXCHANGE && !(l.exchange === null && !l.row.broker_id)) return null;
    const n = this.windowSize(l);
    const w = l.window;
    const last = w?.at(-1);
    if (w && last) {
      const c: StoredCandle = { openTime: s.candle.openTime, open: s.candle.open, high: s.candle.high, low: s.candle.low, close: s.candle.close, volume: s.candle.volume };
      if (last.openTime === s.openTime) {
        w[w.length - 1] = c;
        if (l.cols?.time.length === w.length) setColumn(l.cols, w.length - 1, c);
        else l.cols = null;
        return w;
      }
      if (last.openTime + timeframeMs(l.row.timeframe) === s.openTime) {
        w.push(c);
        if (w.length > n) {
          w.splice(0, w.length - n);
          if (l.cols?.time.length === n) shiftColumns(l.cols, c);
          else l.cols = null;
        } else l.cols = null;
        return w;
      }
    }
    return null;
  }

  /** The window's columns: kept in step with the window, built again only when it changed shape. */
  private columnsOf(l: Live, candles: StoredCandle[]): Columns {
    if (candles !== l.window) return toColumns(candles);
    if (l.cols?.time.length !== candles.length) {
      // on a SharedArrayBuffer: handed to the isolate without a copy (the decision is over before the next change)
      const cols = sharedColumns(candles.length);
      for (let i = 0; i < candles.length; i++) setColumn(cols, i, candles[i]!);
      l.cols = cols;
    }
    return l.cols;
  }

  private unload(l: Live): void {
    l.release?.();
    l.release = null;
    l.window = null;
    l.cols = null;
    const sb = l.sandbox;
    l.sandbox = null;
    l.loaded = null;
    void sb?.then((s) => s.dispose()).catch(() => undefined);
  }

  /**
   * The activation's tasks, one after the other. An idle queue starts the task at once, in the
   * caller's turn: a signal's decision reaches the sandbox (which works on its own thread) while
   * the heartbeat is still reading the rest of a burst.
   */
  private enqueue(l: Live, fn: () => Promise<void>): Promise<void> {
    const fail = (e: unknown) => this.log.error({ activation: l.row.id, err: errMessage(e) }, 'bot: an activation task failed');
    const start = (): Promise<void> => {
      try {
        return fn().catch(fail);
      } catch (e) {
        fail(e);
        return Promise.resolve();
      }
    };
    const p = l.pending === 0 ? start() : l.queue.then(start);
    l.pending++;
    l.queue = p;
    this.tasks.add(p);
    void p.finally(() => {
      l.pending--;
      this.tasks.delete(p);
    });
    return p;
  }

  // ── signals ─────────────────────────────────────────────────────────────────────────────────────

  private onSignal(s: HeartbeatSignal): void {
    if (this.stopped) return;
    for (const l of this.live.values()) {
      if (l.row.symbol !== s.symbol) continue;
      if (s.timeframe === '1m' && l.row.position_side && (l.row.stop_loss || l.row.take_profit) && l.row.state !== 'stopped') this.enqueue(l, () => this.protect(l, s));
      if (l.row.timeframe === s.timeframe && l.row.state === 'running') this.enqueue(l, () => this.decideOn(l, s));
    }
  }

  private async engineRunning(profileId: string): Promise<boolean> {
    const known = this.engineOn.get(profileId);
    if (known !== undefined) return known;
    const on = await this.d.db.withProfile(profileId, async (c) => (await c.query<{ running: boolean }>('SELECT running FROM bot_engine')).rows[0]?.running ?? true);
    this.engineOn.set(profileId, on);
    return on;
  }

  private sandboxOf(l: Live): Promise<StrategySandbox> {
    if (!l.sandbox) {
      const p = this.d.kernel.load({ js: l.js });
      l.sandbox = p;
      void p.then(
        (sb) => {
          if (l.sandbox === p) l.loaded = sb;
        },
        () => undefined,
      );
    }
    return l.sandbox;
  }

  /**
   * At start: the activation's latest closed candle, when it is at most one timeframe old and not
   * decided yet, is decided now (its signal went out before the engine listened). Older ones are
   * left alone (never acted on late); a live signal for the same candle queued behind this finds it
   * decided (the journal's unique key) and places nothing again.
   */
  private async catchUp(l: Live): Promise<void> {
    const row = l.row;
    if (row.state !== 'running' || this.stopped) return;
    const tf = timeframeMs(row.timeframe);
    const now = this.clock.now();
    const last = (await this.d.heartbeat.recentCandles(row.symbol, row.timeframe, 1, now - tf)).at(-1);
    if (!last || now - (last.openTime + tf) > tf) return;
    const decided = await this.d.db.withProfile(row.profile_id, async (c) => (await c.query("SELECT 1 FROM bot_decisions WHERE activation_id = $1 AND kind IN ('signal', 'skipped') AND candle_time = $2", [row.id, new Date(last.openTime)])).rowCount);
    if (decided) return;
    this.log.info({ activation: row.id, candle: new Date(last.openTime).toISOString() }, 'bot: taking up the latest candle, closed before the engine started');
    await this.decideOn(l, { exchange: HEARTBEAT_EXCHANGE, symbol: row.symbol, timeframe: row.timeframe, openTime: last.openTime, closeTime: last.openTime + tf - 1, candle: { ...last }, backfilled: true, receivedAt: null });
  }

  /** The strategy's decision on the signal's candle, and the orders it calls for. */
  private async decideOn(l: Live, s: HeartbeatSignal): Promise<void> {
    const row = l.row;
    if (row.state !== 'running' || this.stopped) return;
    const closeAt = s.closeTime + 1;
    if (row.starts_at && closeAt <= row.starts_at.getTime()) return;
    if (row.ends_at && closeAt > row.ends_at.getTime()) {
      await this.endReached(l);
      return;
    }
    const age = this.clock.now() - closeAt;
    if (age > timeframeMs(row.timeframe)) {
      this.log.warn({ activation: row.id, symbol: row.symbol, timeframe: row.timeframe, candle: new Date(s.openTime).toISOString(), ageMs: age }, 'bot: signal older than one timeframe skipped');
      await this.journal(l, { kind: 'skipped', candleTime: s.openTime, action: 'none', reason: say('coreBot.decision.late', { seconds: Math.round(age / 1000), timeframe: row.timeframe }) });
      return;
    }
    if (!(this.engineOn.get(row.profile_id) ?? (await this.engineRunning(row.profile_id)))) {
      await this.journal(l, { kind: 'signal', candleTime: s.openTime, action: 'none', reason: say('coreBot.decision.engineOff') });
      return;
    }
    const candles = this.windowNow(l, s) ?? (await this.windowAt(l, s));
    if (candles.at(-1)?.openTime !== s.openTime) {
      await this.journal(l, { kind: 'signal', candleTime: s.openTime, action: 'none', reason: say('coreBot.decision.noCandle'), status: 'error', error: say('coreBot.decision.noCandleError') });
      return;
    }
    const available = Decimal.max(0, row.budget.plus(row.realised_pnl));
    let decision: Decision;
    try {
      const sb = l.loaded ?? (await this.sandboxOf(l));
      decision = await sb.decideKept(
        row.params,
        this.columnsOf(l, candles),
        { position: row.position_side ? { side: row.position_side, amount: row.position_amount.toNumber(), entryPrice: (row.entry_price ?? new Decimal(0)).toNumber() } : null, balance: available.toNumber() },
        { allowShort: false },
      );
    } catch (e) {
      const message = saidOf(e);
      await this.journal(l, { kind: 'signal', candleTime: s.openTime, action: 'error', reason: say('coreBot.decision.strategyFailed'), status: 'error', error: message });
      await this.setState(l, 'error', message);
      this.unloadSandbox(l);
      return;
    }
    let plan: Leg[] = [];
    let reason = saidAs(decision.reason, decision.reasonKey, decision.reasonParams);
    try {
      plan = await this.plan(l, decision, s.openTime, available);
    } catch (e) {
      const message = saidOf(e);
      await this.journal(l, { kind: 'signal', candleTime: s.openTime, action: decision.action, reason, status: 'error', error: message });
      await this.setReason(l, message);
      return;
    }
    if (plan.length === 0 && decision.action !== 'none') reason = say('coreBot.decision.nothingToDo', { reason: nested(reason) });
    const entry = { kind: 'signal' as const, candleTime: s.openTime, action: decision.action, reason, plan };
    // the reference price of its market orders: the close of the candle decided on (the broker's own candle for a broker on another exchange)
    const price: CandlePrice = { value: String(candles.at(-1)!.close), at: closeAt };
    if (!plan.length || !this.requestableAtOnce(l, plan[0]!)) {
      const d = await this.journal(l, entry);
      if (d && plan.length) await this.executeLegs(l, d, closeAt, price);
      return;
    }
    // The first order is requested now, while the decision is being journaled: the order service
    // prepares it meanwhile and journals its intent (then sends it) only once the decision is
    // committed (`after`); a candle decided before withdraws it, and nothing is journaled or sent.
    const journaled = this.journal(l, entry);
    const after = journaled.then(async (d) => {
      if (d) await this.d.hooks?.afterDecision?.(d);
      return d !== null;
    });
    const first = this.request(l, plan[0]!, closeAt, price, after);
    let d: DecisionRow | null;
    try {
      d = await journaled;
    } catch (e) {
      await first.done;
      first.spent();
      throw e;
    }
    if (!d) {
      await first.done; // withdrawn
      first.spent();
      return;
    }
    await this.executeLegs(l, d, closeAt, price, first);
  }

  /** A leg that needs nothing done before its order (a close whose coins a native pair holds waits for `release`). */
  private requestableAtOnce(l: Live, leg: Leg): boolean {
    return !(leg.leg === 'close' && this.d.protection && (l.row.stop_loss || l.row.take_profit));
  }

  /**
   * A leg's order requested from the order service (market; source 'strategy', the activation as its
   * reference, the leg's planned client order id), with what the engine knows (`knownFor`) and, when
   * given, the record to be committed first (`after`). `latency`: from the candle's close to this
   * request; `done`: settles with the order either way; `spent`: releases the leg's share of the
   * cached balance (once its fill has moved the cache, or it failed).
   */
  private request(l: Live, leg: Leg, closeAt: number | null, price: CandlePrice | null, after?: Promise<boolean>, withBalance = true): Requested {
    const row = l.row;
    const latency = closeAt !== null ? this.clock.now() - closeAt : null;
    const k = this.knownFor(l, leg, price, withBalance);
    const order = this.d.orders.place(row.profile_id, {
      brokerId: row.broker_id!,
      symbol: row.symbol,
      side: leg.side,
      type: 'market',
      ...(leg.cost !== undefined ? { cost: leg.cost } : { amount: leg.amount }),
      source: 'strategy',
      sourceRef: row.id,
      clientOrderId: leg.clientOrderId,
      ...(k.known ? { known: k.known } : {}),
      ...(after ? { after } : {}),
    });
    const done = order.then(
      () => undefined,
      () => undefined,
    );
    let released = false;
    const spent = () => {
      if (!released) k.spent?.();
      released = true;
    };
    return { order, latency, done, spent };
  }

  /** The orders a decision calls for on the activation's own book (spot: long only). */
  private async plan(l: Live, decision: Decision, candleTime: number, available: Decimal): Promise<Leg[]> {
    const row = l.row;
    const long = row.position_side === 'long';
    const id = (leg: Leg['leg']) => botClientOrderId(row.id, 'signal', candleTime, leg);
    switch (decision.action) {
      case 'open_long':
      case 'reverse_to_long': {
        if (row.position_side) return [];
        const cost = await this.openCost(l, decision.size ?? 0, available);
        if (cost.lte(0)) return [];
        return [{ leg: 'open', side: 'buy', cost: cost.toFixed(), clientOrderId: id('open'), stopLoss: decision.stopLoss, takeProfit: decision.takeProfit }];
      }
      case 'close':
      case 'open_short':
      case 'reverse_to_short':
        if (!long) return [];
        return [{ leg: 'close', side: 'sell', amount: row.position_amount.toFixed(), clientOrderId: id('close'), exitReason: decision.action === 'close' ? 'signal' : 'reverse' }];
      default:
        return [];
    }
  }

  /** size × the available budget, never above the broker's free quote balance (8 decimals, rounded down). */
  private async openCost(l: Live, size: number, available: Decimal): Promise<Decimal> {
    const want = available.times(Math.min(1, Math.max(0, size)));
    if (want.lte(0)) return want;
    const { quote } = splitSymbol(l.row.symbol);
    // the bot's balance cache (read at start and by reconcile, moved by fills, refreshed in the
    // background): no REST on the signal path. The same cached free balance goes to the order service
    // with the order (`knownFor`), which checks the order against it instead of reading the
    // exchange's; the exchange itself still refuses what the account cannot pay.
    const key = balanceKey(l.row.profile_id, l.row.broker_id!);
    const book = this.balances.get(key) ?? (await this.readBalance(l.row.profile_id, l.row.broker_id!));
    const free = book.free.get(quote) ?? new Decimal(0);
    return Decimal.min(want, free).toDecimalPlaces(8, Decimal.ROUND_DOWN);
  }

  /**
   * Stop-loss / take-profit on a 1m candle of the symbol: close at market (engine on or off). With a
   * native pair at the exchange, the exchange asked only when the candle reached a level (else the
   * pair is still resting: no REST call on the signal path); the reconcile pass (`s` null) asks
   * every minute regardless, so a pair cancelled or executed at the exchange is seen within a minute.
   */
  private async protect(l: Live, s: HeartbeatSignal | null): Promise<void> {
    const row = l.row;
    if (!row.position_side || row.state === 'stopped' || this.stopped) return;
    if (s && row.protection === 'native' && !this.levelReached(row, s)) return; // resting at the exchange
    const native = this.d.protection ? await this.d.protection.check(row).catch((e: unknown) => (this.log.warn({ activation: row.id, err: errMessage(e) }, 'native stop-loss / take-profit not checked'), 'native' as const)) : null;
    if (native === 'native') {
      // held by the exchange (and said so, should a crash have come between placing it and saying it)
      if (row.protection !== 'native') await this.setProtection(l, 'native');
      return;
    }
    const candleTime = s?.openTime ?? floorToTimeframe(this.clock.now(), '1m');
    if (native) {
      // A native leg executed: booked as the close leg (its client order id answers the journaled order).
      const plan: Leg[] = [{ leg: 'close', side: 'sell', amount: row.position_amount.toFixed(), clientOrderId: native.clientOrderId, exitReason: native.kind }];
      const d = await this.journal(l, { kind: native.kind, candleTime, action: 'close', reason: say(native.kind === 'stop_loss' ? 'coreBot.decision.stopLossNative' : 'coreBot.decision.takeProfitNative', { order: native.clientOrderId }), plan });
      if (d) await this.executeLegs(l, d, null);
      return;
    }
    // no pair (or it is gone without executing: cancelled at the exchange): the engine watches
    if (row.protection === 'native') {
      this.log.warn({ activation: row.id }, 'bot: the native stop-loss / take-profit pair is gone; the engine watches the levels');
      await this.setProtection(l, 'engine');
    }
    if (!s) return;
    const low = new Decimal(s.candle.low);
    const high = new Decimal(s.candle.high);
    const kind: DecisionKind | null = row.stop_loss && low.lte(row.stop_loss) ? 'stop_loss' : row.take_profit && high.gte(row.take_profit) ? 'take_profit' : null;
    if (!kind) return;
    const level = kind === 'stop_loss' ? row.stop_loss! : row.take_profit!;
    const plan: Leg[] = [{ leg: 'close', side: 'sell', amount: row.position_amount.toFixed(), clientOrderId: botClientOrderId(row.id, kind, s.openTime, 'close'), exitReason: kind }];
    const d = await this.journal(l, { kind, candleTime: s.openTime, action: 'close', reason: say(kind === 'stop_loss' ? 'coreBot.decision.stopLossReached' : 'coreBot.decision.takeProfitReached', { level: level.toFixed(), low: s.candle.low, high: s.candle.high }), plan });
    if (d) await this.executeLegs(l, d, s.closeTime + 1, { value: String(s.candle.close), at: s.closeTime + 1 });
  }

  private async endReached(l: Live): Promise<void> {
    const hadPosition = !!l.row.position_side;
    if (hadPosition) {
      const ok = await this.closeNow(l, 'stop', say('coreBot.decision.endReached')).catch(() => false);
      if (!ok) return; // the refusal is journaled and shown; tried again at the next signal
    }
    await this.setState(l, 'stopped', say(hadPosition ? 'coreBot.state.endReachedClosed' : 'coreBot.state.endReached'));
    this.unload(l);
  }

  // ── orders and the book ─────────────────────────────────────────────────────────────────────────

  /**
   * Places the legs not done yet, in order, with their planned client order ids; each outcome goes
   * into the book and the decision in one transaction. `closeAt`: the candle's close, for latency.
   */
  private async executeLegs(l: Live, decision: DecisionRow, closeAt: number | null, price: CandlePrice | null = null, first: Requested | null = null): Promise<boolean> {
    let d = decision;
    const row = l.row;
    // (with `first`, the hook ran before the order service journaled the order's intent)
    if (d.legs_done === 0 && !first) await this.d.hooks?.afterDecision?.(d);
    let early = first;
    for (let i = d.legs_done; i < d.plan.length; i++) {
      const leg = d.plan[i]!;
      // the first leg's order already requested (decideOn), once; else (and a retry) requested here
      let req = i === 0 ? early : null;
      early = null;
      // measured at the order request, written with the order's outcome (no statement of its own)
      let latency = i === 0 && closeAt !== null ? (req?.latency ?? null) : null;
      let order: OrderRow;
      try {
        try {
          if (!req) {
            // a native pair holds the coins until `release`: the cache counts them as locked until re-read
            const heldByPair = leg.leg === 'close' && !!this.d.protection && (!!l.row.stop_loss || !!l.row.take_profit);
            if (leg.leg === 'close') await this.release(l);
            req = this.request(l, leg, i === 0 ? closeAt : null, price, undefined, !heldByPair);
            latency = req.latency;
          }
          order = await req.order;
        } catch (e) {
          const journaled = isAppError(e) ? (e.details as { order?: { id?: string; errorCode?: string | null } } | undefined)?.order : undefined;
          const orderId = journaled?.id ?? null;
          if (journaled?.errorCode === 'not_sent') {
            // The previous attempt provably never reached the exchange (the app died before sending
            // it): the leg gets a new attempt id, journaled in the plan before it is sent.
            const again = await this.retryNotSent(l, d, i);
            if (again) {
              d = again;
              i--;
              continue;
            }
          }
          const cause = nested(saidOf(e));
          d = await this.settleDecision(l, d, { status: 'error', error: say('coreBot.decision.orderRefused', { reason: cause }), orderId, latency });
          await this.setReason(l, say('coreBot.state.orderRefused', { reason: cause }));
          return false;
        }
        const filled = order.filled;
        if (order.status === 'intent' || order.status === 'sent' || order.status === 'unknown') {
          // The answer is lost: the order service looks it up; the next start replays this leg with the same id.
          const why = order.error_message ?? { key: `coreBot.orderStatus.${order.status}` };
          d = await this.settleDecision(l, d, { status: 'pending', error: say('coreBot.decision.outcomeUnknown', { clientOrderId: order.client_order_id, reason: why }), orderId: order.id, latency });
          await this.setReason(l, say('coreBot.state.outcomeUnknown', { clientOrderId: order.client_order_id }));
          return false;
        }
        if (filled.lte(0)) {
          const status = { key: `coreBot.orderStatus.${order.status}` };
          d = await this.settleDecision(l, d, { status: 'error', error: say('coreBot.decision.noFill', { status }), orderId: order.id, latency });
          await this.setReason(l, say('coreBot.state.noFill', { status }));
          return false;
        }
        d = await this.applyFill(l, d, i, leg, order, latency);
      } finally {
        // what this leg spends was counted against the cached balance until its fill has moved the cache
        req?.spent();
      }
      if (leg.leg === 'open' && this.d.protection) {
        const p = await this.d.protection.place(l.row).catch((e: unknown) => (this.log.warn({ activation: row.id, err: errMessage(e) }, 'native stop-loss / take-profit not placed; watched by the engine'), null));
        if (p?.mode === 'native') await this.setProtection(l, 'native');
      }
    }
    return true;
  }

  /**
   * What the engine already knows for a market leg, handed to the order service so that the order
   * leaves without its ticker and balance reads (REST, spaced by CCXT's rate limiter):
   * - the close of the candle decided on, with its time as a wall-clock time (the engine's clock
   *   may not be the wall clock: the age on the engine's clock is what is kept); the order service
   *   reads the ticker instead when it is too old;
   * - the cached free balance of the asset the leg spends (the quote to open, the base to close),
   *   less what the bot's other legs on that broker are spending at this moment (their fills have
   *   not moved the cache yet): `spent` releases this leg's share once its fill has moved the cache.
   *   Not given when the cache does not hold the broker, or (`withBalance` false) for a close whose
   *   coins a native pair held until just now (the cache still counts them as locked).
   */
  private knownFor(l: Live, leg: Leg, price: CandlePrice | null, withBalance: boolean): { known: KnownState | null; spent: (() => void) | null } {
    const known: KnownState = {};
    if (price) known.price = { value: price.value, observedAt: Date.now() - (this.clock.now() - price.at) };
    let spent: (() => void) | null = null;
    const { base, quote } = splitSymbol(l.row.symbol);
    const asset = leg.side === 'buy' ? quote : base;
    const book = withBalance ? this.balances.get(balanceKey(l.row.profile_id, l.row.broker_id!)) : undefined;
    const needs = leg.side === 'buy' ? leg.cost : leg.amount;
    const free = book?.free.get(asset);
    if (free && needs !== undefined) {
      const key = `${balanceKey(l.row.profile_id, l.row.broker_id!)}|${asset}`;
      const others = this.spending.get(key) ?? new Decimal(0);
      known.free = { asset, amount: Decimal.max(0, free.minus(others)).toFixed() };
      const mine = new Decimal(needs);
      this.spending.set(key, others.plus(mine));
      spent = () => {
        const left = (this.spending.get(key) ?? mine).minus(mine);
        if (left.lte(0)) this.spending.delete(key);
        else this.spending.set(key, left);
      };
    }
    return { known: known.price || known.free ? known : null, spent };
  }

  /**
   * A leg whose order never reached the exchange gets one more attempt (at most 3 in all) under a
   * new client order id (the original + `.n`), written into the plan first. An opening leg is not
   * retried once its candle is more than one timeframe old (never acted on late).
   */
  private async retryNotSent(l: Live, d: DecisionRow, index: number): Promise<DecisionRow | null> {
    const leg = d.plan[index]!;
    const [root, n] = leg.clientOrderId.split('.');
    const attempt = Number(n ?? 1) + 1;
    if (attempt > 3) return null;
    if (leg.leg === 'open' && d.kind === 'signal' && this.clock.now() - (d.candle_time.getTime() + timeframeMs(l.row.timeframe)) > timeframeMs(l.row.timeframe)) return null;
    const plan = d.plan.map((x, j) => (j === index ? { ...x, clientOrderId: `${root}.${attempt}` } : x));
    const r = await this.d.db.withProfile(l.row.profile_id, (c) => c.query<DecisionRow>("UPDATE bot_decisions SET plan = $2::jsonb, updated_at = now() WHERE id = $1 AND status IN ('pending', 'error') RETURNING *", [d.id, JSON.stringify(plan)]));
    if (!r.rows[0]) return null;
    this.log.info({ activation: l.row.id, decision: d.id, was: leg.clientOrderId, now: `${root}.${attempt}` }, 'bot: an order that never reached the exchange is placed again under a new client order id');
    return r.rows[0];
  }

  private async applyFill(l: Live, d: DecisionRow, index: number, leg: Leg, o: OrderRow, latency: number | null = null): Promise<DecisionRow> {
    const { base, quote } = splitSymbol(l.row.symbol);
    const fee = feeInQuote(o, base, quote);
    const price = o.average_price ?? (o.cost && o.filled.gt(0) ? o.cost.div(o.filled) : new Decimal(0));
    const cost = o.cost ?? o.filled.times(price);
    const at = o.closed_at ?? o.updated_at ?? new Date();
    const { row, decision } = await this.d.db.withProfile(l.row.profile_id, async (c) => {
      const a = (await getActivation(c, l.row.id, true))!;
      if (leg.leg === 'open') {
        const amount = o.fee_currency === base && o.fee ? o.filled.minus(o.fee) : o.filled;
        const spent = o.fee_currency === quote && o.fee ? cost.plus(o.fee) : cost;
        await c.query(
          `UPDATE bot_activations SET position_side = 'long', position_amount = $2, entry_price = $3, entry_cost = $4, entry_fee = $5, entry_time = $6, entry_order_id = $7,
             stop_loss = $8, take_profit = $9, updated_at = now() WHERE id = $1`,
          [a.id, amount.toFixed(), price.toFixed(), spent.toFixed(), fee.toFixed(), at, o.id, leg.stopLoss ? price.times(1 - leg.stopLoss).toFixed() : null, leg.takeProfit ? price.times(1 + leg.takeProfit).toFixed() : null],
        );
      } else {
        const held = a.position_amount;
        const share = held.gt(0) ? Decimal.min(1, o.filled.div(held)) : new Decimal(1);
        const entryCost = (a.entry_cost ?? new Decimal(0)).times(share);
        const proceeds = o.fee_currency === quote && o.fee ? cost.minus(o.fee) : o.fee_currency === base && o.fee ? cost.minus(fee) : cost;
        const pnl = proceeds.minus(entryCost);
        const fees = fee.plus((a.entry_fee ?? new Decimal(0)).times(share));
        await c.query(
          `INSERT INTO bot_trades (activation_id, side, amount, entry_price, exit_price, entry_time, exit_time, fees, pnl, exit_reason, entry_order_id, exit_order_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [a.id, a.position_side ?? 'long', o.filled.toFixed(), (a.entry_price ?? price).toFixed(), price.toFixed(), a.entry_time ?? at, at, fees.toFixed(), pnl.toFixed(), leg.exitReason ?? 'signal', a.entry_order_id, o.id],
        );
        // what the step rounding left (dust) stays on the account; the activation's position is closed
        await c.query(
          `UPDATE bot_activations SET position_side = NULL, position_amount = 0, entry_price = NULL, entry_cost = NULL, entry_fee = NULL, entry_time = NULL, entry_order_id = NULL,
             stop_loss = NULL, take_profit = NULL, realised_pnl = realised_pnl + $2, updated_at = now() WHERE id = $1`,
          [a.id, pnl.toFixed()],
        );
      }
      const done = index + 1 >= d.plan.length;
      const dr = await c.query<DecisionRow>(
        `UPDATE bot_decisions SET legs_done = $2, order_ids = array_append(order_ids, $3::uuid), status = CASE WHEN $4 THEN 'done' ELSE status END, error = NULL,
           latency_ms = COALESCE($5::numeric, latency_ms), updated_at = now() WHERE id = $1 RETURNING *`,
        [d.id, index + 1, o.id, done, latency],
      );
      const reason = a.state === 'running' && a.state_reason ? ', state_reason = NULL, state_reason_key = NULL, state_reason_params = NULL' : '';
      const ar = await c.query<ActivationRow>(`UPDATE bot_activations SET last_decision_at = now()${reason} WHERE id = $1 RETURNING *`, [a.id]);
      return { row: ar.rows[0]!, decision: dr.rows[0]! };
    });
    l.row = row;
    const received = o.fee_currency === base && o.fee ? o.filled.minus(o.fee) : o.filled;
    if (row.broker_id) {
      this.moveBalance(row.profile_id, row.broker_id, leg.leg === 'open' ? [[quote, (o.fee_currency === quote && o.fee ? cost.plus(o.fee) : cost).negated()], [base, received]] : [[base, o.filled.negated()], [quote, o.fee_currency === quote && o.fee ? cost.minus(o.fee) : cost]]);
    }
    this.emitDecision(row, decision);
    this.emitUpdated(row);
    return decision;
  }

  private async settleDecision(l: Live, d: DecisionRow, s: { status: DecisionRow['status']; error: Said; orderId: string | null; latency?: number | null }): Promise<DecisionRow> {
    const r = await this.d.db.withProfile(l.row.profile_id, (c) =>
      c.query<DecisionRow>(
        `UPDATE bot_decisions SET status = $2, error = $3, order_ids = CASE WHEN $4::uuid IS NULL OR $4::uuid = ANY(order_ids) THEN order_ids ELSE array_append(order_ids, $4::uuid) END,
           latency_ms = COALESCE($5::numeric, latency_ms), error_key = $6, error_params = $7::jsonb, updated_at = now() WHERE id = $1 RETURNING *`,
        [d.id, s.status, s.error.text, s.orderId, s.latency ?? null, s.error.key, JSON.stringify(s.error.params)],
      ),
    );
    const out = r.rows[0]!;
    this.emitDecision(l.row, out);
    return out;
  }

  /** Journals a decision (unique per activation, kind and candle): null when that candle was decided before. */
  private async journal(l: Live, j: { kind: DecisionKind; candleTime: number; action: string; reason: Said; plan?: Leg[]; status?: DecisionRow['status']; error?: Said }): Promise<DecisionRow | null> {
    const status = j.status ?? (j.plan && j.plan.length ? 'pending' : 'done');
    // batched with the other activations' decisions of the same moment (journal.ts): one statement
    const r = await this.decisionJournal.insert({
      profileId: l.row.profile_id, activationId: l.row.id, kind: j.kind, candleTime: j.candleTime, action: j.action, reason: j.reason.text, status, error: j.error?.text ?? null, plan: j.plan ?? [],
      reasonKey: j.reason.key, reasonParams: j.reason.params, errorKey: j.error?.key ?? null, errorParams: j.error?.params ?? null,
    });
    if (!r) {
      this.log.info({ activation: l.row.id, kind: j.kind, candle: new Date(j.candleTime).toISOString() }, 'bot: this candle was decided before; not again');
      return null;
    }
    this.emitDecision(l.row, r);
    return r;
  }

  private async closeNow(l: Live, kind: 'sell' | 'stop', reason: Said): Promise<boolean> {
    const row = l.row;
    if (!row.position_side) return true;
    const d = await this.d.db.withProfile(row.profile_id, async (c) => {
      const ins = await c.query<DecisionRow>(`INSERT INTO bot_decisions (activation_id, kind, candle_time, action, reason, status, reason_key, reason_params) VALUES ($1, $2, now(), 'close', $3, 'pending', $4, $5::jsonb) RETURNING *`, [row.id, kind, reason.text, reason.key, JSON.stringify(reason.params)]);
      const dr = ins.rows[0]!;
      const plan: Leg[] = [{ leg: 'close', side: 'sell', amount: row.position_amount.toFixed(), clientOrderId: botClientOrderId(row.id, kind, dr.id, 'close'), exitReason: kind }];
      return (await c.query<DecisionRow>('UPDATE bot_decisions SET plan = $2::jsonb WHERE id = $1 RETURNING *', [dr.id, JSON.stringify(plan)])).rows[0]!;
    });
    this.emitDecision(row, d);
    return this.executeLegs(l, d, null);
  }

  private unloadSandbox(l: Live): void {
    const sb = l.sandbox;
    l.sandbox = null;
    l.loaded = null;
    void sb?.then((s) => s.dispose()).catch(() => undefined);
  }

  private async setState(l: Live, state: ActivationRow['state'], reason: Said | null): Promise<void> {
    const r = await this.d.db.withProfile(l.row.profile_id, (c) =>
      c.query<ActivationRow>('UPDATE bot_activations SET state = $2, state_reason = $3, state_reason_key = $4, state_reason_params = $5::jsonb, updated_at = now() WHERE id = $1 RETURNING *', [
        l.row.id,
        state,
        reason?.text ?? null,
        reason?.key ?? null,
        reason ? JSON.stringify(reason.params) : null,
      ]),
    );
    if (r.rows[0]) l.row = r.rows[0];
    this.emitUpdated(l.row);
  }

  private async setReason(l: Live, reason: Said | null): Promise<void> {
    await this.setState(l, l.row.state, reason);
  }

  /** Whether a 1m candle reached the activation's stop-loss or take-profit. */
  private levelReached(row: ActivationRow, s: HeartbeatSignal): boolean {
    return (!!row.stop_loss && new Decimal(s.candle.low).lte(row.stop_loss)) || (!!row.take_profit && new Decimal(s.candle.high).gte(row.take_profit));
  }

  /** Cancels the activation's native pair, if any (before a close, or when the activation lets the position go). */
  private async release(l: Live): Promise<void> {
    if (!this.d.protection || (!l.row.stop_loss && !l.row.take_profit)) return;
    await this.d.protection.release(l.row);
    if (l.row.protection === 'native') await this.setProtection(l, 'engine');
  }

  private async setProtection(l: Live, protection: ActivationRow['protection']): Promise<void> {
    const r = await this.d.db.withProfile(l.row.profile_id, (c) => c.query<ActivationRow>('UPDATE bot_activations SET protection = $2, updated_at = now() WHERE id = $1 RETURNING *', [l.row.id, protection]));
    if (r.rows[0]) l.row = r.rows[0];
    this.emitUpdated(l.row);
  }

  private emitDecision(row: ActivationRow, d: DecisionRow): void {
    this.d.bus.emit('bot.decision', toDecisionDto(d), { profileId: row.profile_id });
  }

  private emitUpdated(row: ActivationRow): void {
    this.d.bus.emit('bot.updated', { id: row.id, state: row.state, reason: row.state_reason, reasonKey: row.state_reason_key, reasonParams: row.state_reason_params }, { profileId: row.profile_id });
  }

  // ── balances and reconciliation ─────────────────────────────────────────────────────────────────

  /** Reads a broker's balances from the exchange into the cache (one read at a time per broker). */
  private readBalance(profileId: string, brokerId: string): Promise<BalanceBook> {
    const key = balanceKey(profileId, brokerId);
    let p = this.balanceReads.get(key);
    if (!p) {
      p = (async () => {
        const { ex } = await this.d.brokers.exchangeFor(profileId, brokerId);
        const book = toBalanceBook((await ex.fetchBalance()) as unknown as { free?: unknown; total?: unknown }, this.clock.now());
        this.balances.set(key, book);
        return book;
      })().finally(() => this.balanceReads.delete(key));
      this.balanceReads.set(key, p);
    }
    return p;
  }

  private scheduleBalanceRead(profileId: string, brokerId: string): void {
    const key = balanceKey(profileId, brokerId);
    if (this.stopped || this.balanceTimers.has(key) || !this.balances.has(key)) return;
    const t = setTimeout(() => {
      this.balanceTimers.delete(key);
      if (!this.stopped) this.track(this.readBalance(profileId, brokerId).then(() => undefined));
    }, this.cfg.balanceRefreshDelayMs);
    t.unref();
    this.balanceTimers.set(key, t);
  }

  /** The bot's own fill moves the cached balances at once (the background read confirms them). */
  private moveBalance(profileId: string, brokerId: string, changes: [string, Decimal][]): void {
    const book = this.balances.get(balanceKey(profileId, brokerId));
    if (!book) return;
    for (const [ccy, delta] of changes) {
      book.free.set(ccy, Decimal.max(0, (book.free.get(ccy) ?? new Decimal(0)).plus(delta)));
      book.total.set(ccy, Decimal.max(0, (book.total.get(ccy) ?? new Decimal(0)).plus(delta)));
    }
    this.scheduleBalanceRead(profileId, brokerId);
  }

  /**
   * Brings the books in line with the exchanges (at start and every `reconcileIntervalMs`): the
   * order service settles the orders whose answer was lost (filled or cancelled while the app was
   * off), decisions left pending are taken up again with the same client order ids, every broker's
   * balances are re-read (the cache), and an activation whose position the account no longer holds
   * (coins sold outside the app) is suspended with the reason. One run at a time.
   */
  reconcile(): Promise<ReconcileReport> {
    this.reconcileRun ??= this.reconcileNow().finally(() => (this.reconcileRun = null));
    return this.reconcileRun;
  }

  private async reconcileNow(): Promise<ReconcileReport> {
    const report: ReconcileReport = { mismatched: [], replayed: 0, unreadable: [] };
    const profiles = new Set([...this.live.values()].map((l) => l.row.profile_id));
    for (const profileId of profiles) {
      if (this.stopped) break;
      try {
        await this.d.orders.reconcile?.(profileId);
      } catch (e) {
        this.log.warn({ err: errMessage(e) }, 'bot: the order service could not reconcile its pending orders');
      }
      const pending = await this.d.db.withProfile(profileId, async (c) => (await c.query<DecisionRow>("SELECT * FROM bot_decisions WHERE status = 'pending' ORDER BY created_at")).rows);
      const replays: Promise<void>[] = [];
      for (const d of pending) {
        const l = this.live.get(d.activation_id);
        if (!l) continue;
        report.replayed++;
        replays.push(this.enqueue(l, () => this.replay(l, d.id)));
      }
      if (pending.length) this.log.info({ decisions: pending.length }, 'bot: taking up decisions left pending');
      await Promise.all(replays);
      // native pairs asked every pass (an executed leg is booked before the books are compared)
      await Promise.all([...this.live.values()].filter((l) => l.row.profile_id === profileId && l.row.protection === 'native' && l.row.position_side).map((l) => this.enqueue(l, () => this.protect(l, null))));
      const brokers = new Set([...this.live.values()].filter((l) => l.row.profile_id === profileId && l.row.broker_id).map((l) => l.row.broker_id!));
      for (const brokerId of brokers) {
        if (this.stopped) break;
        try {
          await this.readBalance(profileId, brokerId);
        } catch (e) {
          report.unreadable.push(brokerId);
          this.log.warn({ broker: brokerId, err: errMessage(e) }, 'bot: a broker balance could not be read; its books are not checked this time');
          continue;
        }
        let short = this.shortBooks(profileId, brokerId);
        if (short.length === 0) continue;
        // Confirm after the decisions under way (a fill between the read and the books): a fresh read.
        await Promise.all(short.map((x) => x.l.queue));
        try {
          await this.readBalance(profileId, brokerId);
        } catch {
          report.unreadable.push(brokerId);
          continue;
        }
        short = this.shortBooks(profileId, brokerId);
        for (const { l, reason, error } of short) {
          report.mismatched.push({ id: l.row.id, reason });
          await this.enqueue(l, () => this.suspendMismatched(l, saidOf(error)));
        }
      }
    }
    return report;
  }

  /** A pending decision taken up again, as it is now (it may have been settled meanwhile). */
  private async replay(l: Live, decisionId: string): Promise<void> {
    const d = await this.d.db.withProfile(l.row.profile_id, async (c) => (await c.query<DecisionRow>('SELECT * FROM bot_decisions WHERE id = $1', [decisionId])).rows[0]);
    if (d?.status !== 'pending') return;
    await this.executeLegs(l, d, null);
  }

  /**
   * The activations of a broker whose positions the account no longer holds: per base currency,
   * the books of the activations still trading it (running, suspended, error) against the account's
   * total (free + locked in orders: a resting stop order holds the coins without selling them).
   */
  private shortBooks(profileId: string, brokerId: string): { l: Live; reason: string; error: AppError }[] {
    const book = this.balances.get(balanceKey(profileId, brokerId));
    if (!book) return [];
    const byBase = new Map<string, Live[]>();
    for (const l of this.live.values()) {
      const r = l.row;
      if (r.profile_id !== profileId || r.broker_id !== brokerId || !r.position_side || r.state === 'stopped') continue;
      const { base } = splitSymbol(r.symbol);
      byBase.set(base, [...(byBase.get(base) ?? []), l]);
    }
    const out: { l: Live; reason: string; error: AppError }[] = [];
    for (const [base, ls] of byBase) {
      const need = ls.reduce((a, l) => a.plus(l.row.position_amount), new Decimal(0));
      const have = book.total.get(base) ?? new Decimal(0);
      if (have.gte(need)) continue;
      for (const l of ls) {
        if (l.row.state !== 'running' && l.row.state !== 'suspended') continue;
        const at = { have: have.toFixed(), own: l.row.position_amount.toFixed(), base };
        const error = ls.length > 1 ? new AppError('conflict', 'errors.bot.bookMismatchShared', { ...at, need: need.toFixed(), count: ls.length }) : new AppError('conflict', 'errors.bot.bookMismatch', at);
        out.push({ l, reason: error.message, error });
      }
    }
    return out;
  }

  private async suspendMismatched(l: Live, reason: Said): Promise<void> {
    if (l.row.state === 'suspended' && l.row.state_reason === reason.text) return;
    const was = l.row.state;
    await this.setState(l, 'suspended', reason);
    const d = await this.d.db.withProfile(l.row.profile_id, async (c) =>
      (
        await c.query<DecisionRow>(`INSERT INTO bot_decisions (activation_id, kind, candle_time, action, reason, status, reason_key, reason_params) VALUES ($1, 'reconcile', now(), 'suspend', $2, 'done', $3, $4::jsonb) RETURNING *`, [
          l.row.id,
          reason.text,
          reason.key,
          JSON.stringify(reason.params),
        ])
      ).rows[0]!,
    );
    this.emitDecision(l.row, d);
    this.log.warn({ activation: l.row.id, was, reason: reason.text }, 'bot: the book no longer matches the exchange; activation suspended');
  }

  /**
   * Adopt the exchange's state: the activation's position becomes what the account holds for it
   * (the account's total of the base currency less the other activations' books), journaled as an
   * `adopt` decision; its entry cost and fee shrink in proportion. Refused when the book matches.
   */
  async adopt(profileId: string, id: string): Promise<ActivationDto> {
    const cur = await this.row(profileId, id);
    if (cur.state === 'stopped') throw new AppError('conflict', 'errors.bot.activationStoppedPositionNo');
    if (!cur.position_side || !cur.broker_id) throw new AppError('conflict', 'errors.bot.activationHasNoOpen');
    const l = await this.register(cur);
    let failure: Error | null = null;
    await this.enqueue(l, async () => {
      const row = l.row;
      const { base } = splitSymbol(row.symbol);
      const book = await this.readBalance(profileId, row.broker_id!);
      const have = book.total.get(base) ?? new Decimal(0);
      let others = new Decimal(0);
      for (const o of this.live.values()) {
        if (o === l || o.row.profile_id !== profileId || o.row.broker_id !== row.broker_id || !o.row.position_side || o.row.state === 'stopped') continue;
        if (splitSymbol(o.row.symbol).base === base) others = others.plus(o.row.position_amount);
      }
      const own = row.position_amount;
      const next = Decimal.max(0, Decimal.min(own, have.minus(others)));
      if (next.eq(own)) {
        failure = others.gt(0)
          ? new AppError('conflict', 'errors.bot.bookMatchesOthers', { have: have.toFixed(), own: own.toFixed(), others: others.toFixed(), base })
          : new AppError('conflict', 'errors.bot.bookMatches', { have: have.toFixed(), own: own.toFixed(), base });
        return;
      }
      const reason = say(others.gt(0) ? 'coreBot.decision.adoptedOthers' : 'coreBot.decision.adopted', { own: own.toFixed(), next: next.toFixed(), base, have: have.toFixed(), others: others.toFixed() });
      const stateReason = say('coreBot.state.resumeWhenReady', { reason: nested(reason) });
      const share = own.gt(0) ? next.div(own) : new Decimal(0);
      const r = await this.d.db.withProfile(profileId, async (c) => {
        const a = next.gt(0)
          ? await c.query<ActivationRow>(
              'UPDATE bot_activations SET position_amount = $2, entry_cost = entry_cost * $3, entry_fee = entry_fee * $3, state_reason = $4, state_reason_key = $5, state_reason_params = $6::jsonb, updated_at = now() WHERE id = $1 RETURNING *',
              [row.id, next.toFixed(), share.toFixed(), stateReason.text, stateReason.key, JSON.stringify(stateReason.params)],
            )
          : await c.query<ActivationRow>(
              `UPDATE bot_activations SET position_side = NULL, position_amount = 0, entry_price = NULL, entry_cost = NULL, entry_fee = NULL, entry_time = NULL, entry_order_id = NULL,
                 stop_loss = NULL, take_profit = NULL, state_reason = $2, state_reason_key = $3, state_reason_params = $4::jsonb, updated_at = now() WHERE id = $1 RETURNING *`,
              [row.id, stateReason.text, stateReason.key, JSON.stringify(stateReason.params)],
            );
        const d = await c.query<DecisionRow>(`INSERT INTO bot_decisions (activation_id, kind, candle_time, action, reason, status, reason_key, reason_params) VALUES ($1, 'adopt', now(), 'adopt', $2, 'done', $3, $4::jsonb) RETURNING *`, [
          row.id,
          reason.text,
          reason.key,
          JSON.stringify(reason.params),
        ]);
        return { row: a.rows[0]!, decision: d.rows[0]! };
      });
      l.row = r.row;
      this.emitDecision(r.row, r.decision);
      this.emitUpdated(r.row);
      this.log.info({ activation: row.id, from: own.toFixed(), to: next.toFixed() }, 'bot: book adopted from the exchange');
    });
    if (failure) throw failure as Error;
    return toActivationDto(l.row);
  }

  // ── the API ─────────────────────────────────────────────────────────────────────────────────────

  async list(profileId: string): Promise<ActivationDto[]> {
    return this.d.db.withProfile(profileId, async (c) => (await c.query<ActivationRow>('SELECT * FROM bot_activations ORDER BY created_at DESC')).rows.map(toActivationDto));
  }

  private async row(profileId: string, id: string): Promise<ActivationRow> {
    const r = await this.d.db.withProfile(profileId, (c) => getActivation(c, id));
    if (!r) throw new AppError('not_found', 'errors.bot.noSuchActivation', {}, { id });
    return r;
  }

  async get(profileId: string, id: string): Promise<ActivationDto> {
    return toActivationDto(await this.row(profileId, id));
  }

  /** `admit`, when given, runs once the input is valid and before anything is stored (the road to live's gate). */
  async create(profileId: string, input: CreateActivation, admit?: () => Promise<void>): Promise<ActivationDto> {
    let version;
    try {
      version = await this.d.strategies.getVersion(profileId, input.strategyId, input.version);
    } catch (e) {
      if (isAppError(e) && e.code === 'not_found') throw bad(input.version !== undefined ? 'version' : 'strategyId', e.key, e.params);
      throw e;
    }
    try {
      await this.d.kernel.info({ js: version.js });
    } catch (e) {
      throw bad('strategyId', 'errors.bot.strategyVersionDoesNot', { name: version.name, version: version.version, errMessage: errMessage(e) });
    }
    const params = this.checkParams(version.params, input.params ?? {});
    const budget = new Decimal(input.budget);
    if (!budget.isFinite() || budget.lte(0)) throw bad('budget', 'errors.bot.budgetMustMoreThan', {});
    const from = parseWhen(input.from, 'from');
    const to = parseWhen(input.to, 'to');
    if (from && to && to.getTime() <= from.getTime()) throw bad('to', 'errors.bot.endMustAfterStart', {});
    if (to && to.getTime() <= this.clock.now()) throw bad('to', 'errors.bot.endDateAlreadyPast', {});
    const { ex } = await this.d.brokers.exchangeFor(profileId, input.brokerId).catch((e: unknown) => {
      if (isAppError(e) && e.code === 'not_found') throw bad('brokerId', e.key, e.params);
      throw e;
    });
    const market = ex.markets?.[input.symbol];
    if (!market) throw bad('symbol', 'errors.bot.hasNoMarket', { id: ex.id, symbol: input.symbol });
    if (market.spot === false) throw bad('symbol', 'errors.bot.notSpotMarketBot', { symbol: input.symbol });
    const { quote } = splitSymbol(input.symbol);
    const free = (await this.readBalance(profileId, input.brokerId)).free.get(quote) ?? new Decimal(0);
    if (budget.gt(free)) throw bad('budget', 'errors.bot.budgetAboveBrokerS', { budget: budget.toFixed(), quote, free: free.toFixed() });
    if (admit) await admit();
    try {
      await this.d.heartbeat.addSymbol(input.symbol);
    } catch (e) {
      if (isAppError(e) && e.code === 'invalid_input') throw bad('symbol', 'errors.bot.heartbeatCannotWatch', { symbol: input.symbol, reason: e.message });
      throw e;
    }
    const row = await this.d.db.withProfile(profileId, async (c) =>
      (
        await c.query<ActivationRow>(
          `INSERT INTO bot_activations (strategy_id, strategy_name, version, version_id, params, broker_id, symbol, timeframe, starts_at, ends_at, budget)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11) RETURNING *`,
          [version.strategyId, version.name, version.version, version.versionId, JSON.stringify(params), input.brokerId, input.symbol, input.timeframe, from, to, budget.toFixed()],
        )
      ).rows[0]!,
    );
    await this.register(row);
    this.emitUpdated(row);
    this.log.info({ activation: row.id, strategy: version.name, version: version.version, symbol: row.symbol, timeframe: row.timeframe }, 'bot: activation created');
    return toActivationDto(row);
  }

  private checkParams(spec: Record<string, { default: number; min?: number; max?: number }>, given: Record<string, number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(given)) {
      const s = spec[k];
      if (!s) throw bad(`params.${k}`, 'errors.bot.strategyDeclaresNoParam', { k, keys: Object.keys(spec).join(', ') || 'none' });
      if (s.min !== undefined && v < s.min) throw bad(`params.${k}`, 'errors.bot.mustLeast', { k, min: s.min });
      if (s.max !== undefined && v > s.max) throw bad(`params.${k}`, 'errors.bot.mustMost', { k, max: s.max });
      out[k] = v;
    }
    return out;
  }

  async update(profileId: string, input: UpdateActivation): Promise<ActivationDto> {
    const cur = await this.row(profileId, input.id);
    const params = input.params !== undefined ? this.checkParams((await this.d.strategies.getVersion(profileId, cur.strategy_id ?? input.id, cur.version)).params, input.params) : cur.params;
    const budget = input.budget !== undefined ? new Decimal(input.budget) : cur.budget;
    if (budget.lte(0)) throw bad('budget', 'errors.bot.budgetMustMoreThan', {});
    const from = input.from === undefined ? cur.starts_at : parseWhen(input.from, 'from');
    const to = input.to === undefined ? cur.ends_at : parseWhen(input.to, 'to');
    if (from && to && to.getTime() <= from.getTime()) throw bad('to', 'errors.bot.endMustAfterStart', {});
    const row = await this.d.db.withProfile(profileId, async (c) =>
      (await c.query<ActivationRow>('UPDATE bot_activations SET params = $2::jsonb, budget = $3, starts_at = $4, ends_at = $5, updated_at = now() WHERE id = $1 RETURNING *', [cur.id, JSON.stringify(params), budget.toFixed(), from, to])).rows[0]!,
    );
    const l = this.live.get(row.id);
    if (l) l.row = row;
    this.emitUpdated(row);
    return toActivationDto(row);
  }

  async startActivation(profileId: string, id: string): Promise<ActivationDto> {
    const cur = await this.row(profileId, id);
    if (cur.ends_at && cur.ends_at.getTime() <= this.clock.now()) throw bad('id', 'errors.bot.activationHasReachedEnd', {});
    const l = await this.register(cur);
    if (cur.position_side && cur.broker_id) {
      // a book that no longer matches the exchange is not resumed (adopt or close first)
      await this.readBalance(profileId, cur.broker_id);
      const short = this.shortBooks(profileId, cur.broker_id).find((x) => x.l === l);
      if (short) throw short.error;
    }
    if (cur.state === 'error') this.unloadSandbox(l);
    l.release ??= this.d.heartbeat.retain(cur.symbol, cur.timeframe, this.windowSize(l));
    this.enqueue(l, () => this.prepare(l));
    await this.enqueue(l, () => this.setState(l, 'running', null));
    return toActivationDto(l.row);
  }

  async suspendActivation(profileId: string, id: string): Promise<ActivationDto> {
    const cur = await this.row(profileId, id);
    if (cur.state === 'stopped') throw new AppError('conflict', 'errors.bot.activationStoppedStartInstead');
    const l = await this.register(cur);
    await this.enqueue(l, () => this.setState(l, 'suspended', say('coreBot.state.suspendedByUser')));
    return toActivationDto(l.row);
  }

  async stopActivation(profileId: string, id: string, closePosition: boolean): Promise<ActivationDto> {
    const cur = await this.row(profileId, id);
    const l = await this.register(cur);
    let failure: unknown = null;
    await this.enqueue(l, async () => {
      if (closePosition && l.row.position_side) {
        const ok = await this.closeNow(l, 'stop', say('coreBot.decision.stoppedClosed'));
        if (!ok) {
          failure = new AppError('conflict', 'errors.bot.positionCouldNotClosed', { state_reason: stateReasonText(l.row) });
          return;
        }
      }
      // the position left on the account is the user's now: the activation's protective pair goes
      // (no order the app no longer follows stays at the exchange, and the coins are free to trade)
      if (l.row.position_side) await this.release(l);
      await this.setState(l, 'stopped', say(l.row.position_side ? 'coreBot.state.stoppedLeft' : 'coreBot.state.stoppedByUser'));
    });
    if (failure) throw failure as Error;
    this.unload(l);
    this.live.delete(l.row.id);
    return toActivationDto(l.row);
  }

  async sell(profileId: string, id: string): Promise<ActivationDto> {
    const cur = await this.row(profileId, id);
    if (!cur.position_side) throw bad('id', 'errors.bot.activationHasNoOpen2', {});
    if (cur.state === 'stopped') throw new AppError('conflict', 'errors.bot.activationStopped');
    const l = await this.register(cur);
    let ok = true;
    await this.enqueue(l, async () => {
      ok = await this.closeNow(l, 'sell', say('coreBot.decision.soldByUser'));
    });
    if (!ok) throw new AppError('conflict', 'errors.bot.positionCouldNotSold', { state_reason: stateReasonText(l.row) });
    return toActivationDto(l.row);
  }

  async delete(profileId: string, id: string): Promise<{ ok: true }> {
    const cur = await this.row(profileId, id);
    if (cur.state === 'running' || (cur.position_side && cur.state !== 'stopped')) throw new AppError('conflict', 'errors.bot.stopActivationBeforeDeleting');
    const l = this.live.get(id);
    if (l) {
      this.unload(l);
      this.live.delete(id);
    }
    await this.d.db.withProfile(profileId, (c) => c.query('DELETE FROM bot_activations WHERE id = $1', [id]));
    return { ok: true };
  }

  async trades(profileId: string, id: string, limit = 10): Promise<TradeDto[]> {
    await this.row(profileId, id);
    return this.d.db.withProfile(profileId, async (c) => (await c.query<TradeRow>('SELECT * FROM bot_trades WHERE activation_id = $1 ORDER BY exit_time DESC, created_at DESC LIMIT $2', [id, limit])).rows.map(toTradeDto));
  }

  async decisions(profileId: string, id: string, limit = 50): Promise<DecisionDto[]> {
    await this.row(profileId, id);
    return this.d.db.withProfile(profileId, async (c) => (await c.query<DecisionRow>('SELECT * FROM bot_decisions WHERE activation_id = $1 ORDER BY created_at DESC, candle_time DESC LIMIT $2', [id, limit])).rows.map(toDecisionDto));
  }

  async engineGet(profileId: string): Promise<EngineDto> {
    const running = await this.engineRunning(profileId);
    const live = await this.d.db.withProfile(profileId, async (c) => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM bot_activations WHERE state = 'running'")).rows[0]!.n);
    const note = say(running ? 'coreBot.engine.on' : 'coreBot.engine.off');
    return { running, live, note: note.text, noteKey: note.key };
  }

  async engineSet(profileId: string, running: boolean): Promise<EngineDto> {
    await this.d.db.withProfile(profileId, (c) => c.query('INSERT INTO bot_engine (running) VALUES ($1) ON CONFLICT (profile_id) DO UPDATE SET running = EXCLUDED.running, updated_at = now()', [running]));
    this.engineOn.set(profileId, running);
    const out = await this.engineGet(profileId);
    this.d.bus.emit('engine.changed', out, { profileId });
    this.log.info({ running }, 'bot: engine switched');
    return out;
  }
}

