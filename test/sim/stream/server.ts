import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Decimal from 'decimal.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { PriceSeries, type SimCandle } from '../series';

/**
 * A Binance stream simulator for tests: on one 127.0.0.1 port it serves
 *  - the combined-stream WebSocket endpoint `/stream?streams=a/b` with Binance's message formats
 *    (kline payloads, SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS replies, `serverShutdown`), and
 *    Binance's limits (more than 5 incoming frames in a second or 1024 streams: disconnected);
 *  - `GET /api/v3/klines` (and `/api/v3/time`, `/api/v3/exchangeInfo`) from the same PriceSeries.
 *
 * Time is simulated: nothing is sent until the test calls `advance(ms)`, which sends, in time order,
 * for every minute, `updatesPerMinute` in-progress updates (x:false) and the closing one (x:true) of
 * each subscribed symbol. Days of minutes take milliseconds.
 *
 * Fault controls: drop(), rejectConnections(), goSilent(), sendMalformed(), skipMinutes(),
 * setDuplicates(), setOutOfOrder(), restart(), sendServerShutdown(), failRest(), ping().
 */
export interface StreamSimOptions {
  series?: PriceSeries;
  /** the simulated clock at start (ms since the epoch) */
  startTime?: number;
  port?: number;
  /** in-progress (x:false) updates per minute and symbol */
  updatesPerMinute?: number;
  /** closing messages of the symbols are spread over this many ms after the minute (by symbol order) */
  spreadMs?: number;
  /** after `sendServerShutdown`, connections are closed after this many real ms */
  shutdownCloseDelayMs?: number;
  /** disconnect a client above the limits, as Binance does */
  enforceLimits?: boolean;
  maxStreamsPerConnection?: number;
  maxMessagesPerSecond?: number;
}

export interface SimConnectionInfo {
  id: number;
  streams: string[];
  /** control messages received (text frames), with real receive times (performance.now()) */
  received: { at: number; text: string }[];
  /** payloads of pong frames received */
  pongs: string[];
  /** app-level `{"pong": x}` values received */
  appPongs: unknown[];
  closed: boolean;
  closeReason: string | null;
}

export type RestFailure = { status: number; retryAfterSec?: number } | 'hang';

interface Conn extends SimConnectionInfo {
  ws: WebSocket;
  streamSet: Set<string>;
  frameTimes: number[];
}

const MIN = 60_000;
const fmt = (v: Decimal.Value) => new Decimal(v).toFixed(8);

export class StreamSimulator {
  readonly series: PriceSeries;
  private clock: number;
  private readonly updates: number;
  private readonly spreadMs: number;
  private readonly shutdownDelay: number;
  private readonly enforce: boolean;
  private readonly maxStreams: number;
  private readonly maxPerSecond: number;
  private readonly idToSymbol = new Map<string, string>();
  private readonly symbolOrder = new Map<string, number>();

  private http!: Server;
  private wss!: WebSocketServer;
  private readonly sockets = new Set<Socket>();
  private readonly conns: Conn[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private nextId = 1;
  private _port = 0;

  private silent = false;
  private rejecting = false;
  private skipFrom = 0;
  private skipTo = 0;
  private duplicates = false;
  private outOfOrder = false;
  private readonly held = new Map<string, string>();
  private readonly lastClosing = new Map<string, string>();
  private restFailure: RestFailure | null = null;

  /** connection attempts (upgrade requests), with real times */
  readonly upgrades: { at: number; url: string; accepted: boolean }[] = [];
  /** REST requests received (path and query) */
  readonly restRequests: { at: number; url: string; status: number }[] = [];

  private constructor(opts: StreamSimOptions) {
    this.series = opts.series ?? new PriceSeries();
    this.clock = opts.startTime ?? Date.UTC(2024, 0, 1);
    this.updates = opts.updatesPerMinute ?? 2;
    this.spreadMs = opts.spreadMs ?? 0;
    this.shutdownDelay = opts.shutdownCloseDelayMs ?? 200;
    this.enforce = opts.enforceLimits ?? true;
    this.maxStreams = opts.maxStreamsPerConnection ?? 1024;
    this.maxPerSecond = opts.maxMessagesPerSecond ?? 5;
    const symbols = Object.keys(this.series.symbols);
    symbols.forEach((s, i) => {
      this.idToSymbol.set(s.replace('/', '').toLowerCase(), s);
      this.symbolOrder.set(s, i);
    });
  }

  static async start(opts: StreamSimOptions = {}): Promise<StreamSimulator> {
    const sim = new StreamSimulator(opts);
    await sim.listen(opts.port ?? 0);
    return sim;
  }

  get port(): number {
    return this._port;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this._port}`;
  }
  get restUrl(): string {
    return `http://127.0.0.1:${this._port}`;
  }

