import Decimal from 'decimal.js';
import { AppError, wireParams } from '../../shared/errors';
import { translate, type MessageKey, type Params, type Text } from '../../shared/i18n';
import { floorToTimeframe, klineStreamName, LONGEST_TIMEFRAME, MINUTE_MS, SymbolIndex, type MarketRef, type Timeframe } from '../../shared/timeframes';
import type { Database } from '../db/database';
import type { Logger } from '../log';
import { CandleAggregator, type BuiltCandle, type FeedResult, type MinuteCandle, type MinuteRange } from './aggregate';
import { backoffDelay, BinanceStreamClient, type BackoffOptions, type KlineEvent } from './binance-ws';
import type { CandlesQuery, HeartbeatEventData, HeartbeatEventName, HeartbeatSignal, HeartbeatStatus, WatchedSymbolInfo } from '../../shared/contract/heartbeat';
import { BinanceRest, BinanceRestError } from './rest';
import { CandleStore, type CandleRow, type CandleWriter, type StoredCandle } from './store';

/**
 * The heartbeat: Binance 1m klines (WebSocket) → closed candles → 3m … 4h (aggregate) →
 * `heartbeat.signal` at once (the candle kept in memory for `recentCandles`), then stored
 * (idempotent upsert, batched; a crash before the write is covered by the next backfill), per
 * symbol in order, exactly once per closed candle and timeframe — across reconnects, duplicates and out-of-order messages (the aggregator's cursor).
 *
 * Gaps: at start (per symbol: the minutes missing in the store over `backfillHours`, aligned down to
 * a 4h boundary), after every (re)connection and whenever a later minute arrives before an earlier
 * one (after `gapGraceMs`, to let a late message arrive), the missing 1m candles are fetched from
 * the REST API, stored, fed through the aggregator (which rebuilds the longer timeframes), and the
 * signals resume in order. Every fetch is bounded by the same window as the start's (`backfillHours`
 * before the current minute, aligned down to a 4h boundary): the older part of a gap (a machine
 * asleep for days) is skipped once, logged, and the candles containing it are not built. A candle
 * that closed before this session watched the symbol (history) is stored without a signal, whatever
 * path fetched it; those that close during the session and are fetched are signalled with
 * `backfilled: true`. A REST failure leaves the status incoherent with the missing range and is
 * retried with backoff (`Retry-After` honoured); the symbol's signals wait meanwhile. A range the
 * exchange itself has no candles for (maintenance) is skipped once a later candle proves it: the
 * longer candles containing it are not built.
 */

export const EXCHANGE = 'binance' as const;

export interface HeartbeatConfig {
  /** `ARISTOBOT_BINANCE_WS_URL` */
  wsUrl: string;
  /** `ARISTOBOT_BINANCE_REST_URL` */
  restUrl: string;
  /**
   * How far back missing minutes are fetched, at start and after every reconnect (aligned down to
   * a 4h boundary) (`ARISTOBOT_HEARTBEAT_BACKFILL_HOURS`)
   */
  backfillHours: number;
  /** a connection without any message for this long is replaced (`ARISTOBOT_HEARTBEAT_SILENCE_MS`) */
  silenceMs: number;
  /** each connection is replaced after this long (Binance's limit is 24 h) */
  maxConnectionAgeMs: number;
  reconnectBackoff: Partial<BackoffOptions>;
  /** retries of a failed backfill */
  retryBackoff: BackoffOptions;
  restTimeoutMs: number;
  /** REST requests in flight at once */
  restConcurrency: number;
  /** wait this long for a late message before fetching a gap */
  gapGraceMs: number;
  /**
   * A minute is fetched from REST only once it closed this long ago by our clock, unless a later
   * closed minute already came from the stream (a clock running ahead of the exchange's must not
   * make us store a candle that is still open there)
   */
  restSettleMs: number;
  /** `heartbeat.raw` events per second at most (the rest are counted as skipped) */
  rawPerSecond: number;
  /** wait before retrying a failed database write */
  writeRetryMs: number;
  /** minutes buffered behind a gap per symbol before the gap is given up (a safety valve) */
  maxBufferedMinutes: number;
  maxStreamsPerConnection: number;
  maxMessagesPerSecond: number;
}

export const DEFAULT_HEARTBEAT_CONFIG: HeartbeatConfig = {
  wsUrl: 'wss://stream.binance.com:9443',
  restUrl: 'https://api.binance.com',
  backfillHours: 24,
  silenceMs: 30_000,
  maxConnectionAgeMs: 23 * 3600_000,
  reconnectBackoff: {},
  retryBackoff: { initialMs: 2000, maxMs: 120_000, factor: 2, jitter: 0.3 },
  restTimeoutMs: 10_000,
  restConcurrency: 4,
  gapGraceMs: 2000,
  restSettleMs: 2000,
  rawPerSecond: 10,
  writeRetryMs: 1000,
  maxBufferedMinutes: 1440,
  maxStreamsPerConnection: 1024,
  maxMessagesPerSecond: 5,
};

