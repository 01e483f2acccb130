import WebSocket from 'ws';
import type { Logger } from '../log';

/**
 * A native client of Binance's WebSocket market streams, on the combined-stream endpoint
 * (`<base>/stream?streams=a/b`, payloads wrapped as `{"stream": …, "data": …}`), as documented in
 * "WebSocket Streams for Binance":
 *
 * - streams are spread over logical connections ("slots") of at most 1024 streams each; a slot
 *   opens with the first streams in its URL and subscribes the rest with SUBSCRIBE messages;
 *   streams are added and removed at runtime with SUBSCRIBE / UNSUBSCRIBE (`{"result":null,"id":n}`);
 * - every frame the client sends (control messages, pongs) goes through a per-socket limiter:
 *   at most 5 in any sliding second (Binance disconnects above 5 incoming messages per second);
 * - the server's ping frames are answered with a pong carrying the same payload, through the
 *   limiter (auto-pong is off so that pongs are counted); a JSON `{"ping": x}` gets `{"pong": x}`;
 * - a socket with no message for `silenceMs` (half-way, a LIST_SUBSCRIPTIONS probe is sent) is
 *   replaced; a socket that closes is reopened after an exponential backoff with jitter;
 * - each socket is replaced before Binance's 24-hour limit (`maxConnectionAgeMs`), and at once on a
 *   `serverShutdown` event: the replacement is opened first, the old one closed when it is ready;
 * - malformed or unexpected messages are counted by kind; the first of each kind is logged.
 */

export interface KlineEvent {
  /** stream name, e.g. 'btcusdt@kline_1m' */
  stream: string;
  /** Binance id, upper case: 'BTCUSDT' */
  symbol: string;
  interval: string;
  eventTime: number;
  /** when the message was received (ms since the epoch, fractional) */
  receivedAt: number;
  openTime: number;
  closeTime: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quoteVolume: string;
  trades: number;
  /** the kline is closed (final) */
  closed: boolean;
}

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface ConnectionStateEvent {
  /** the logical connection (slot) */
  connection: number;
  state: ConnectionState;
  /** why: 'open', 'rotated', 'server_shutdown', 'silent', 'closed', 'error', 'stopped', 'unused', … */
  reason: string;
  streams: number;
  at: number;
}

export interface ReconnectEvent {
  connection: number;
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface RawMessageEvent {
  connection: number;
  receivedAt: number;
  text: string;
}

export interface MalformedEvent {
  kind: string;
  count: number;
}

export interface ClientEvents {
  kline: KlineEvent;
  state: ConnectionStateEvent;
  reconnect: ReconnectEvent;
  raw: RawMessageEvent;
  malformed: MalformedEvent;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: the delay is drawn in [base × (1 − jitter), base] */
  jitter: number;
}

export interface BinanceStreamOptions {
  /** base URL, e.g. 'wss://stream.binance.com:9443' (a trailing /stream or /ws is ignored) */
  url: string;
  log: Logger;
  maxStreamsPerConnection?: number;
  /** frames the client may send per sliding second, per socket (Binance: 5) */
  maxMessagesPerSecond?: number;
  /** streams per SUBSCRIBE / UNSUBSCRIBE message */
  maxParamsPerMessage?: number;
  /** longest URL used to pass the first streams at connect time */
  maxUrlLength?: number;
  /** no message for this long: the socket is replaced */
  silenceMs?: number;
  /** replace each socket after this long (Binance closes them at 24 h) */
  maxConnectionAgeMs?: number;
  connectTimeoutMs?: number;
  /** a control request without reply after this long is counted as timed out */
  requestTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  now?: () => number;
  random?: () => number;
  /**
   * The streams whose messages go first when many arrive together (a burst of closings): the
   * heartbeat names the symbols a bot trades, so that their signals do not wait for hundreds of
   * others. Called once per message, with the combined stream's name ('' when it has none).
   */
  urgent?: (stream: string) => boolean;
}

type Inbound = { slot: Slot; sock: Sock; data: WebSocket.RawData; isBinary: boolean; receivedAt: number; stream: string };

const STREAM_PREFIX = Buffer.from('{"stream":"');

/** A combined-stream message's stream name, read off its first bytes without parsing it ('' when not in that form). */
export function streamOf(data: WebSocket.RawData): string {
  const b = Buffer.isBuffer(data) ? data : Array.isArray(data) ? data[0] : Buffer.from(data);
  if (!b || b.length <= STREAM_PREFIX.length || b.compare(STREAM_PREFIX, 0, STREAM_PREFIX.length, 0, STREAM_PREFIX.length) !== 0) return '';
  const end = b.indexOf(0x22, STREAM_PREFIX.length);
  return end > 0 && end - STREAM_PREFIX.length <= 64 ? b.toString('latin1', STREAM_PREFIX.length, end) : '';
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.3 };

/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(o.maxMs, o.initialMs * o.factor ** Math.min(attempt, 60));
  return Math.max(0, Math.round(base * (1 - o.jitter * random())));
}