  /** The markets of the series ({ symbol: 'BTC/USDT', id: 'BTCUSDT' }). */
  markets(): { symbol: string; id: string }[] {
    return Object.keys(this.series.symbols).map((symbol) => ({ symbol, id: symbol.replace('/', '') }));
  }

  // ── clock ─────────────────────────────────────────────────────────────────────────────────────

  now(): number {
    return this.clock;
  }

  /** Jump the clock (nothing is sent for the time jumped over). */
  setNow(ms: number): void {
    this.clock = ms;
  }

  /** Move the clock forward, sending every message due in (now, now + ms], in time order. */
  advance(ms: number): void {
    const from = this.clock;
    const to = from + ms;
    const subscribed = this.subscribedSymbols();
    const events: { t: number; symbol: string; minute: number; k: number }[] = [];
    // minutes whose events may fall in (from, to]: their open time in [floor(from) − 1 min − spread, to)
    const first = Math.floor((from - this.spreadMs) / MIN) * MIN - MIN;
    for (let m = first; m < to; m += MIN) {
      for (const symbol of subscribed) {
        for (let k = 1; k <= this.updates + 1; k++) {
          const offset = k === this.updates + 1 ? this.offsetOf(symbol) : 0;
          const t = m + Math.round((k * MIN) / (this.updates + 1)) + offset;
          if (t > from && t <= to) events.push({ t, symbol, minute: m, k });
        }
      }
    }
    events.sort((a, b) => a.t - b.t || (this.symbolOrder.get(a.symbol)! - this.symbolOrder.get(b.symbol)!) || a.k - b.k);
    for (const e of events) {
      this.clock = e.t;
      if (e.minute >= this.skipFrom && e.minute < this.skipTo) continue;
      const closed = e.k === this.updates + 1;
      const text = this.klineMessage(e.symbol, e.minute, e.t, closed);
      const stream = this.streamOf(e.symbol);
      if (!closed) {
        this.broadcast(stream, text);
        continue;
      }
      if (this.outOfOrder && (e.minute / MIN) % 2 === 0) {
        this.held.set(e.symbol, text);
      } else {
        this.broadcast(stream, text);
        const held = this.held.get(e.symbol);
        if (held) {
          this.held.delete(e.symbol);
          this.broadcast(stream, held);
        }
      }
      if (this.duplicates) {
        this.broadcast(stream, text);
        const prev = this.lastClosing.get(e.symbol);
        if (prev) this.broadcast(stream, prev);
      }
      this.lastClosing.set(e.symbol, text);
    }
    this.clock = to;
  }

  private offsetOf(symbol: string): number {
    if (this.spreadMs === 0) return 0;
    const n = Math.max(1, this.symbolOrder.size);
    return Math.floor((this.spreadMs * this.symbolOrder.get(symbol)!) / n);
  }

  private streamOf(symbol: string): string {
    return `${symbol.replace('/', '').toLowerCase()}@kline_1m`;
  }

  private subscribedSymbols(): string[] {
    const set = new Set<string>();
    for (const c of this.conns) {
      if (c.closed) continue;
      for (const s of c.streamSet) {
        const m = /^([a-z0-9]+)@kline_1m$/.exec(s);
        const sym = m ? this.idToSymbol.get(m[1]!) : undefined;
        if (sym) set.add(sym);
      }
    }
    return [...set].sort((a, b) => this.symbolOrder.get(a)! - this.symbolOrder.get(b)!);
  }

