import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../log';
import { PriceSeries } from '../../test/sim/series';
import { StreamSimulator } from '../../test/sim/stream/server';
import { memoryLogger, sleep, waitFor } from '../../test/sim/stream/wait';
import { backoffDelay, BinanceStreamClient, type BinanceStreamOptions, type ConnectionStateEvent, type KlineEvent, type ReconnectEvent } from './binance-ws';

const MIN = 60_000;
const T0 = Date.UTC(2024, 4, 1, 12, 0);
const BTC = 'btcusdt@kline_1m';
const ETH = 'ethusdt@kline_1m';

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap, jitter taking off at most the jitter fraction', () => {
    const o = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, o, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, o, () => 1))).toEqual([50, 100, 200, 400, 500]);
    expect(backoffDelay(1000, o, () => 0.5)).toBe(750);
  });
});

describe('BinanceStreamClient against the stream simulator', () => {
  let sim: StreamSimulator;
  const clients: BinanceStreamClient[] = [];

  beforeAll(async () => {
    sim = await StreamSimulator.start({ startTime: T0, shutdownCloseDelayMs: 300 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    sim.goSilent(false);
    sim.rejectConnections(false);
    sim.drop();
  });
  afterAll(async () => {
    await sim.close();
  });

  function client(opts: Partial<BinanceStreamOptions> = {}) {
    const c = new BinanceStreamClient({ url: sim.wsUrl, log: silentLogger(), backoff: { initialMs: 20, maxMs: 200 }, ...opts });
    const klines: KlineEvent[] = [];
    const states: ConnectionStateEvent[] = [];
    const reconnects: ReconnectEvent[] = [];
    c.on('kline', (k) => klines.push(k));
    c.on('state', (s) => states.push(s));
    c.on('reconnect', (r) => reconnects.push(r));
    clients.push(c);
    return { c, klines, states, reconnects };
  }
  const open = () => sim.openConnections();

  it('streams parsed klines, and subscribes / unsubscribes at runtime', async () => {
    const { c, klines, states } = client();
    c.start([BTC]);
    await waitFor(() => c.isConnected() && open().length === 1, 'connected');
    expect(states.map((s) => s.state)).toEqual(['connecting', 'connected']);
    expect(sim.upgrades.at(-1)!.url).toBe(`/stream?streams=${BTC}`);
    sim.advance(MIN);
    await waitFor(() => klines.length === 3, '3 klines');
    const closed = klines.filter((k) => k.closed);
    expect(closed).toHaveLength(1);
    const expected = sim.series.candle('BTC/USDT', T0);
    expect({ ...closed[0]!, receivedAt: 0 }).toMatchObject({ stream: BTC, symbol: 'BTCUSDT', interval: '1m', openTime: T0, closeTime: T0 + MIN - 1, eventTime: T0 + MIN, closed: true });
    for (const f of ['open', 'high', 'low', 'close', 'volume'] as const) expect(Number(closed[0]![f])).toBe(Number(expected[f]));
    expect(klines.filter((k) => !k.closed).every((k) => k.openTime === T0)).toBe(true);
    expect(typeof closed[0]!.receivedAt).toBe('number');

    c.subscribe([ETH]);
    await waitFor(() => open()[0]?.streams.includes(ETH), 'eth subscribed on the server');
    expect(JSON.parse(open()[0]!.received.at(-1)!.text)).toMatchObject({ method: 'SUBSCRIBE', params: [ETH] });
    sim.advance(MIN);
    await waitFor(() => klines.filter((k) => k.closed && k.symbol === 'ETHUSDT').length === 1, 'an eth kline');

    c.unsubscribe([BTC]);
    await waitFor(() => open()[0]?.streams.join() === ETH, 'btc unsubscribed on the server');
    expect(await c.listSubscriptions()).toEqual([ETH]);
    expect(c.streams()).toEqual([ETH]);
    const btcBefore = klines.filter((k) => k.symbol === 'BTCUSDT').length;
    sim.advance(MIN);
    await waitFor(() => klines.filter((k) => k.closed && k.symbol === 'ETHUSDT').length === 2, 'the next eth kline');
    expect(klines.filter((k) => k.symbol === 'BTCUSDT')).toHaveLength(btcBefore);
    expect(open()).toHaveLength(1);
  });

  it('answers ping frames with their payload, and app-level pings', async () => {
    const { c } = client();
    c.start([BTC]);
    await waitFor(() => c.isConnected(), 'connected');
    sim.ping('payload-123');
    sim.sendRaw('{"ping":42}');
    await waitFor(() => open()[0]?.pongs.includes('payload-123'), 'the pong');
    await waitFor(() => open()[0]?.appPongs.includes(42), 'the app-level pong');
  });

  it('probes, then replaces a silent connection', async () => {
    const { c, klines, states } = client({ silenceMs: 400 });
    c.start([BTC]);
    await waitFor(() => c.isConnected(), 'connected');
    const first = open()[0]!.id;
    sim.goSilent(true);
    await waitFor(() => states.some((s) => s.state === 'disconnected' && s.reason === 'silent'), 'the silent connection dropped');
    const old = sim.connections().find((x) => x.id === first)!;
    expect(old.received.some((r) => JSON.parse(r.text).method === 'LIST_SUBSCRIPTIONS')).toBe(true);
    sim.goSilent(false);
    await waitFor(() => c.isConnected() && open().some((x) => x.id !== first), 'a new connection');
    sim.advance(MIN);
    await waitFor(() => klines.some((k) => k.closed), 'data on the new connection');
  });

  it('reconnects with exponential backoff and jitter, and resets it once data flows', async () => {
    const { c, klines, reconnects } = client({ backoff: { initialMs: 20, maxMs: 160, factor: 2, jitter: 0.5 }, random: () => 0.5 });
    c.start([BTC]);
    await waitFor(() => c.isConnected(), 'connected');
    const attemptsBefore = sim.upgrades.length;
    sim.rejectConnections(true);
    sim.drop();
    await waitFor(() => reconnects.length >= 6, '6 reconnect attempts');
    expect(reconnects.slice(0, 6).map((r) => r.delayMs)).toEqual([15, 30, 60, 120, 120, 120]);
    expect(reconnects.slice(0, 6).map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reconnects[0]!.reason).toBe('dropped');
    expect(reconnects[1]!.reason).toBe('connect_failed');
    expect(sim.upgrades.slice(attemptsBefore).filter((u) => !u.accepted).length).toBeGreaterThanOrEqual(5);
    sim.rejectConnections(false);
    await waitFor(() => c.isConnected(), 'reconnected');
    sim.advance(MIN);
    await waitFor(() => klines.some((k) => k.closed), 'data');
    const n = reconnects.length;
    sim.drop();
    await waitFor(() => reconnects.length > n, 'a new reconnect');
    expect(reconnects[n]!.delayMs).toBe(15);
    await waitFor(() => c.isConnected(), 'reconnected again');
  });

  it('rotates each connection before its age limit: the new one is subscribed before the old one closes', async () => {
    const streams = ['btcusdt', 'ethusdt', 'bnbusdt', 'solusdt', 'ethbtc'].map((s) => `${s}@kline_1m`);
    const { c, klines, states } = client({ maxConnectionAgeMs: 600, maxUrlLength: 70 });
    c.start(streams);
    await waitFor(() => c.isConnected(), 'connected');
    const first = open()[0]!.id;
    await waitFor(() => states.some((s) => s.state === 'connected' && s.reason === 'rotated'), 'a rotation');
    await waitFor(() => sim.connections().find((x) => x.id === first)!.closed, 'the old connection closed');
    const rotated = open();
    expect(rotated).toHaveLength(1);
    expect(rotated[0]!.streams).toEqual([...streams].sort());
    expect(states.filter((s) => s.state === 'disconnected')).toEqual([]);
    expect(rotated[0]!.id).not.toBe(first);
    // the first URL held only what fits; the rest was subscribed by message
    expect(sim.upgrades.at(-1)!.url.length).toBeLessThanOrEqual(70);
    sim.advance(MIN);
    await waitFor(() => new Set(klines.filter((k) => k.closed).map((k) => k.symbol)).size === 5, 'all five symbols after rotation');
  });

  it('opens a replacement at once on serverShutdown, without a disconnection', async () => {
    const { c, states, reconnects } = client();
    c.start([BTC, ETH]);
    await waitFor(() => c.isConnected(), 'connected');
    const first = open()[0]!.id;
    sim.sendServerShutdown();
    await waitFor(() => states.some((s) => s.state === 'connected' && s.reason === 'server_shutdown'), 'the replacement');
    await waitFor(() => sim.connections().find((x) => x.id === first)?.closed, 'the old connection closed');
    await sleep(350); // past the simulator's close of the announced connection
    expect(c.isConnected()).toBe(true);
    expect(states.filter((s) => s.state === 'disconnected')).toEqual([]);
    expect(reconnects).toEqual([]);
    expect(open().map((x) => x.streams)).toEqual([[BTC, ETH].sort()]);
  });

  it('never sends more than 5 frames in a second (the simulator cuts a connection that does)', async () => {
    const { c } = client({ maxParamsPerMessage: 1 });
    c.start([BTC]);
    await waitFor(() => c.isConnected(), 'connected');
    const more = Array.from({ length: 11 }, (_, i) => `sym${i}usdt@kline_1m`);
    c.subscribe(more);
    sim.ping('during-the-burst');
    await waitFor(() => open()[0]?.streams.length === 12, 'all 12 subscribed', 8000);
    const conn = open()[0]!;
    expect(conn.closeReason).toBeNull();
    expect(sim.connections().filter((x) => x.closeReason === 'too many messages')).toEqual([]);
    expect(conn.pongs).toContain('during-the-burst');
    const times = conn.received.map((r) => r.at);
    expect(times.length).toBe(11);
    for (let i = 0; i < times.length; i++) expect(times.filter((t) => t >= times[i]! && t < times[i]! + 1000).length).toBeLessThanOrEqual(5);
  });

  it('spreads more than 1024 streams over two connections', async () => {
    const streams = Array.from({ length: 1100 }, (_, i) => `sym${i}usdt@kline_1m`);
    const { c } = client();
    c.start(streams);
    await waitFor(() => open().length === 2 && open().reduce((n, x) => n + x.streams.length, 0) === 1100, '1100 streams on two connections', 10_000);
    expect(open().map((x) => x.streams.length).sort((a, b) => a - b)).toEqual([76, 1024]);
    expect(c.connectionCount()).toBe(2);
    expect(sim.connections().filter((x) => x.closeReason !== null)).toEqual([]);
    // a removal frees room on the first connection; a new stream goes there
    c.unsubscribe(streams.slice(0, 10));
    c.subscribe(['btcusdt@kline_1m']);
    await waitFor(() => open().some((x) => x.streams.length === 1015 && x.streams.includes(BTC)), 'the new stream on the first connection', 5000);
  });

  it('counts malformed and unexpected messages by kind, logs the first of each, and keeps streaming', async () => {
    const { log, lines } = memoryLogger('warn');
    const { c, klines } = client({ log });
    c.start([BTC]);
    await waitFor(() => c.isConnected(), 'connected');
    const kinds = ['invalid_json', 'invalid_kline', 'unknown_event', 'binary', 'not_an_object', 'unknown_reply'] as const;
    for (const k of kinds) {
      sim.sendMalformed(k);
      sim.sendMalformed(k);
    }
    await waitFor(() => Object.values(c.stats().malformed).reduce((a, b) => a + b, 0) === 12, '12 counted');
    expect(c.stats().malformed).toEqual({ invalid_json: 2, invalid_kline: 2, 'event:mysteryEvent': 2, binary: 2, not_an_object: 2, unknown_reply: 2 });
    await waitFor(() => lines.filter((l) => String(l.msg).startsWith('unexpected message')).length === 6, 'six log lines');
    sim.advance(MIN);
    await waitFor(() => klines.some((k) => k.closed), 'klines still flowing');
    expect(c.isConnected()).toBe(true);
  });

  it('stop closes every connection and reconnects nothing', async () => {
    const { c, reconnects } = client();
    c.start([BTC]);
    await waitFor(() => c.isConnected(), 'connected');
    await c.stop();
    await waitFor(() => open().length === 0, 'closed on the server');
    await sleep(100);
    expect(reconnects).toEqual([]);
    expect(open()).toEqual([]);
  });
});

describe('BinanceStreamClient: the urgent streams of a burst go first', () => {
  const N = 300;
  const streams = Array.from({ length: N }, (_, i) => `s${i}usdt@kline_1m`);
  let sim: StreamSimulator;
  beforeAll(async () => {
    const symbols = Object.fromEntries(streams.map((_, i) => [`S${i}/USDT`, { base: 10 + i, priceDecimals: 4, volumeDecimals: 2 }]));
    sim = await StreamSimulator.start({ series: new PriceSeries(7, symbols), startTime: T0 + 30_000, spreadMs: 0, updatesPerMinute: 2 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('a closing message of an urgent stream waits behind no other stream, and each stream keeps its order', async () => {
    // urgent: the last streams the simulator sends (after hundreds of others in the same burst); one
    // of them becomes urgent only after its first message of the burst arrived: it must stay in order
    const urgent = new Set(streams.slice(N - 20));
    const late = streams[N - 25]!;
    let calls = 0;
    let lateSeen = 0;
    const handled: { stream: string; kline: KlineEvent; at: number }[] = [];
    const c = new BinanceStreamClient({
      url: sim.wsUrl,
      log: silentLogger(),
      urgent: (s) => {
        calls++;
        if (s === late) return ++lateSeen > 1;
        return urgent.has(s);
      },
    });
    c.on('kline', (k) => handled.push({ stream: `${k.symbol.toLowerCase()}@kline_1m`, kline: k, at: performance.timeOrigin + performance.now() }));
    try {
      c.start(streams);
      await waitFor(() => c.isConnected() && sim.openConnections().reduce((n, x) => n + x.streams.length, 0) === N, 'subscribed', 10_000);
      for (let m = 0; m < 3; m++) {
        const from = handled.length;
        sim.advance(MIN);
        await waitFor(() => handled.slice(from).filter((h) => h.kline.closed).length === N, `the closings of minute ${m}`, 10_000);
        const burst = handled.slice(from);
        for (const u of burst.filter((h) => urgent.has(h.stream) && h.kline.closed)) {
          // every other stream's message handled between this one's arrival and its handling
          const overtaken = burst.filter((h) => !urgent.has(h.stream) && h.stream !== late && h.at > u.kline.receivedAt && h.at < u.at);
          expect(overtaken.map((h) => h.stream)).toEqual([]);
        }
        // per stream: the updates in the order they were sent (a minute's in-progress updates, its
        // closing, then the next minute's)
        for (const s of [late, ...urgent]) {
          const mine = burst.filter((h) => h.stream === s).map((h) => h.kline.openTime * 2 + (h.kline.closed ? 1 : 0));
          expect(mine.length).toBeGreaterThan(1);
          expect(mine).toEqual([...mine].sort((a, b) => a - b));
          expect(mine.some((x) => x % 2 === 1)).toBe(true);
        }
      }
      expect(calls).toBeGreaterThan(N);
      expect(lateSeen).toBeGreaterThan(2);
    } finally {
      await c.stop();
    }
  });
});