const DECIMAL = /^\d+(\.\d+)?$/;
const MAX_KINDS = 50;
const hrNow = () => performance.timeOrigin + performance.now();

/**
 * The longest the handling of received messages holds the event loop before it lets it serve
 * something else (ms). A burst (the closings of hundreds of symbols arrive together, many in one
 * network read) is handled in slices: between two, the promise continuations the slice started run
 * (the bot's decisions on the signals, and their journal writes), and the answers that came back
 * meanwhile (the database's, the exchange's) are read — instead of all waiting for the whole
 * burst. Each message keeps the time it arrived. The urgent streams' messages (`urgent`) are
 * handled before the slices, whole.
 */
const SLICE_MS = 2;
/** The sliding "second" over which the client counts the frames it sends: a second and a tenth to spare (see `pump`). */
const RATE_WINDOW_MS = 1100;

/** Validate a kline payload (`data` of a combined-stream message); undefined when malformed. */
export function parseKline(stream: string, data: Record<string, unknown>, receivedAt: number): KlineEvent | undefined {
  const k = data.k as Record<string, unknown> | null | undefined;
  if (typeof k !== 'object' || k === null) return undefined;
  const { t, T, s, i, o, h, l, c, v, q, n, x } = k;
  if (typeof t !== 'number' || typeof T !== 'number' || typeof s !== 'string' || typeof i !== 'string' || typeof x !== 'boolean') return undefined;
  if (typeof o !== 'string' || typeof h !== 'string' || typeof l !== 'string' || typeof c !== 'string' || typeof v !== 'string') return undefined;
  if (!DECIMAL.test(o) || !DECIMAL.test(h) || !DECIMAL.test(l) || !DECIMAL.test(c) || !DECIMAL.test(v)) return undefined;
  if (!Number.isSafeInteger(t) || !Number.isSafeInteger(T) || T <= t) return undefined;
  const E = typeof data.E === 'number' ? data.E : receivedAt;
  return {
    stream,
    symbol: s,
    interval: i,
    eventTime: E,
    receivedAt,
    openTime: t,
    closeTime: T,
    open: o,
    high: h,
    low: l,
    close: c,
    volume: v,
    quoteVolume: typeof q === 'string' && DECIMAL.test(q) ? q : '0',
    trades: typeof n === 'number' ? n : 0,
    closed: x,
  };
}

// ─── sockets and slots ───────────────────────────────────────────────────────────────────────────

interface Outgoing {
  text?: string;
  /** a pong frame with this payload */
  pong?: Buffer;
  request?: { id: number; method: string; params: string[]; resolve?: (v: unknown) => void; reject?: (e: Error) => void };
}

class Sock {
  ws: WebSocket;
  openedAt: number | null = null;
  lastDataAt: number;
  /** what the server will have once every sent and queued message is applied */
  readonly intended = new Set<string>();
  /** confirmed by the server (URL at connect, or a reply) */
  readonly subscribed = new Set<string>();
  readonly queue: Outgoing[] = [];
  readonly sentAt: number[] = [];
  readonly inFlight = new Map<number, Outgoing['request'] & { timer: NodeJS.Timeout }>();
  pumpTimer: NodeJS.Timeout | null = null;
  watchTimer: NodeJS.Timeout | null = null;
  ageTimer: NodeJS.Timeout | null = null;
  probeSent = false;
  /** why this socket is being closed on purpose (then its close starts no reconnect) */
  closingReason: string | null = null;
  /** why it failed (set before terminating it ourselves) */
  failReason: string | null = null;
  lastError: string | null = null;
  /** the replacement's reason, when this is a standby */
  standbyFor: string | null = null;
  constructor(
    ws: WebSocket,
    readonly serial: number,
    now: number,
  ) {
    this.ws = ws;
    this.lastDataAt = now;
  }
  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
}