  /** The kline of `symbol` for the minute `m` as known at instant `t` (final when closed). */
  private klineValues(symbol: string, m: number, t: number, closed: boolean): SimCandle {
    const c = this.series.candle(symbol, m);
    if (closed) return c;
    const open = new Decimal(c.open);
    const px = this.series.priceAt(symbol, t);
    const high = Decimal.min(c.high, Decimal.max(open, px));
    const low = Decimal.max(c.low, Decimal.min(open, px));
    const frac = (t - m) / MIN;
    return { openTime: m, open: c.open, high: high.toFixed(), low: low.toFixed(), close: Decimal.min(high, Decimal.max(low, px)).toFixed(), volume: new Decimal(c.volume).times(frac).toDecimalPlaces(8).toFixed() };
  }

  private klineMessage(symbol: string, m: number, t: number, closed: boolean): string {
    const c = this.klineValues(symbol, m, t, closed);
    const id = symbol.replace('/', '');
    const n = 10 + ((m / MIN) % 90);
    const firstTrade = (m / MIN) * 100;
    const v = new Decimal(c.volume);
    const q = v.times(c.close);
    return JSON.stringify({
      stream: this.streamOf(symbol),
      data: {
        e: 'kline',
        E: t,
        s: id,
        k: {
          t: m,
          T: m + MIN - 1,
          s: id,
          i: '1m',
          f: firstTrade,
          L: firstTrade + n - 1,
          o: fmt(c.open),
          c: fmt(c.close),
          h: fmt(c.high),
          l: fmt(c.low),
          v: fmt(v),
          n,
          x: closed,
          q: fmt(q),
          V: fmt(v.div(2)),
          Q: fmt(q.div(2)),
          B: '0',
        },
      },
    });
  }

  private broadcast(stream: string, text: string): void {
    if (this.silent) return;
    for (const c of this.conns) if (!c.closed && c.streamSet.has(stream)) c.ws.send(text);
  }

  // ── fault controls ────────────────────────────────────────────────────────────────────────────

  /** Close every connection abruptly (the client sees 1006). */
  drop(): void {
    for (const c of this.conns) if (!c.closed) c.ws.terminate();
  }

  /** Refuse new WebSocket connections (HTTP 503 on upgrade) while on. */
  rejectConnections(on: boolean): void {
    this.rejecting = on;
  }

  /** While on, nothing at all is sent to any connection (no data, no replies). */
  goSilent(on: boolean): void {
    this.silent = on;
  }

  /** The next `n` minutes (from the current one) are not streamed; REST still has them. */
  skipMinutes(n: number): void {
    this.skipFrom = Math.floor(this.clock / MIN) * MIN;
    this.skipTo = this.skipFrom + n * MIN;
  }

  /** Send every closing message twice, and the previous minute's closing one again after it. */
  setDuplicates(on: boolean): void {
    this.duplicates = on;
  }

  /** Hold the closing message of every even minute and send it after the next minute's one. */
  setOutOfOrder(on: boolean): void {
    this.outOfOrder = on;
    if (!on) {
      for (const [symbol, text] of this.held) this.broadcast(this.streamOf(symbol), text);
      this.held.clear();
    }
  }

  /** Send a malformed or unexpected message to every connection. */
  sendMalformed(kind: 'invalid_json' | 'invalid_kline' | 'unknown_event' | 'binary' | 'not_an_object' | 'unknown_reply' = 'invalid_json'): void {
    for (const c of this.conns) {
      if (c.closed) continue;
      const stream = [...c.streamSet][0] ?? 'btcusdt@kline_1m';
      switch (kind) {
        case 'invalid_json':
          c.ws.send('{"stream":"btcusdt@kline_1m","data":{');
          break;
        case 'invalid_kline':
          c.ws.send(JSON.stringify({ stream, data: { e: 'kline', E: this.clock, s: 'BTCUSDT', k: { t: 'soon', o: 1 } } }));
          break;
        case 'unknown_event':
          c.ws.send(JSON.stringify({ stream, data: { e: 'mysteryEvent', E: this.clock } }));
          break;
        case 'binary':
          c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
          break;
        case 'not_an_object':
          c.ws.send('[1,2,3]');
          break;
        case 'unknown_reply':
          c.ws.send(JSON.stringify({ result: null, id: 999_999_999 }));
          break;
      }
    }
  }

  /** Send an arbitrary text frame to every connection. */
  sendRaw(text: string): void {
    for (const c of this.conns) if (!c.closed) c.ws.send(text);
  }