/** The heartbeat's settings from `ARISTOBOT_*` environment variables (only those set). */
export function heartbeatConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<HeartbeatConfig> {
  const out: Partial<HeartbeatConfig> = {};
  if (env.ARISTOBOT_BINANCE_WS_URL) out.wsUrl = env.ARISTOBOT_BINANCE_WS_URL;
  if (env.ARISTOBOT_BINANCE_REST_URL) out.restUrl = env.ARISTOBOT_BINANCE_REST_URL;
  const num = (name: string, min: number, max: number): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number between ${min} and ${max}, got "${v}"`);
    return n;
  };
  const hours = num('ARISTOBOT_HEARTBEAT_BACKFILL_HOURS', 0, 24 * 30);
  if (hours !== undefined) out.backfillHours = hours;
  const silence = num('ARISTOBOT_HEARTBEAT_SILENCE_MS', 1000, 3600_000);
  if (silence !== undefined) out.silenceMs = silence;
  return out;
}

export type HeartbeatEmit = <E extends HeartbeatEventName>(name: E, data: HeartbeatEventData<E>) => void;

export interface HeartbeatDeps {
  db: Database;
  log: Logger;
  /** forwards events to the bus (`heartbeat.signal`, `heartbeat.raw`, `heartbeat.status`) */
  emit: HeartbeatEmit;
  /** the exchange's markets (known symbols, and the CCXT ↔ Binance id mapping) */
  markets: () => Promise<readonly MarketRef[]>;
  config?: Partial<HeartbeatConfig>;
  /** wall clock for candle times (ms since the epoch) */
  clock?: { now(): number };
  fetch?: typeof fetch;
}

interface Watched {
  symbol: string;
  id: string;
  stream: string;
  initialised: boolean;
  syncing: boolean;
  again: boolean;
  timer: NodeJS.Timeout | null;
  attempt: number;
  /** what the running sync is filling (shown as the gap if it fails) */
  filling: MinuteRange | null;
  /** the range a failed backfill left missing (incoherent) */
  failedGap: MinuteRange | null;
  removed: boolean;
  /** receipt times of closed minutes from the stream not yet released (by open time) */
  receipts: Map<number, number>;
  /**
   * The minute open when watching began this session: a candle closing before it (history, from
   * before the session) is stored but never signalled; from it on, signalled.
   */
  startMinute: number | null;
  /**
   * The candles that closed with the minute just before the start minute, built as history from a
   * REST fetch (not signalled): signalled after all if the stream then delivers that minute's
   * closing message (it closed during the session; the backfill was only faster). Dropped at the
   * symbol's first signal.
   */
  boundary: { minute: number; signals: HeartbeatSignal[] } | null;
}

interface WriteJob {
  rows: CandleRow[];
}

class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

const hrNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const DISCONNECTS = new Set(['dropped', 'connect_failed', 'silent', 'rotated', 'replaced', 'server_shutdown']);
/** Why a stream connection closed, in words (keys `coreHeartbeat.disconnect.*`); an unknown reason as it is. */
function disconnectReason(reason: string): Text | string {
  if (DISCONNECTS.has(reason)) return { key: `coreHeartbeat.disconnect.${reason}`, params: {} };
  const closed = /^closed_(\d+)$/.exec(reason);
  return closed ? { key: 'coreHeartbeat.disconnect.closed', params: { code: closed[1]! } } : reason;
}

export class HeartbeatService {
  private readonly cfg: HeartbeatConfig;
  private readonly clock: { now(): number };
  private readonly store: CandleStore;
  private readonly rest: BinanceRest;
  private readonly restLimit: Limiter;
  private readonly agg = new CandleAggregator();
  private readonly watched = new Map<string, Watched>();
  private readonly byId = new Map<string, Watched>();
  private readonly signalListeners = new Set<(s: HeartbeatSignal) => void>();
  private index = new SymbolIndex();
  private ws: BinanceStreamClient | null = null;
  private running = false;
  private startedAt: number | null = null;
  private sessionId: number | null = null;
  /** The status's last error: English (`lastError`) and by catalogue key (`lastErrorKey`, keys `coreHeartbeat.*`). */
  private lastError: { text: string; key: string; params: Params } | null = null;
  private lastStatusKey = '';

  private writer: CandleWriter | null = null;
  private readonly writeQueue: WriteJob[] = [];
  /** The jobs being written right now (out of the queue, not yet committed). */
  private inFlight: WriteJob[] = [];
  private writing: Promise<void> | null = null;

  private rawWindowStart = 0;
  private rawInWindow = 0;
  private rawSkipped = 0;

  private abort = new AbortController();
  private readonly syncs = new Set<Promise<void>>();

  private persistDirty = false;
  private persisting: Promise<void> | null = null;

  /** Recent candles kept in memory per retained (symbol, timeframe), oldest first (see `retain`). */
  private readonly recent = new Map<string, { max: number; holders: Map<number, number>; candles: StoredCandle[] }>();
  private nextHold = 1;
  /** The symbols with a retained window (a bot trades them), with how many holders; their streams, built when needed. */
  private readonly urgentSymbols = new Map<string, number>();
  private urgentStreams: Set<string> | null = null;

  constructor(private readonly deps: HeartbeatDeps) {
    this.cfg = { ...DEFAULT_HEARTBEAT_CONFIG, ...deps.config };
    this.clock = deps.clock ?? { now: Date.now };
    this.store = new CandleStore(deps.db);
    this.rest = new BinanceRest({ baseUrl: this.cfg.restUrl, timeoutMs: this.cfg.restTimeoutMs, fetch: deps.fetch });
    this.restLimit = new Limiter(Math.max(1, this.cfg.restConcurrency));
  }

  private get log(): Logger {
    return this.deps.log;
  }

  // ── lifecycle ───────────────────────────────────────────────────────────────────────────────────

  async start(): Promise<void> {
    if (this.running) throw new AppError('already_running', 'errors.heartbeat.heartbeatAlreadyRunning');
    this.running = true;
    this.abort = new AbortController();
    this.writer = this.store.writer();
    this.startedAt = this.clock.now();
    this.lastError = null;
    try {
      await this.open();
    } catch (e) {
      this.running = false;
      this.abort.abort();
      await this.ws?.stop();
      this.ws = null;
      this.writer?.close();
      this.writer = null;
      this.watched.clear();
      this.byId.clear();
      throw e;
    }
  }

  private async open(): Promise<void> {
    const symbols = await this.loadWatchedRows();
    this.index = await this.loadIndex(symbols.map((s) => s.symbol));
    const { rows } = await this.deps.db.query<{ id: number }>('INSERT INTO heartbeat_sessions (exchange, symbols_watched) VALUES ($1, $2) RETURNING id', [EXCHANGE, symbols.length]);
    this.sessionId = rows[0]!.id;
    const ws = new BinanceStreamClient({
      url: this.cfg.wsUrl,
      log: this.log,
      silenceMs: this.cfg.silenceMs,
      maxConnectionAgeMs: this.cfg.maxConnectionAgeMs,
      backoff: this.cfg.reconnectBackoff,
      maxStreamsPerConnection: this.cfg.maxStreamsPerConnection,
      maxMessagesPerSecond: this.cfg.maxMessagesPerSecond,
      urgent: (stream) => this.isUrgent(stream),
    });
    this.ws = ws;
    ws.on('kline', (k) => this.onKline(k));
    ws.on('raw', (r) => this.onRaw(r.text, r.receivedAt));
    ws.on('state', (e) => {
      if (e.state === 'connected') {
        this.log.info({ connection: e.connection, reason: e.reason, streams: e.streams }, 'Binance stream connected');
        for (const w of this.watched.values()) this.requestSync(w);
      } else if (e.state === 'disconnected') {
        this.log.info({ connection: e.connection, reason: e.reason }, 'Binance stream disconnected');
        if (e.reason !== 'stopped' && e.reason !== 'unused') this.setError('coreHeartbeat.streamDisconnected', { reason: disconnectReason(e.reason) });
      }
      this.changed(true);
    });
    for (const s of symbols) {
      const w = this.watch(s.symbol);
      if (!w) this.log.warn({ symbol: s.symbol }, 'a watched symbol is not listed on Binance; it is skipped');
    }
    ws.start([...this.watched.values()].map((w) => w.stream));
    for (const w of this.watched.values()) this.requestSync(w);
    this.log.info({ symbols: this.watched.size }, 'heartbeat started');
    this.changed(true);
  }

  async stop(reason = 'stopped'): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const w of this.watched.values()) {
      if (w.timer) clearTimeout(w.timer);
      w.timer = null;
    }
    this.abort.abort();
    await this.ws?.stop();
    await Promise.race([Promise.allSettled([...this.syncs]), sleep(5000)]);
    await this.flushWrites(10_000);
    this.writer?.close();
    this.writer = null;
    const reconnects = this.ws?.stats().reconnects ?? 0;
    this.ws = null;
    if (this.sessionId !== null) {
      await this.deps.db
        .query('UPDATE heartbeat_sessions SET stopped_at = now(), stop_reason = $2, reconnects = $3, last_error = $4 WHERE id = $1', [this.sessionId, reason, reconnects, this.lastError])
        .catch((e: unknown) => this.log.error({ err: (e as Error).message }, 'could not record the heartbeat session end'));
    }
    this.sessionId = null;
    this.changed(true);
    await this.persisting;
    for (const w of this.watched.values()) this.agg.remove(w.symbol);
    this.watched.clear();
    this.byId.clear();
    this.log.info({ reason }, 'heartbeat stopped');
  }

  // ── public API ──────────────────────────────────────────────────────────────────────────────────

  /** In-process subscription to every signal (the bot engine). Returns the unsubscribe. */
  onSignal(listener: (s: HeartbeatSignal) => void): () => void {
    this.signalListeners.add(listener);
    return () => this.signalListeners.delete(listener);
  }

  /**
   * Keep the latest `n` candles of (symbol, timeframe) in memory from now on (the bot's windows),
   * until the returned release is called. Several holders keep the largest window asked for.
   */
  retain(symbol: string, timeframe: Timeframe, n: number): () => void {
    const key = `${symbol}|${timeframe}`;
    let r = this.recent.get(key);
    if (!r) {
      r = { max: 0, holders: new Map(), candles: [] };
      this.recent.set(key, r);
    }
    const id = this.nextHold++;
    r.holders.set(id, Math.max(1, Math.floor(n)));
    r.max = Math.max(...r.holders.values());
    const entry = r;
    this.urgentSymbols.set(symbol, (this.urgentSymbols.get(symbol) ?? 0) + 1);
    this.urgentStreams = null;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const u = this.urgentSymbols.get(symbol) ?? 0;
      if (u <= 1) this.urgentSymbols.delete(symbol);
      else this.urgentSymbols.set(symbol, u - 1);
      this.urgentStreams = null;
      entry.holders.delete(id);
      if (entry.holders.size === 0) this.recent.delete(key);
      else entry.max = Math.max(...entry.holders.values());
    };
  }

  /**
   * The latest `n` candles of (symbol, timeframe) with open time ≤ `until` (default: all), oldest
   * first: from memory when the retained window holds them, completed from the \`candles\` store
   * (and the writes not yet done) otherwise. A signal's candle is in memory before the signal goes
   * out, whether or not it is stored yet.
   */
  async recentCandles(symbol: string, timeframe: Timeframe, n: number, until = Infinity): Promise<StoredCandle[]> {
    const want = Math.max(1, Math.floor(n));
    const mem = (this.recent.get(`${symbol}|${timeframe}`)?.candles ?? []).filter((c) => c.openTime <= until);
    if (mem.length >= want) return mem.slice(mem.length - want);
    const byTime = new Map<number, StoredCandle>();
    const to = mem[0]?.openTime ?? (Number.isFinite(until) ? until + 1 : undefined);
    // Rows not yet committed: queued, or being written right now. Taken before the query as well as
    // after it, so a write that commits while the query runs is never missed by both.
    const before = [...this.inFlight, ...this.writeQueue];
    for (const c of await this.store.query({ exchange: EXCHANGE, symbol, timeframe, to, limit: want })) byTime.set(c.openTime, c);
    for (const j of [...before, ...this.inFlight, ...this.writeQueue]) {
      for (const r of j.rows) {
        if (r.symbol !== symbol || r.timeframe !== timeframe || r.openTime > until) continue;
        byTime.set(r.openTime, { openTime: r.openTime, open: String(r.open), high: String(r.high), low: String(r.low), close: String(r.close), volume: String(r.volume) });
      }
    }
    for (const c of mem) byTime.set(c.openTime, c);
    const all = [...byTime.values()].sort((a, b) => a.openTime - b.openTime);
    return all.slice(Math.max(0, all.length - want));
  }

  private remember(symbol: string, timeframe: Timeframe, c: StoredCandle): void {
    const r = this.recent.get(`${symbol}|${timeframe}`);
    if (!r) return;
    const xs = r.candles;
    const last = xs[xs.length - 1];
    if (!last || last.openTime < c.openTime) xs.push(c);
    else {
      const i = xs.findIndex((x) => x.openTime >= c.openTime);
      if (xs[i]!.openTime === c.openTime) xs[i] = c;
      else xs.splice(i, 0, c);
    }
    if (xs.length > r.max) xs.splice(0, xs.length - r.max);
  }

  /** Resolves once every candle built so far is stored (signals no longer wait for it). */
  async whenStored(timeoutMs = 10_000): Promise<void> {
    await this.flushWrites(timeoutMs);
    if (this.writing || this.writeQueue.length > 0) throw new AppError('unavailable', 'errors.heartbeat.candlesCouldNotStored');
  }

  status(): HeartbeatStatus {
    const stats = this.ws?.stats();
    const gaps: HeartbeatStatus['gaps'] = [];
    let backfilling = false;
    for (const w of this.watched.values()) {
      if (w.failedGap) gaps.push({ symbol: w.symbol, from: w.failedGap.from, to: w.failedGap.to });
      if (w.syncing) backfilling = true;
    }
    return {
      exchange: EXCHANGE,
      running: this.running,
      connected: this.running && (this.ws?.isConnected() ?? false),
      connections: stats?.connections ?? 0,
      streams: stats?.streams ?? 0,
      subscribed: stats?.subscribed ?? 0,
      symbols: this.watched.size,
      lastMessageAt: stats?.lastMessageAt == null ? null : Math.floor(stats.lastMessageAt),
      startedAt: this.running ? this.startedAt : null,
      incoherent: gaps.length > 0,
      gaps,
      backfilling,
      reconnects: stats?.reconnects ?? 0,
      lastError: this.lastError?.text ?? null,
      lastErrorKey: this.lastError?.key ?? null,
      lastErrorParams: this.lastError?.params ?? null,
      malformed: stats?.malformed ?? {},
    };
  }

  async listSymbols(): Promise<WatchedSymbolInfo[]> {
    const rows = await this.loadWatchedRows();
    return rows.map((r) => ({ exchange: EXCHANGE, symbol: r.symbol, addedAt: r.addedAt }));
  }

  /** Watch a symbol; refused with `invalid_input` when Binance does not list it. */
  async addSymbol(symbol: string): Promise<WatchedSymbolInfo[]> {
    let markets: readonly MarketRef[];
    try {
      markets = await this.deps.markets();
    } catch (e) {
      throw new AppError('unavailable', 'errors.heartbeat.listBinanceMarketsCould', { reason: e instanceof Error ? e.message : String(e) });
    }
    const index = new SymbolIndex(markets);
    if (!index.has(symbol)) throw new AppError('invalid_input', 'errors.heartbeat.notMarketBinancePick', { symbol }, { symbol });
    for (const m of markets) if (m.symbol === symbol) this.index.add(m);
    await this.deps.db.query('INSERT INTO heartbeat_symbols (exchange, symbol) VALUES ($1, $2) ON CONFLICT DO NOTHING', [EXCHANGE, symbol]);
    if (this.running && !this.watched.has(symbol)) {
      const w = this.watch(symbol);
      if (w) {
        this.ws?.subscribe([w.stream]);
        this.requestSync(w);
      }
      this.changed(true);
    }
    return this.listSymbols();
  }

  /** Stop watching a symbol (its candles stay stored). */
  async removeSymbol(symbol: string): Promise<WatchedSymbolInfo[]> {
    const r = await this.deps.db.query('DELETE FROM heartbeat_symbols WHERE exchange = $1 AND symbol = $2', [EXCHANGE, symbol]);
    if ((r.rowCount ?? 0) === 0) throw new AppError('not_found', 'errors.heartbeat.notWatchedHeartbeat', { symbol }, { symbol });
    const w = this.watched.get(symbol);
    if (w) {
      w.removed = true;
      if (w.timer) clearTimeout(w.timer);
      w.timer = null;
      this.watched.delete(symbol);
      this.byId.delete(w.id);
      this.urgentStreams = null;
      this.agg.remove(symbol);
      this.ws?.unsubscribe([w.stream]);
      this.changed(true);
    }
    return this.listSymbols();
  }

  async queryCandles(q: CandlesQuery): Promise<StoredCandle[]> {
    return this.store.query(q);
  }

  // ── symbols ─────────────────────────────────────────────────────────────────────────────────────

  private async loadWatchedRows(): Promise<{ symbol: string; addedAt: number }[]> {
    const { rows } = await this.deps.db.query<{ symbol: string; added_at: Date }>('SELECT symbol, added_at FROM heartbeat_symbols WHERE exchange = $1 ORDER BY added_at, symbol', [EXCHANGE]);
    return rows.map((r) => ({ symbol: r.symbol, addedAt: r.added_at.getTime() }));
  }

  /** The market list; when it cannot be loaded, the watched symbols (validated when added) map by their parts. */
  private async loadIndex(watched: string[]): Promise<SymbolIndex> {
    try {
      return new SymbolIndex(await this.deps.markets());
    } catch (e) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'Binance markets unavailable; watching the stored symbols by name');
      return new SymbolIndex(watched.map((symbol) => ({ symbol })));
    }
  }

  /** A stream of a symbol a bot trades: its messages are handled first in a burst (binance-ws `urgent`). */
  private isUrgent(stream: string): boolean {
    if (this.urgentSymbols.size === 0) return false;
    if (!this.urgentStreams) this.urgentStreams = new Set([...this.urgentSymbols.keys()].map((s) => this.watched.get(s)?.stream ?? '').filter((x) => x !== ''));
    return this.urgentStreams.has(stream);
  }

  private watch(symbol: string): Watched | undefined {
    const id = this.index.toExchangeId(symbol);
    if (!id) return undefined;
    const w: Watched = { symbol, id, stream: klineStreamName(id), initialised: false, syncing: false, again: false, timer: null, attempt: 0, filling: null, failedGap: null, removed: false, receipts: new Map(), startMinute: null, boundary: null };
    this.watched.set(symbol, w);
    this.byId.set(id, w);
    this.urgentStreams = null;
    return w;
  }

  // ── live path ───────────────────────────────────────────────────────────────────────────────────

  private onKline(k: KlineEvent): void {
    if (k.interval !== '1m') return;
    const w = this.byId.get(k.symbol);
    if (!w) return;
    if (k.openTime % MINUTE_MS === 0) {
      const candle = { openTime: k.openTime, open: k.open, high: k.high, low: k.low, close: k.close, volume: k.volume };
      this.safeEmit('heartbeat.tick', { exchange: EXCHANGE, symbol: w.symbol, candle, closed: k.closed, receivedAt: k.receivedAt });
    }
    if (!k.closed) return;
    const c: MinuteCandle = { openTime: k.openTime, open: new Decimal(k.open), high: new Decimal(k.high), low: new Decimal(k.low), close: new Decimal(k.close), volume: new Decimal(k.volume) };
    if (c.openTime % MINUTE_MS !== 0) return;
    const known = w.receipts.has(c.openTime);
    if (!known) w.receipts.set(c.openTime, k.receivedAt);
    const r = this.agg.add(w.symbol, c);
    if (r.duplicate && !known) w.receipts.delete(c.openTime);
    if (r.duplicate && w.boundary?.minute === c.openTime) {
      // the backfill stored this minute as history a moment before the stream closed it: it closed during the session
      const late = w.boundary.signals.map((s) => ({ ...s, backfilled: false, receivedAt: k.receivedAt }));
      w.boundary = null;
      this.log.info({ symbol: w.symbol, minute: new Date(c.openTime).toISOString() }, 'the minute before the start, fetched as history, was closed by the stream during the session: signalled');
      for (const s of late) this.signal(s);
    }
    this.take(w, r, true);
    if (!r.gap) return;
    if (w.initialised) this.requestSync(w, this.cfg.gapGraceMs);
    if (this.agg.pendingCount(w.symbol) > this.cfg.maxBufferedMinutes) {
      this.log.error({ symbol: w.symbol, from: new Date(r.gap.from).toISOString(), to: new Date(r.gap.to).toISOString() }, 'a gap could not be backfilled for too long; giving it up');
      this.take(w, this.agg.skip(w.symbol, r.gap.to), true);
      this.pruneReceipts(w);
    }
  }

  private onRaw(text: string, receivedAt: number): void {
    const now = hrNow();
    if (now - this.rawWindowStart >= 1000) {
      this.rawWindowStart = now;
      this.rawInWindow = 0;
    }
    if (this.rawInWindow >= this.cfg.rawPerSecond) {
      this.rawSkipped++;
      return;
    }
    this.rawInWindow++;
    const skipped = this.rawSkipped;
    this.rawSkipped = 0;
    this.safeEmit('heartbeat.raw', { exchange: EXCHANGE, receivedAt, message: text.length > 2000 ? text.slice(0, 2000) : text, skipped });
  }

  /** Queue what the aggregator produced: signalled at once (unless silent), stored right after. Candles not built are logged, or collected in `notBuilt`. */
  private take(w: Watched, r: FeedResult, signal: boolean, notBuilt?: string[]): void {
    const symbol = w.symbol;
    for (const i of r.incomplete) {
      if (notBuilt) notBuilt.push(`${i.timeframe} ${new Date(i.openTime).toISOString()}`);
      else this.log.info({ symbol, timeframe: i.timeframe, openTime: new Date(i.openTime).toISOString(), missing: i.missing.map((m) => [new Date(m.from).toISOString(), new Date(m.to).toISOString()]) }, 'candle not built: minutes are missing at the exchange');
    }
    if (r.candles.length === 0) return;
    this.enqueue(w, r.candles, signal);
  }

  /**
   * A signal is `backfilled` when the minute that closes its candle came from the REST API; its
   * `receivedAt` is when the stream delivered that minute (null when backfilled). A candle that
   * closed before the session's start minute is history: stored, never signalled (e.g. the minute
   * that closed just before the start, too fresh for the start's backfill, fetched later) — unless
   * the stream delivered its closing minute during the session: it closed live, a moment before the
   * start minute began by our clock, and is signalled (a 4h strategy started a second after 04:00
   * must not lose its 00:00 candle).
   */
  private enqueue(w: Watched, candles: readonly BuiltCandle[], signal: boolean): void {
    const symbol = w.symbol;
    const rows: CandleRow[] = new Array(candles.length);
    const signals: HeartbeatSignal[] = [];
    const signalFrom = signal && w.startMinute !== null ? w.startMinute : Infinity;
    // (`signal` false: history being seeded; a minute the stream delivered in the session is still live)
    let receivedAt: number | null = null;
    for (let i = 0; i < candles.length; i++) {
      const c = candles[i]!;
      const open = c.open.toFixed();
      const high = c.high.toFixed();
      const low = c.low.toFixed();
      const close = c.close.toFixed();
      const volume = c.volume.toFixed();
      rows[i] = { exchange: EXCHANGE, symbol, timeframe: c.timeframe, openTime: c.openTime, open, high, low, close, volume };
      if (this.recent.size > 0) this.remember(symbol, c.timeframe, { openTime: c.openTime, open, high, low, close, volume });
      if (c.timeframe === '1m') {
        receivedAt = w.receipts.get(c.openTime) ?? null;
        if (receivedAt !== null) w.receipts.delete(c.openTime);
      }
      // live: closing at or after the start minute, or closed by the stream during the session
      const live = receivedAt !== null || c.closeTime >= signalFrom;
      const boundary = !live && w.startMinute !== null && c.closeTime + 1 === w.startMinute;
      if (!live && !boundary) continue;
      const s: HeartbeatSignal = {
        exchange: EXCHANGE,
        symbol,
        timeframe: c.timeframe,
        openTime: c.openTime,
        closeTime: c.closeTime,
        candle: { openTime: c.openTime, open, high, low, close, volume },
        backfilled: receivedAt === null,
        receivedAt,
      };
      if (live) signals.push(s);
      else {
        // history built from REST for the minute just before the start: kept in case the stream closes it now
        const minute = w.startMinute! - MINUTE_MS;
        if (w.boundary?.minute !== minute || c.timeframe === '1m') w.boundary = { minute, signals: [] };
        w.boundary.signals.push(s);
      }
    }
    if (signals.length > 0) w.boundary = null;
    this.writeQueue.push({ rows });
    // Start on the next turn of the event loop: the messages of one network read go in one write.
    if (!this.writing) this.writing = new Promise<void>((r) => setImmediate(r)).then(() => this.writeLoop());
    // The signals do not wait for the write: their candles are in memory (`recentCandles`) and a
    // crash before the write is covered by the next start's backfill.
    for (const s of signals) this.signal(s);
  }

  /** One writer: everything queued is upserted in one statement (retried until it succeeds). */
  private async writeLoop(): Promise<void> {
    try {
      while (this.writeQueue.length > 0) {
        const jobs = this.writeQueue.splice(0);
        const rows = jobs.length === 1 ? jobs[0]!.rows : jobs.flatMap((j) => j.rows);
        this.inFlight = jobs;
        try {
          if (this.writer) await this.writer.upsert(rows);
          else await this.store.upsert(rows);
          this.inFlight = [];
        } catch (e) {
          this.inFlight = [];
          this.setError('coreHeartbeat.databaseWriteFailed', { error: (e as Error).message });
          this.log.error({ err: (e as Error).message, rows: rows.length }, 'could not store candles; retrying');
          this.writeQueue.unshift(...jobs);
          if (!this.running) return;
          await sleep(this.cfg.writeRetryMs);
          continue;
        }
      }
    } finally {
      this.writing = null;
      if (this.writeQueue.length > 0 && this.running) this.writing = this.writeLoop();
    }
  }

  private async flushWrites(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.writing && Date.now() < until) await Promise.race([this.writing, sleep(100)]);
  }

  private signal(s: HeartbeatSignal): void {
    for (const l of this.signalListeners) {
      try {
        l(s);
      } catch (e) {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'a heartbeat signal listener failed');
      }
    }
    this.safeEmit('heartbeat.signal', s);
  }

  private safeEmit<E extends HeartbeatEventName>(name: E, data: HeartbeatEventData<E>): void {
    try {
      this.deps.emit(name, data);
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e), event: name }, 'emitting a heartbeat event failed');
    }
  }

  // ── gaps and backfill ───────────────────────────────────────────────────────────────────────────

  private requestSync(w: Watched, delayMs = 0): void {
    if (!this.running || w.removed) return;
    if (w.syncing) {
      if (delayMs === 0) w.again = true;
      else if (!w.timer) w.timer = setTimeout(() => this.runTimer(w), delayMs);
      return;
    }
    if (w.timer) {
      if (delayMs > 0) return;
      clearTimeout(w.timer);
      w.timer = null;
    }
    if (delayMs > 0) {
      w.timer = setTimeout(() => this.runTimer(w), delayMs);
      return;
    }
    const p = this.runSync(w);
    this.syncs.add(p);
    void p.finally(() => this.syncs.delete(p));
  }

  private runTimer(w: Watched): void {
    w.timer = null;
    this.requestSync(w);
  }

  private async runSync(w: Watched): Promise<void> {
    w.syncing = true;
    this.changed(false);
    try {
      do {
        w.again = false;
        if (!w.initialised) await this.initialSync(w);
        if (!this.running || w.removed) return;
        await this.catchUp(w);
      } while (w.again && this.running && !w.removed);
      w.attempt = 0;
      if (w.failedGap) this.log.info({ symbol: w.symbol }, 'heartbeat gap backfilled; signals resume');
      w.failedGap = null;
    } catch (e) {
      if (!this.running || w.removed) return;
      const msg = e instanceof Error ? e.message : String(e);
      const gap = w.filling ?? w.failedGap;
      w.failedGap = gap;
      this.setError('coreHeartbeat.backfillFailed', { symbol: w.symbol, error: e instanceof BinanceRestError ? e.text : e instanceof AppError ? e.text : msg });
      const retryAfter = e instanceof BinanceRestError ? (e.retryAfterMs ?? 0) : 0;
      const delay = Math.max(backoffDelay(w.attempt++, this.cfg.retryBackoff), retryAfter);
      this.log.warn({ symbol: w.symbol, err: msg, gap, retryInMs: delay }, 'heartbeat backfill failed; the symbol is incoherent until it succeeds');
      if (!w.timer) w.timer = setTimeout(() => this.runTimer(w), delay);
    } finally {
      w.filling = null;
      w.syncing = false;
      this.changed(true);
    }
  }

  private fetch(w: Watched, range: MinuteRange): Promise<MinuteCandle[]> {
    const signal = this.abort.signal;
    return this.restLimit.run(() => this.rest.klines(w.id, range.from, range.to, signal));
  }

  /**
   * First sync of a symbol in this session: fill the store over the backfill window, rebuild the
   * longer timeframes from the earliest filled minute's 4h bucket on (silently: history), start
   * the cursor, then release what the stream delivered meanwhile.
   */
  private async initialSync(w: Watched): Promise<void> {
    w.startMinute ??= floorToTimeframe(this.clock.now(), '1m');
    const current = w.startMinute;
    const windowStart = this.windowStart(current);
    const settled = Math.min(current, this.settledMinute());
    const missing = await this.store.missingMinutes(EXCHANGE, w.symbol, windowStart, settled);
    for (const r of missing) {
      w.filling = { from: r.from, to: current };
      const candles = await this.fetch(w, r);
      if (!this.running || w.removed) return;
      await this.store.upsert(candles.map((c) => ({ exchange: EXCHANGE, symbol: w.symbol, timeframe: '1m', ...c })));
    }
    w.filling = null;
    const seedFrom = Math.max(windowStart, floorToTimeframe(Math.min(missing[0]?.from ?? current, current), LONGEST_TIMEFRAME));
    const history = seedFrom < current ? await this.store.minuteCandles(EXCHANGE, w.symbol, seedFrom, current) : [];
    if (!this.running || w.removed) return;
    const seeded = this.agg.seed(w.symbol, history);
    // the 1m candles are stored already; the one just before the start goes along (see `boundary`)
    const aggregated = seeded.candles.filter((c) => c.timeframe !== '1m' || c.openTime === current - MINUTE_MS);
    if (aggregated.length > 0) this.enqueue(w, aggregated, false);
    const released = this.agg.cursor(w.symbol) === null ? this.agg.start(w.symbol, current) : this.agg.drain(w.symbol);
    this.take(w, released, true);
    this.pruneReceipts(w);
    w.initialised = true;
    this.log.debug({ symbol: w.symbol, fetchedRanges: missing.length, seeded: history.length, cursor: this.agg.cursor(w.symbol) }, 'heartbeat symbol initialised');
  }

  /**
   * Fetch whatever is missing between the cursor and the current minute (or the first buffered
   * one), within the backfill window: the part of the gap before it is skipped (not fetched, the
   * candles containing it not built) and logged once.
   */
  private async catchUp(w: Watched): Promise<void> {
    let skipped = null as MinuteRange | null;
    const notBuilt: string[] = [];
    try {
      for (let round = 0; round < 1000; round++) {
        const found = this.agg.gap(w.symbol, this.settledMinute());
        if (!found) return;
        const windowStart = this.windowStart(floorToTimeframe(this.clock.now(), '1m'));
        if (found.from < windowStart) {
          // never past a buffered (live) minute: what lies between it and the window is skipped next round
          const to = Math.min(windowStart, found.to);
          skipped = { from: skipped?.from ?? found.from, to };
          this.take(w, this.agg.skip(w.symbol, to), true, notBuilt);
          this.pruneReceipts(w);
          continue;
        }
        if (!(await this.fetchGap(w, found))) return;
      }
    } finally {
      if (skipped) this.log.warn({ symbol: w.symbol, from: new Date(skipped.from).toISOString(), to: new Date(skipped.to).toISOString(), backfillHours: this.cfg.backfillHours, notBuilt }, 'heartbeat gap older than the backfill window skipped: not fetched, the candles containing it not built');
    }
  }

  /** One round of `catchUp`: fetch the gap and feed it; false when there is nothing more to do. */
  private async fetchGap(w: Watched, gap: MinuteRange): Promise<boolean> {
    w.filling = gap;
    const before = this.agg.cursor(w.symbol);
    const candles = await this.fetch(w, gap);
    if (!this.running || w.removed) return false;
    for (const c of candles) this.take(w, this.agg.add(w.symbol, c), true);
    if (this.agg.cursor(w.symbol) !== before) return true;
    // No progress: the exchange has nothing at the cursor. Skip only when a later minute proves it.
    const next = this.agg.gap(w.symbol);
    if (!next) return false; // nothing later buffered: the tail is not published yet; the stream will tell
    this.log.warn({ symbol: w.symbol, from: new Date(next.from).toISOString(), to: new Date(next.to).toISOString() }, 'Binance has no 1m candles in this range; skipping it');
    this.take(w, this.agg.skip(w.symbol, next.to), true);
    this.pruneReceipts(w);
    return true;
  }

  /**
   * The first minute fetched for a symbol whose current minute is `current`: `backfillHours`
   * before it, aligned down to the longest timeframe's boundary so that every longer candle after
   * it can be built. The same bound at start and after any reconnect.
   */
  private windowStart(current: number): number {
    return floorToTimeframe(current - this.cfg.backfillHours * 3600_000, LONGEST_TIMEFRAME);
  }

  /** Minutes before this one closed at least `restSettleMs` ago: safe to fetch from REST. */
  private settledMinute(): number {
    return floorToTimeframe(this.clock.now() - this.cfg.restSettleMs, '1m');
  }

  /** Forget receipts of minutes the cursor has passed without releasing them (skipped, or before the start). */
  private pruneReceipts(w: Watched): void {
    const cursor = this.agg.cursor(w.symbol);
    if (cursor === null) return;
    for (const t of w.receipts.keys()) if (t < cursor) w.receipts.delete(t);
  }

  // ── status ──────────────────────────────────────────────────────────────────────────────────────

  /** Emit `heartbeat.status` when something visible changed; persist when asked. */
  private changed(persist: boolean): void {
    const s = this.status();
    const key = JSON.stringify([s.running, s.connected, s.connections, s.streams, s.subscribed === s.streams, s.symbols, s.incoherent, s.gaps, s.backfilling, s.lastError]);
    if (key !== this.lastStatusKey) {
      this.lastStatusKey = key;
      this.safeEmit('heartbeat.status', s);
    }
    if (persist) this.persistStatus();
  }

  private setError(key: MessageKey, params: Record<string, unknown>): void {
    const p = wireParams(params);
    this.lastError = { text: translate('en', key, p), key, params: p };
  }

  private persistStatus(): void {
    this.persistDirty = true;
    if (this.persisting) return;
    this.persisting = (async () => {
      while (this.persistDirty) {
        this.persistDirty = false;
        const s = this.status();
        try {
          await this.deps.db.query(
            `INSERT INTO heartbeat_status (exchange, running, connected, last_started_at, last_stopped_at, last_message_at, last_error, last_error_at, symbols_watched, updated_at)
             VALUES ($1, $2, $3, CASE WHEN $2 THEN to_timestamp($4::float8 / 1000) END, CASE WHEN NOT $2 THEN now() END, to_timestamp($5::float8 / 1000), $6, CASE WHEN $6::text IS NOT NULL THEN now() END, $7, now())
             ON CONFLICT (exchange) DO UPDATE SET
               running = EXCLUDED.running, connected = EXCLUDED.connected,
               last_started_at = COALESCE(EXCLUDED.last_started_at, heartbeat_status.last_started_at),
               last_stopped_at = COALESCE(EXCLUDED.last_stopped_at, heartbeat_status.last_stopped_at),
               last_message_at = COALESCE(EXCLUDED.last_message_at, heartbeat_status.last_message_at),
               last_error = EXCLUDED.last_error,
               last_error_at = CASE WHEN EXCLUDED.last_error IS DISTINCT FROM heartbeat_status.last_error THEN EXCLUDED.last_error_at ELSE heartbeat_status.last_error_at END,
               symbols_watched = EXCLUDED.symbols_watched, updated_at = now()`,
            [EXCHANGE, s.running, s.connected, this.startedAt, s.lastMessageAt, s.lastError, s.symbols],
          );
        } catch (e) {
          this.log.warn({ err: (e as Error).message }, 'could not record the heartbeat status');
        }
      }
    })().finally(() => {
      this.persisting = null;
    });
  }
}