class Slot {
  readonly streams = new Set<string>();
  sock: Sock | null = null;
  standby: Sock | null = null;
  attempt = 0;
  reconnectTimer: NodeJS.Timeout | null = null;
  retired = false;
  /** a 'connected' state was announced for the current socket */
  announced = false;
  constructor(readonly id: number) {}
}

type Listener<T> = (e: T) => void;

export class BinanceStreamClient {
  private readonly base: string;
  private readonly log: Logger;
  private readonly maxStreams: number;
  private readonly maxPerSecond: number;
  private readonly maxParams: number;
  private readonly maxUrlLength: number;
  private readonly silenceMs: number;
  private readonly maxAgeMs: number;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly now: () => number;
  private readonly random: () => number;

  private readonly slots: Slot[] = [];
  private readonly slotOf = new Map<string, Slot>();
  private readonly listeners: { [K in keyof ClientEvents]: Set<Listener<ClientEvents[K]>> } = {
    kline: new Set(),
    state: new Set(),
    reconnect: new Set(),
    raw: new Set(),
    malformed: new Set(),
  };
  private readonly counts = new Map<string, number>();
  private nextSlotId = 1;
  private nextSerial = 1;
  private nextRequestId = 1;
  private started = false;
  private reconnects = 0;
  private lastMessage: number | null = null;
  private readonly closing = new Set<Promise<void>>();
  /** Messages received while the handling yields to the event loop (a burst), oldest first. */
  private inbox: Inbound[] = [];
  /** The next message of `inbox` to handle. */
  private head = 0;
  /** The urgent streams' messages waiting (see `urgent`), oldest first. */
  private urgentInbox: Inbound[] = [];
  /** How many messages of each stream wait in `inbox` (counted while `urgent` is set). */
  private readonly waiting = new Map<string, number>();
  /** A drain is queued on the tick queue / on the event loop (setImmediate). */
  private drainQueued = false;
  private immediate = false;
  /** Which streams are urgent (their messages are handled before the others of a burst); null: none. */
  private urgent: ((stream: string) => boolean) | null;

  constructor(opts: BinanceStreamOptions) {
    this.base = opts.url.replace(/\/+$/, '').replace(/\/(stream|ws)$/, '');
    this.log = opts.log;
    this.maxStreams = opts.maxStreamsPerConnection ?? 1024;
    this.maxPerSecond = opts.maxMessagesPerSecond ?? 5;
    this.maxParams = opts.maxParamsPerMessage ?? 200;
    this.maxUrlLength = opts.maxUrlLength ?? 2000;
    this.silenceMs = opts.silenceMs ?? 30_000;
    this.maxAgeMs = opts.maxConnectionAgeMs ?? 23 * 3600_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.now = opts.now ?? hrNow;
    this.random = opts.random ?? Math.random;
    this.urgent = opts.urgent ?? null;
  }

  on<K extends keyof ClientEvents>(event: K, fn: Listener<ClientEvents[K]>): () => void {
    const set = this.listeners[event] as Set<Listener<ClientEvents[K]>>;
    set.add(fn);
    return () => set.delete(fn);
  }

  private fire<K extends keyof ClientEvents>(event: K, e: ClientEvents[K]): void {
    for (const fn of this.listeners[event] as Set<Listener<ClientEvents[K]>>) {
      try {
        fn(e);
      } catch (err) {
        this.log.error({ err: err instanceof Error ? err.message : String(err), event }, 'a stream listener failed');
      }
    }
  }

  // ── public API ──────────────────────────────────────────────────────────────────────────────────

  /** Open connections for the streams (more can be added later with `subscribe`). */
  start(streams: readonly string[] = []): void {
    this.started = true;
    this.subscribe(streams);
    for (const slot of this.slots) if (!slot.sock && !slot.reconnectTimer && slot.streams.size > 0) this.connect(slot);
  }