  /** Send a WebSocket ping frame to every connection. */
  ping(payload = 'sim-ping'): void {
    for (const c of this.conns) if (!c.closed) c.ws.ping(payload);
  }

  /** Announce a server shutdown (combined-stream form); connections close shortly after. */
  sendServerShutdown(): void {
    const text = JSON.stringify({ stream: '!serverShutdown', data: { e: 'serverShutdown', E: this.clock } });
    for (const c of this.conns) {
      if (c.closed) continue;
      c.ws.send(text);
      const ws = c.ws;
      setTimeout(() => ws.close(1001, 'server shutdown'), this.shutdownDelay).unref();
    }
  }

  /** REST answers with this failure until called with null. */
  failRest(mode: RestFailure | null): void {
    this.restFailure = mode;
    if (mode === null) this.releaseHanging();
  }

  /** The server goes away (every connection cut, port closed), `during` runs, then it comes back on the same port. */
  async restart(during?: () => void | Promise<void>): Promise<void> {
    await this.shutdown();
    if (during) await during();
    await this.listen(this._port);
  }

  async close(): Promise<void> {
    await this.shutdown();
  }

  // ── introspection ─────────────────────────────────────────────────────────────────────────────

  connections(): SimConnectionInfo[] {
    return this.conns.map((c) => ({ id: c.id, streams: [...c.streamSet].sort(), received: [...c.received], pongs: [...c.pongs], appPongs: [...c.appPongs], closed: c.closed, closeReason: c.closeReason }));
  }

  openConnections(): SimConnectionInfo[] {
    return this.connections().filter((c) => !c.closed);
  }

  // ── server ────────────────────────────────────────────────────────────────────────────────────

  private async listen(port: number): Promise<void> {
    this.http = createServer((req, res) => this.onHttp(req, res));
    this.http.keepAliveTimeout = 1000;
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    this.http.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, '127.0.0.1', () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const addr = this.http.address();
    this._port = typeof addr === 'object' && addr ? addr.port : port;
  }

  private async shutdown(): Promise<void> {
    for (const c of this.conns) if (!c.closed) c.ws.terminate();
    this.releaseHanging();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private releaseHanging(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const accepted = !this.rejecting && url.pathname === '/stream';
    this.upgrades.push({ at: performance.now(), url: req.url ?? '', accepted });
    if (!accepted) {
      const status = this.rejecting ? '503 Service Unavailable' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const streams = (url.searchParams.get('streams') ?? '').split('/').filter(Boolean).map((s) => s.toLowerCase());
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, streams));
  }

  private onConnection(ws: WebSocket, streams: string[]): void {
    const c: Conn = { id: this.nextId++, ws, streamSet: new Set(streams), streams: [], received: [], pongs: [], appPongs: [], closed: false, closeReason: null, frameTimes: [] };
    this.conns.push(c);
    if (this.enforce && c.streamSet.size > this.maxStreams) {
      this.kill(c, 'too many streams');
      return;
    }
    ws.on('close', () => {
      c.closed = true;
    });
    ws.on('error', () => undefined);
    ws.on('pong', (data) => {
      c.pongs.push(data.toString());
      this.countFrame(c);
    });
    ws.on('ping', () => this.countFrame(c));
    ws.on('message', (data, isBinary) => {
      if (!this.countFrame(c)) return;
      const text = isBinary ? '' : data.toString();
      c.received.push({ at: performance.now(), text });
      this.onControl(c, text);
    });
  }

  /** Counts an incoming frame; false when the connection was cut for exceeding the rate. */
  private countFrame(c: Conn): boolean {
    const now = performance.now();
    c.frameTimes.push(now);
    while (c.frameTimes.length > 0 && c.frameTimes[0]! <= now - 1000) c.frameTimes.shift();
    if (this.enforce && c.frameTimes.length > this.maxPerSecond) {
      this.kill(c, 'too many messages');
      return false;
    }
    return true;
  }

  private kill(c: Conn, reason: string): void {
    c.closeReason = reason;
    c.closed = true;
    c.ws.close(1008, reason);
  }

  private reply(c: Conn, body: unknown): void {
    if (this.silent || c.closed) return;
    c.ws.send(JSON.stringify(body));
  }