  /** Close everything; no reconnect. Resolves when every socket is closed. */
  async stop(): Promise<void> {
    this.started = false;
    this.inbox = [];
    this.head = 0;
    this.urgentInbox = [];
    this.waiting.clear();
    for (const slot of [...this.slots]) this.retire(slot, 'stopped');
    await Promise.all([...this.closing]);
  }

  subscribe(streams: readonly string[]): void {
    const touched = new Set<Slot>();
    for (const raw of streams) {
      const s = raw.toLowerCase();
      if (this.slotOf.has(s)) continue;
      let slot = this.slots.find((x) => !x.retired && x.streams.size < this.maxStreams);
      if (!slot) {
        slot = new Slot(this.nextSlotId++);
        this.slots.push(slot);
      }
      slot.streams.add(s);
      this.slotOf.set(s, slot);
      touched.add(slot);
    }
    if (!this.started) return;
    for (const slot of touched) {
      if (slot.sock) this.reconcile(slot.sock, slot);
      if (slot.standby) this.reconcile(slot.standby, slot);
      if (!slot.sock && !slot.reconnectTimer) this.connect(slot);
    }
  }

  unsubscribe(streams: readonly string[]): void {
    const touched = new Set<Slot>();
    for (const raw of streams) {
      const s = raw.toLowerCase();
      const slot = this.slotOf.get(s);
      if (!slot) continue;
      slot.streams.delete(s);
      this.slotOf.delete(s);
      touched.add(slot);
    }
    for (const slot of touched) {
      if (slot.streams.size === 0) {
        this.retire(slot, 'unused');
        continue;
      }
      if (slot.sock) this.reconcile(slot.sock, slot);
      if (slot.standby) this.reconcile(slot.standby, slot);
    }
  }

  /** The streams wanted (lower case). */
  streams(): string[] {
    return [...this.slotOf.keys()];
  }

  /** Logical connections in use. */
  connectionCount(): number {
    return this.slots.length;
  }

  /** Every logical connection has an open socket. */
  isConnected(): boolean {
    return this.slots.length > 0 && this.slots.every((s) => s.sock?.open === true);
  }

  stats(): { connections: number; openSockets: number; streams: number; subscribed: number; reconnects: number; lastMessageAt: number | null; malformed: Record<string, number> } {
    let open = 0;
    let subscribed = 0;
    for (const s of this.slots) {
      if (s.sock?.open) {
        open++;
        for (const x of s.streams) if (s.sock.subscribed.has(x)) subscribed++;
      }
      if (s.standby?.open) open++;
    }
    return { connections: this.slots.length, openSockets: open, streams: this.slotOf.size, subscribed, reconnects: this.reconnects, lastMessageAt: this.lastMessage, malformed: Object.fromEntries(this.counts) };
  }

  /** Ask every open socket for its subscriptions (LIST_SUBSCRIPTIONS); the union, sorted. */
  async listSubscriptions(): Promise<string[]> {
    const lists = await Promise.all(
      this.slots.filter((s) => s.sock?.open).map((s) => this.request(s.sock!, 'LIST_SUBSCRIPTIONS', [])),
    );
    const all = new Set<string>();
    for (const l of lists) if (Array.isArray(l)) for (const x of l) if (typeof x === 'string') all.add(x);
    return [...all].sort();
  }

  // ── connections ─────────────────────────────────────────────────────────────────────────────────

  private url(streams: string[]): string {
    return `${this.base}/stream?streams=${streams.join('/')}`;
  }

  private connect(slot: Slot, standbyFor: string | null = null): Sock | null {
    if (!this.started || slot.retired || slot.streams.size === 0) return null;
    if (slot.reconnectTimer) {
      clearTimeout(slot.reconnectTimer);
      slot.reconnectTimer = null;
    }
    const first: string[] = [];
    let len = this.base.length + 16;
    for (const s of slot.streams) {
      if (first.length > 0 && len + s.length + 1 > this.maxUrlLength) break;
      first.push(s);
      len += s.length + 1;
    }
    // autoPong off: pongs go through the limiter like every other frame (Binance counts them).
    const ws = new WebSocket(this.url(first), { handshakeTimeout: this.connectTimeoutMs, perMessageDeflate: false, autoPong: false });
    const sock = new Sock(ws, this.nextSerial++, this.now());
    sock.standbyFor = standbyFor;
    for (const s of first) sock.intended.add(s);
    if (standbyFor) slot.standby = sock;
    else {
      slot.sock = sock;
      slot.announced = false;
      this.fire('state', { connection: slot.id, state: 'connecting', reason: slot.attempt > 0 ? 'retry' : 'open', streams: slot.streams.size, at: this.now() });
    }
    ws.on('open', () => this.onOpen(slot, sock, first));
    ws.on('message', (data, isBinary) => this.onMessage(slot, sock, data, isBinary));
    // a ping is not data: a stalled stream whose server still pings is detected as silent
    ws.on('ping', (payload) => this.enqueue(sock, { pong: payload }, true));
    ws.on('error', (err) => {
      sock.lastError = err.message;
    });
    ws.on('close', (code) => this.onClose(slot, sock, code));
    return sock;
  }

  private onOpen(slot: Slot, sock: Sock, first: string[]): void {
    sock.openedAt = this.now();
    sock.lastDataAt = sock.openedAt;
    for (const s of first) sock.subscribed.add(s);
    const tick = Math.max(10, Math.min(1000, Math.floor(this.silenceMs / 4)));
    sock.watchTimer = setInterval(() => this.watch(slot, sock), tick);
    sock.ageTimer = setTimeout(() => this.replace(slot, 'rotated'), this.maxAgeMs);
    this.reconcile(sock, slot);
    if (slot.sock === sock) this.announceIfReady(slot);
    else if (slot.standby === sock) this.promoteIfReady(slot);
  }

  /** Announce 'connected' for the active socket once (at open). */
  private announceIfReady(slot: Slot): void {
    const sock = slot.sock;
    if (!sock?.open || slot.announced) return;
    slot.announced = true;
    this.fire('state', { connection: slot.id, state: 'connected', reason: sock.standbyFor ?? 'open', streams: slot.streams.size, at: this.now() });
  }

  /** A standby that has every stream takes over; the old socket is closed. */
  private promoteIfReady(slot: Slot): void {
    const sb = slot.standby;
    if (!sb?.open) return;
    for (const s of slot.streams) if (!sb.subscribed.has(s)) return;
    const old = slot.sock;
    slot.standby = null;
    slot.sock = sb;
    slot.announced = false;
    if (old) this.closeSock(old, sb.standbyFor ?? 'replaced');
    this.announceIfReady(slot);
  }

  /** Open a replacement for the slot's socket (rotation, server shutdown). */
  private replace(slot: Slot, reason: string): void {
    if (!this.started || slot.retired || slot.standby) return;
    this.log.info({ connection: slot.id, reason }, 'replacing a Binance stream connection');
    this.connect(slot, reason);
  }

  private onClose(slot: Slot, sock: Sock, code: number): void {
    this.clearSock(sock);
    const intentional = sock.closingReason !== null;
    const reason = sock.failReason ?? sock.closingReason ?? (sock.openedAt === null ? 'connect_failed' : code === 1006 ? 'dropped' : `closed_${code}`);
    if (slot.standby === sock) {
      slot.standby = null;
      if (!intentional) this.log.warn({ connection: slot.id, reason, error: sock.lastError }, 'a replacement Binance stream connection failed');
      if (!slot.sock && !slot.retired && this.started) this.scheduleReconnect(slot, reason);
      return;
    }
    if (slot.sock !== sock) return; // an old socket already replaced
    slot.sock = null;
    const wasAnnounced = slot.announced;
    slot.announced = false;
    if (sock.openedAt !== null || wasAnnounced) {
      this.fire('state', { connection: slot.id, state: 'disconnected', reason, streams: slot.streams.size, at: this.now() });
    }
    if (intentional || slot.retired || !this.started) return;
    if (sock.openedAt !== null) this.log.warn({ connection: slot.id, reason, code, error: sock.lastError }, 'Binance stream connection lost');
    if (slot.standby) {
      // the replacement takes over at once, ready or not
      const sb = slot.standby;
      slot.standby = null;
      slot.sock = sb;
      if (sb.open) this.announceIfReady(slot);
      return;
    }
    this.scheduleReconnect(slot, reason);
  }