  private onControl(c: Conn, text: string): void {
    let msg: { method?: unknown; params?: unknown; id?: unknown; pong?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.reply(c, { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' });
      return;
    }
    if (msg && typeof msg === 'object' && 'pong' in msg) {
      c.appPongs.push(msg.pong);
      return;
    }
    const id = msg.id ?? null;
    const params = Array.isArray(msg.params) ? msg.params.filter((p): p is string => typeof p === 'string').map((s) => s.toLowerCase()) : [];
    switch (msg.method) {
      case 'SUBSCRIBE':
        for (const s of params) c.streamSet.add(s);
        if (this.enforce && c.streamSet.size > this.maxStreams) {
          this.kill(c, 'too many streams');
          return;
        }
        this.reply(c, { result: null, id });
        return;
      case 'UNSUBSCRIBE':
        for (const s of params) c.streamSet.delete(s);
        this.reply(c, { result: null, id });
        return;
      case 'LIST_SUBSCRIPTIONS':
        this.reply(c, { result: [...c.streamSet], id });
        return;
      default:
        this.reply(c, { code: 2, msg: `Invalid request: unknown variant \`${String(msg.method)}\`, expected one of \`SUBSCRIBE\`, \`UNSUBSCRIBE\`, \`LIST_SUBSCRIPTIONS\`, \`SET_PROPERTY\`, \`GET_PROPERTY\``, id });
    }
  }

  // ── REST ──────────────────────────────────────────────────────────────────────────────────────

  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.restRequests.push({ at: performance.now(), url: req.url ?? '', status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { code: -1000, msg: 'method not allowed' });
    const f = this.restFailure;
    if (f === 'hang') {
      this.restRequests.push({ at: performance.now(), url: req.url ?? '', status: 0 });
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (f) return send(f.status, { code: f.status === 429 ? -1003 : -1000, msg: f.status === 429 ? 'Too many requests; current limit is 6000 request weight per 1 MINUTE.' : 'An unknown error occurred while processing the request.' }, f.retryAfterSec !== undefined ? { 'retry-after': String(f.retryAfterSec) } : {});
    switch (url.pathname) {
      case '/api/v3/time':
        return send(200, { serverTime: this.clock });
      case '/api/v3/exchangeInfo':
        return send(200, { timezone: 'UTC', serverTime: this.clock, symbols: this.markets().map((m) => ({ symbol: m.id, status: 'TRADING', baseAsset: m.symbol.split('/')[0], quoteAsset: m.symbol.split('/')[1] })) });
      case '/api/v3/klines':
        return this.klines(url.searchParams, send);
      default:
        return send(404, { code: -1000, msg: 'not found' });
    }
  }

  private klines(q: URLSearchParams, send: (status: number, body: unknown) => void): void {
    const id = q.get('symbol') ?? '';
    const symbol = id === id.toUpperCase() ? this.idToSymbol.get(id.toLowerCase()) : undefined;
    if (!symbol) return send(400, { code: -1121, msg: 'Invalid symbol.' });
    if (q.get('interval') !== '1m') return send(400, { code: -1120, msg: 'Invalid interval.' });
    const limit = q.has('limit') ? Number(q.get('limit')) : 500;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return send(400, { code: -1130, msg: "Data sent for parameter 'limit' is not valid." });
    const nowMinute = Math.floor(this.clock / MIN) * MIN;
    const end = Math.min(q.has('endTime') ? Number(q.get('endTime')) : Infinity, this.clock);
    let from: number;
    if (q.has('startTime')) from = Math.ceil(Number(q.get('startTime')) / MIN) * MIN;
    else from = Math.floor(end / MIN) * MIN - (limit - 1) * MIN;
    const rows: unknown[] = [];
    for (let m = from; m <= end && rows.length < limit; m += MIN) {
      const c = m === nowMinute ? this.klineValues(symbol, m, this.clock, false) : this.series.candle(symbol, m);
      const v = new Decimal(c.volume);
      const qv = v.times(c.close);
      rows.push([m, fmt(c.open), fmt(c.high), fmt(c.low), fmt(c.close), fmt(v), m + MIN - 1, fmt(qv), 10 + ((m / MIN) % 90), fmt(v.div(2)), fmt(qv.div(2)), '0']);
    }
    send(200, rows);
  }
}