  private scheduleReconnect(slot: Slot, reason: string): void {
    if (slot.reconnectTimer || slot.retired || !this.started) return;
    const attempt = slot.attempt++;
    const delayMs = backoffDelay(attempt, this.backoff, this.random);
    this.reconnects++;
    this.fire('reconnect', { connection: slot.id, attempt: attempt + 1, delayMs, reason });
    slot.reconnectTimer = setTimeout(() => {
      slot.reconnectTimer = null;
      this.connect(slot);
    }, delayMs);
  }

  private retire(slot: Slot, reason: string): void {
    slot.retired = true;
    if (slot.reconnectTimer) clearTimeout(slot.reconnectTimer);
    slot.reconnectTimer = null;
    for (const s of slot.streams) this.slotOf.delete(s);
    slot.streams.clear();
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.standby) this.closeSock(slot.standby, reason);
    slot.standby = null;
    if (slot.sock) {
      const sock = slot.sock;
      const wasOpen = sock.open;
      this.closeSock(sock, reason);
      slot.sock = null;
      if (wasOpen) this.fire('state', { connection: slot.id, state: 'disconnected', reason, streams: 0, at: this.now() });
    }
  }

  /** Close on purpose (no reconnect follows). */
  private closeSock(sock: Sock, reason: string): void {
    if (sock.closingReason !== null) return;
    sock.closingReason = reason;
    this.clearSock(sock);
    const ws = sock.ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    const done = new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.closing.add(done);
    void done.then(() => this.closing.delete(done));
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000, reason);
  }

  /** Give up on a socket that misbehaves; its close schedules the reconnect. */
  private fail(sock: Sock, reason: string): void {
    if (sock.failReason || sock.closingReason) return;
    sock.failReason = reason;
    sock.ws.terminate();
  }

  private clearSock(sock: Sock): void {
    if (sock.pumpTimer) clearTimeout(sock.pumpTimer);
    if (sock.watchTimer) clearInterval(sock.watchTimer);
    if (sock.ageTimer) clearTimeout(sock.ageTimer);
    sock.pumpTimer = sock.watchTimer = sock.ageTimer = null;
    for (const r of sock.inFlight.values()) {
      clearTimeout(r.timer);
      r.reject?.(new Error('connection closed'));
    }
    sock.inFlight.clear();
    sock.queue.length = 0;
  }

  /** Silence watch: probe at half the limit, replace at the limit. */
  private watch(slot: Slot, sock: Sock): void {
    const idle = this.now() - sock.lastDataAt;
    if (idle >= this.silenceMs) {
      this.log.warn({ connection: slot.id, idleMs: Math.round(idle) }, 'Binance stream connection is silent; replacing it');
      this.fail(sock, 'silent');
    } else if (idle >= this.silenceMs / 2 && !sock.probeSent) {
      sock.probeSent = true;
      this.request(sock, 'LIST_SUBSCRIPTIONS', []).catch(() => undefined);
    }
  }

  // ── outgoing ────────────────────────────────────────────────────────────────────────────────────

  /** Bring the server's subscriptions of a socket to the slot's streams. */
  private reconcile(sock: Sock, slot: Slot): void {
    if (!sock.open) return;
    const add: string[] = [];
    const remove: string[] = [];
    for (const s of slot.streams) if (!sock.intended.has(s)) add.push(s);
    for (const s of sock.intended) if (!slot.streams.has(s)) remove.push(s);
    for (let i = 0; i < remove.length; i += this.maxParams) {
      const part = remove.slice(i, i + this.maxParams);
      for (const s of part) sock.intended.delete(s);
      this.request(sock, 'UNSUBSCRIBE', part).catch(() => undefined);
    }
    for (let i = 0; i < add.length; i += this.maxParams) {
      const part = add.slice(i, i + this.maxParams);
      for (const s of part) sock.intended.add(s);
      this.request(sock, 'SUBSCRIBE', part).catch(() => undefined);
    }
  }

  private request(sock: Sock, method: string, params: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.nextRequestId++;
      const body = method === 'LIST_SUBSCRIPTIONS' ? { method, id } : { method, params, id };
      this.enqueue(sock, { text: JSON.stringify(body), request: { id, method, params, resolve, reject } });
    });
  }

  private enqueue(sock: Sock, msg: Outgoing, urgent = false): void {
    if (urgent) sock.queue.unshift(msg);
    else sock.queue.push(msg);
    this.pump(sock);
  }

  /**
   * Send queued frames while the sliding-second budget allows; otherwise wait for it. The second is
   * counted as RATE_WINDOW_MS: the server counts frames when they reach it, and frames sent a
   * second apart can arrive closer together (the first held up in transit or in the server's
   * queue) — with a millisecond to spare, a sixth frame could land in the server's second and cut
   * the connection.
   */
  private pump(sock: Sock): void {
    if (sock.pumpTimer || !sock.open) return;
    while (sock.queue.length > 0) {
      const now = this.now();
      while (sock.sentAt.length > 0 && sock.sentAt[0]! <= now - RATE_WINDOW_MS) sock.sentAt.shift();
      if (sock.sentAt.length >= this.maxPerSecond) {
        const wait = Math.max(1, Math.ceil(sock.sentAt[0]! + RATE_WINDOW_MS - now) + 1);
        sock.pumpTimer = setTimeout(() => {
          sock.pumpTimer = null;
          this.pump(sock);
        }, wait);
        return;
      }
      const msg = sock.queue.shift()!;
      sock.sentAt.push(now);
      if (msg.request) {
        const r = msg.request;
        const timer = setTimeout(() => {
          sock.inFlight.delete(r.id);
          this.count('request_timeout', `no reply to ${r.method} within ${this.requestTimeoutMs} ms`);
          r.reject?.(new Error(`${r.method} timed out`));
        }, this.requestTimeoutMs);
        sock.inFlight.set(r.id, { ...r, timer });
      }
      if (msg.pong) sock.ws.pong(msg.pong);
      else sock.ws.send(msg.text ?? '');
    }
  }

  // ── incoming ────────────────────────────────────────────────────────────────────────────────────

  private count(kind: string, detail?: string): void {
    const key = this.counts.has(kind) || this.counts.size < MAX_KINDS ? kind : 'other';
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n === 1) this.log.warn({ kind: key, detail: detail?.slice(0, 300) }, 'unexpected message on the Binance stream (further ones of this kind are only counted)');
    this.fire('malformed', { kind: key, count: n });
  }

  /**
   * A message as it arrives: stamped and counted at once, and queued in `inbox`; the messages of one
   * network read are handled together once the read's callback is done (`process.nextTick`): the
   * messages of the urgent streams first (`urgent`: the symbols a bot trades), in their order, then
   * the others, in their order, a slice at a time (see `SLICE_MS`). A symbol's messages are never
   * reordered among themselves.
   */
  private onMessage(slot: Slot, sock: Sock, data: WebSocket.RawData, isBinary: boolean): void {
    const receivedAt = this.now();
    sock.lastDataAt = receivedAt;
    sock.probeSent = false;
    this.lastMessage = receivedAt;
    slot.attempt = 0;
    const stream = this.urgent !== null && !isBinary ? streamOf(data) : '';
    // (a stream that has older messages waiting stays in order behind them)
    if (stream !== '' && this.urgent!(stream) && !this.waiting.has(stream)) this.urgentInbox.push({ slot, sock, data, isBinary, receivedAt, stream });
    else {
      this.inbox.push({ slot, sock, data, isBinary, receivedAt, stream });
      if (stream !== '') this.waiting.set(stream, (this.waiting.get(stream) ?? 0) + 1);
    }
    if (!this.drainQueued) {
      this.drainQueued = true;
      process.nextTick(() => this.drain());
    }
  }

  /** Handles the urgent messages waiting, then the others for one slice; the event loop serves in between. */
  private drain(): void {
    this.drainQueued = false;
    if (this.urgentInbox.length > 0) {
      const urgent = this.urgentInbox;
      this.urgentInbox = [];
      for (const m of urgent) this.handle(m.slot, m.sock, m.data, m.isBinary, m.receivedAt);
      // what the urgent messages started (the bot's decisions, their journal write) goes out
      // before the rest of the burst is read
      this.later();
      return;
    }
    const start = performance.now();
    const inbox = this.inbox;
    while (this.head < inbox.length) {
      const m = inbox[this.head]!;
      inbox[this.head++] = undefined as never;
      if (m.stream !== '') {
        const n = this.waiting.get(m.stream)!;
        if (n <= 1) this.waiting.delete(m.stream);
        else this.waiting.set(m.stream, n - 1);
      }
      this.handle(m.slot, m.sock, m.data, m.isBinary, m.receivedAt);
      if (this.head < inbox.length && performance.now() - start > SLICE_MS) break;
    }
    if (this.head >= inbox.length) {
      this.inbox = [];
      this.head = 0;
      return;
    }
    // a backlog that never empties (a stream faster than its handling) does not keep the handled slots
    if (this.head >= 4096) {
      this.inbox = inbox.slice(this.head);
      this.head = 0;
    }
    this.later();
  }

  /** The rest of the inbox on the next turn of the event loop (after what is ready meanwhile). */
  private later(): void {
    if (this.drainQueued || this.immediate) return;
    this.immediate = true;
    setImmediate(() => {
      this.immediate = false;
      if (!this.drainQueued && (this.urgentInbox.length > 0 || this.head < this.inbox.length)) this.drain();
    });
  }

  private handle(slot: Slot, sock: Sock, data: WebSocket.RawData, isBinary: boolean, receivedAt: number): void {
    if (isBinary) {
      this.count('binary', `${Buffer.isBuffer(data) ? data.length : 0} bytes`);
      return;
    }
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    if (this.listeners.raw.size > 0) this.fire('raw', { connection: slot.id, receivedAt, text });
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.count('invalid_json', text);
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.count('not_an_object', text);
      return;
    }
    const m = msg as Record<string, unknown>;
    if (typeof m.stream === 'string' && 'data' in m) {
      const d = m.data;
      if (typeof d !== 'object' || d === null) {
        this.count('invalid_payload', text);
        return;
      }
      const payload = d as Record<string, unknown>;
      if (payload.e === 'kline') {
        const k = parseKline(m.stream, payload, receivedAt);
        if (!k) {
          this.count('invalid_kline', text);
          return;
        }
        if (!this.slotOf.has(m.stream)) return; // unsubscribed a moment ago: expected, ignored
        this.fire('kline', k);
        return;
      }
      if (payload.e === 'serverShutdown') {
        this.onServerShutdown(slot, sock);
        return;
      }
      this.count(`event:${String(payload.e)}`, text);
      return;
    }
    if ('id' in m && ('result' in m || 'code' in m || 'error' in m)) {
      this.onReply(sock, m, text);
      return;
    }
    if (m.e === 'serverShutdown') {
      this.onServerShutdown(slot, sock);
      return;
    }
    if ('ping' in m) {
      this.enqueue(sock, { text: JSON.stringify({ pong: m.ping }) }, true);
      return;
    }
    this.count('unknown_message', text);
  }

  private onReply(sock: Sock, m: Record<string, unknown>, text: string): void {
    const id = typeof m.id === 'number' ? m.id : Number(m.id);
    const req = sock.inFlight.get(id);
    if (!req) {
      this.count('unknown_reply', text);
      return;
    }
    sock.inFlight.delete(id);
    clearTimeout(req.timer);
    if ('result' in m && !('code' in m)) {
      if (req.method === 'SUBSCRIBE') for (const s of req.params) sock.subscribed.add(s);
      if (req.method === 'UNSUBSCRIBE') for (const s of req.params) sock.subscribed.delete(s);
      req.resolve?.(m.result);
      for (const slot of this.slots) if (slot.standby === sock) this.promoteIfReady(slot);
      return;
    }
    this.count('control_error', text);
    req.reject?.(new Error(`${req.method} refused: ${text.slice(0, 200)}`));
  }

  private onServerShutdown(slot: Slot, sock: Sock): void {
    this.log.info({ connection: slot.id }, 'Binance announced a server shutdown; reconnecting now');
    if (slot.sock === sock) this.replace(slot, 'server_shutdown');
  }
}
