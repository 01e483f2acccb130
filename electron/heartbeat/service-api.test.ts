import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors';
import { floorToTimeframe } from '../../shared/timeframes';
import { createTestDb, type TestDb } from '../../test/support/db';
import { StreamSimulator } from '../../test/sim/stream/server';
import { sleep, waitFor } from '../../test/sim/stream/wait';
import { silentLogger } from '../log';
import { CandlesQueryInput, heartbeatEvents, heartbeatMethods, HeartbeatSignalSchema, HeartbeatStatusSchema, type HeartbeatSignal } from '../../shared/contract/heartbeat';
import { heartbeatConfigFromEnv, HeartbeatService, type HeartbeatConfig, type HeartbeatDeps } from './service';

const MIN = 60_000;
const T0 = Date.UTC(2024, 8, 2, 9, 41, 10);

interface Ctx {
  t: TestDb;
  sim: StreamSimulator;
  hb: HeartbeatService;
  signals: HeartbeatSignal[];
  events: { name: string; data: unknown }[];
}
const contexts: Ctx[] = [];

async function setup(config: Partial<HeartbeatConfig> = {}, opts: { markets?: HeartbeatDeps['markets']; before?: (sim: StreamSimulator) => void } = {}): Promise<Ctx> {
  const t = await createTestDb();
  const sim = await StreamSimulator.start({ startTime: T0 });
  opts.before?.(sim);
  const signals: HeartbeatSignal[] = [];
  const events: { name: string; data: unknown }[] = [];
  const hb = new HeartbeatService({
    db: t.db,
    log: silentLogger(),
    emit: (name, data) => events.push({ name, data }),
    markets: opts.markets ?? (async () => sim.markets()),
    clock: { now: () => sim.now() },
    config: { wsUrl: sim.wsUrl, restUrl: sim.restUrl, backfillHours: 1, silenceMs: 1000, gapGraceMs: 100, restSettleMs: 0, reconnectBackoff: { initialMs: 20, maxMs: 200 }, retryBackoff: { initialMs: 50, maxMs: 400, factor: 2, jitter: 0 }, ...config },
  });
  hb.onSignal((s) => signals.push(s));
  const c = { t, sim, hb, signals, events };
  contexts.push(c);
  await hb.start();
  return c;
}

afterEach(async () => {
  for (const c of contexts.splice(0)) {
    await c.hb.stop();
    await c.sim.close();
    await c.t.close();
  }
});

const synced = (c: Ctx, n = 1) => waitFor(() => c.hb.status().connected && !c.hb.status().backfilling && c.sim.openConnections()[0]?.streams.length === n, 'connected and synced');
const klineRequests = (c: Ctx) => c.sim.restRequests.filter((r) => r.url.startsWith('/api/v3/klines'));

describe('HeartbeatService: symbols, status, REST failures', () => {
  it('refuses an unknown symbol with invalid_input and watches a listed one at runtime', async () => {
    const c = await setup();
    await synced(c);
    const err = await c.hb.addSymbol('NOPE/USDT').catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('invalid_input');
    expect((err as Error).message).toMatch(/NOPE\/USDT is not a market on Binance/);
    expect((await c.hb.listSymbols()).map((s) => s.symbol)).toEqual(['BTC/USDT']);

    const list = await c.hb.addSymbol('ETH/USDT');
    expect(list.map((s) => s.symbol)).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(list.every((s) => s.exchange === 'binance' && typeof s.addedAt === 'number')).toBe(true);
    await synced(c, 2);
    expect(c.sim.openConnections()[0]!.streams).toEqual(['btcusdt@kline_1m', 'ethusdt@kline_1m']);
    // its history was backfilled silently, then live minutes are signalled
    await c.hb.whenStored();
    const stored = await c.hb.queryCandles({ exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1m', limit: 5 });
    expect(stored.at(-1)!.openTime).toBe(floorToTimeframe(T0, '1m') - MIN);
    c.sim.advance(3 * MIN);
    await waitFor(() => c.signals.filter((s) => s.symbol === 'ETH/USDT' && s.timeframe === '1m').length === 3, '3 ETH signals');
    expect(c.signals.filter((s) => s.symbol === 'ETH/USDT' && s.timeframe === '3m')).toHaveLength(1);
    expect(c.hb.status()).toMatchObject({ symbols: 2, streams: 2, connections: 1 });

    const after = await c.hb.removeSymbol('ETH/USDT');
    expect(after.map((s) => s.symbol)).toEqual(['BTC/USDT']);
    await waitFor(() => c.sim.openConnections()[0]?.streams.join() === 'btcusdt@kline_1m', 'unsubscribed');
    const n = c.signals.filter((s) => s.symbol === 'ETH/USDT').length;
    c.sim.advance(2 * MIN);
    await waitFor(() => c.signals.filter((s) => s.symbol === 'BTC/USDT' && s.timeframe === '1m').length === 5, 'BTC goes on');
    expect(c.signals.filter((s) => s.symbol === 'ETH/USDT')).toHaveLength(n);
    const nf = await c.hb.removeSymbol('ETH/USDT').catch((e: unknown) => e);
    expect(isAppError(nf) && nf.code).toBe('not_found');
    // kept across a restart
    await c.hb.stop();
    await c.hb.addSymbol('SOL/USDT');
    await c.hb.start();
    await synced(c, 2);
    expect(c.hb.status().symbols).toBe(2);
  });

  it('records the status and each session in the database', async () => {
    const c = await setup();
    await synced(c);
    await waitFor(async () => (await c.t.db.query<{ connected: boolean }>("SELECT connected FROM heartbeat_status WHERE exchange = 'binance'")).rows[0]?.connected, 'connected recorded');
    const st = c.hb.status();
    expect(HeartbeatStatusSchema.parse(st)).toEqual(st);
    expect(st).toMatchObject({ exchange: 'binance', running: true, connected: true, incoherent: false, gaps: [], symbols: 1, streams: 1, subscribed: 1 });
    expect(c.events.some((e) => e.name === 'heartbeat.status' && (e.data as { connected: boolean }).connected)).toBe(true);
    await c.hb.stop('app quit');
    const { rows } = await c.t.db.query<{ running: boolean; connected: boolean; last_started_at: Date | null; last_stopped_at: Date | null; symbols_watched: number }>("SELECT * FROM heartbeat_status WHERE exchange = 'binance'");
    expect(rows[0]).toMatchObject({ running: false, connected: false, symbols_watched: 1 });
    expect(rows[0]!.last_started_at).toBeInstanceOf(Date);
    expect(rows[0]!.last_stopped_at).toBeInstanceOf(Date);
    const s = await c.t.db.query<{ stop_reason: string; stopped_at: Date | null; symbols_watched: number }>('SELECT * FROM heartbeat_sessions');
    expect(s.rows).toHaveLength(1);
    expect(s.rows[0]).toMatchObject({ stop_reason: 'app quit', symbols_watched: 1 });
    expect(s.rows[0]!.stopped_at).toBeInstanceOf(Date);
    expect(c.hb.status()).toMatchObject({ running: false, connected: false });
    await c.hb.start();
    await synced(c);
    expect((await c.t.db.query('SELECT * FROM heartbeat_sessions')).rows).toHaveLength(2);
    expect(await c.hb.start().catch((e: unknown) => isAppError(e) && e.code)).toBe('already_running');
  });

  it('honours Retry-After on 429 at start: incoherent meanwhile, no request before it expires, then recovers', async () => {
    const c = await setup({}, { before: (sim) => sim.failRest({ status: 429, retryAfterSec: 1 }) });
    await waitFor(() => c.hb.status().incoherent, 'incoherent');
    const windowStart = floorToTimeframe(floorToTimeframe(T0, '1m') - 3600_000, '4h');
    expect(c.hb.status().gaps).toEqual([{ symbol: 'BTC/USDT', from: windowStart, to: floorToTimeframe(T0, '1m') }]);
    expect(c.hb.status().lastError).toMatch(/rate limit \(429\)/);
    const n = klineRequests(c).length;
    expect(n).toBe(1);
    c.sim.failRest(null);
    await sleep(500);
    expect(klineRequests(c)).toHaveLength(1);
    await waitFor(() => !c.hb.status().incoherent, 'coherent again', 5000);
    expect(klineRequests(c)).toHaveLength(2);
    c.sim.advance(MIN);
    await waitFor(() => c.signals.some((s) => s.timeframe === '1m'), 'signals');
  });

  it('a REST request that hangs times out; the symbol is incoherent until REST answers again', async () => {
    const c = await setup({ restTimeoutMs: 300 }, { before: (sim) => sim.failRest('hang') });
    await waitFor(() => c.hb.status().incoherent, 'incoherent');
    expect(c.hb.status().lastError).toMatch(/did not answer within 300 ms/);
    c.sim.advance(2 * MIN);
    await sleep(100);
    expect(c.signals).toEqual([]); // signals wait for the backfill
    c.sim.failRest(null);
    await waitFor(() => c.signals.filter((s) => s.timeframe === '1m').length === 2, 'the two minutes signalled', 5000);
    expect(c.hb.status()).toMatchObject({ incoherent: false, gaps: [] });
  });

  it('fetches a minute from REST only once it closed restSettleMs ago, unless the stream proved it closed', async () => {
    const c = await setup({ restSettleMs: 2000 });
    await synced(c);
    const m0 = floorToTimeframe(T0, '1m');
    c.sim.advance(m0 + MIN - c.sim.now()); // m0 closes, live
    await waitFor(() => c.signals.some((s) => s.timeframe === '1m' && s.openTime === m0), 'the live minute');
    c.sim.rejectConnections(true);
    c.sim.drop();
    await waitFor(() => !c.hb.status().connected, 'disconnected');
    c.sim.advance(MIN + 500); // m0+1 closes during the outage, 0.5 s before we reconnect
    const before = klineRequests(c).length;
    c.sim.rejectConnections(false);
    await synced(c);
    await sleep(200);
    expect(klineRequests(c)).toHaveLength(before); // too fresh to trust our clock with it
    c.sim.advance(MIN); // m0+2 closes on the stream: m0+1 is proven closed, fetched at once
    await waitFor(() => c.signals.filter((s) => s.timeframe === '1m').length === 3, 'three minutes');
    expect(c.signals.filter((s) => s.timeframe === '1m').map((s) => [(s.openTime - m0) / MIN, s.backfilled])).toEqual([[0, false], [1, true], [2, false]]);
    expect(klineRequests(c)).toHaveLength(before + 1);
  });

  it('gives up a gap that cannot be backfilled once too many minutes wait behind it', async () => {
    const c = await setup({ maxBufferedMinutes: 3 });
    await synced(c);
    c.sim.failRest({ status: 503 });
    c.sim.skipMinutes(1);
    const lost = floorToTimeframe(T0, '1m');
    c.sim.advance(MIN);
    for (let i = 0; i < 3; i++) {
      c.sim.advance(MIN);
      await sleep(20);
    }
    await waitFor(() => c.hb.status().incoherent, 'incoherent');
    expect(c.signals).toEqual([]);
    c.sim.advance(MIN); // the fourth minute waiting: the gap is given up
    await waitFor(() => c.signals.filter((s) => s.timeframe === '1m').length === 4, 'the waiting minutes released');
    expect(c.signals.filter((s) => s.timeframe === '1m').map((s) => (s.openTime - lost) / MIN)).toEqual([1, 2, 3, 4]);
    // the 3m and 5m candles containing the lost minute are not built
    expect(c.signals.filter((s) => s.timeframe !== '1m').every((s) => s.openTime > lost)).toBe(true);
    c.sim.failRest(null);
    await waitFor(() => !c.hb.status().incoherent, 'coherent again');
  });

  it('starts without the market list (watching stored symbols by name) but refuses to add one then', async () => {
    const c = await setup({}, { markets: async () => Promise.reject(new Error('markets not loaded')) });
    await synced(c);
    const e = await c.hb.addSymbol('ETH/USDT').catch((x: unknown) => x);
    expect(isAppError(e) && e.code).toBe('unavailable');
    c.sim.advance(MIN);
    await waitFor(() => c.signals.some((s) => s.symbol === 'BTC/USDT'), 'BTC signals');
  });

  it('throttles heartbeat.raw and says how many were skipped', async () => {
    const c = await setup({ rawPerSecond: 3 });
    await synced(c);
    const t = Date.now();
    c.sim.advance(10 * MIN); // 30 messages at once
    await waitFor(() => c.signals.filter((s) => s.timeframe === '1m').length === 10, '10 minutes');
    const raw = () => c.events.filter((e) => e.name === 'heartbeat.raw').map((e) => e.data as { skipped: number; message: string });
    expect(raw().length).toBeLessThanOrEqual(3 * (Math.ceil((Date.now() - t) / 1000) + 1));
    expect(raw().length).toBeGreaterThan(0);
    await sleep(1100);
    c.sim.advance(MIN);
    await waitFor(() => raw().some((r) => r.skipped > 0), 'a raw event reporting skipped ones');
    expect(JSON.parse(raw()[0]!.message)).toMatchObject({ stream: 'btcusdt@kline_1m' });
  });

  it('emits heartbeat.tick for every kline message: the forming minute moves, then closes with the signal\'s candle', async () => {
    const c = await setup();
    await synced(c);
    const minute = floorToTimeframe(c.sim.now(), '1m');
    c.sim.advance(MIN); // the simulator: 2 in-progress updates and the closing one per minute
    await waitFor(() => c.signals.some((s) => s.timeframe === '1m' && s.openTime === minute), 'the minute closed');
    const ticks = c.events.filter((e) => e.name === 'heartbeat.tick').map((e) => heartbeatEvents['heartbeat.tick'].parse(e.data)).filter((t) => t.candle.openTime === minute);
    expect(ticks.map((t) => t.closed)).toEqual([false, false, true]);
    expect(ticks.every((t) => t.symbol === 'BTC/USDT' && t.exchange === 'binance')).toBe(true);
    // the closing tick is the candle the 1m signal carries; the forming ones are its partial states
    const signal = c.signals.find((s) => s.timeframe === '1m' && s.openTime === minute)!;
    const num = (x: string) => Number(x);
    expect(num(ticks[2]!.candle.close)).toBe(num(signal.candle.close));
    expect(num(ticks[2]!.candle.high)).toBe(num(signal.candle.high));
    expect(num(ticks[0]!.candle.open)).toBe(num(signal.candle.open));
    expect(num(ticks[0]!.candle.high)).toBeLessThanOrEqual(num(signal.candle.high));
    // ticks come before the store: nothing of a forming minute is stored
    await c.hb.whenStored();
    expect((await c.hb.queryCandles({ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m', from: minute + MIN, limit: 1 }))).toEqual([]);
  });

  it('emits signals and status that match the contract schemas', async () => {
    const c = await setup();
    await synced(c);
    c.sim.advance(MIN * 4);
    await waitFor(() => c.signals.some((s) => s.timeframe === '3m'), 'a 3m signal');
    for (const s of c.signals) expect(HeartbeatSignalSchema.parse(s)).toEqual(s);
    for (const e of c.events) expect(() => heartbeatEvents[e.name as keyof typeof heartbeatEvents].parse(e.data)).not.toThrow();
    expect(CandlesQueryInput.parse({ symbol: ' eth/usdt ', timeframe: '1h' })).toEqual({ exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' });
    expect(CandlesQueryInput.safeParse({ symbol: 'BTC/USDT', timeframe: '30m' }).success).toBe(false);
    expect(heartbeatMethods['heartbeat.symbols.add'].input.safeParse({ symbol: 'BTCUSDT' }).success).toBe(false);
    await c.hb.whenStored();
    const q = await c.hb.queryCandles(CandlesQueryInput.parse({ symbol: 'BTC/USDT', timeframe: '1m', limit: 2 }));
    expect(heartbeatMethods['candles.query'].output.parse(q)).toHaveLength(2);
  });
});

describe('heartbeatConfigFromEnv', () => {
  it('reads the URLs and numbers, refuses nonsense', () => {
    expect(heartbeatConfigFromEnv({ ARISTOBOT_BINANCE_WS_URL: 'ws://x', ARISTOBOT_BINANCE_REST_URL: 'http://y', ARISTOBOT_HEARTBEAT_BACKFILL_HOURS: '6', ARISTOBOT_HEARTBEAT_SILENCE_MS: '15000' })).toEqual({ wsUrl: 'ws://x', restUrl: 'http://y', backfillHours: 6, silenceMs: 15000 });
    expect(heartbeatConfigFromEnv({})).toEqual({});
    expect(() => heartbeatConfigFromEnv({ ARISTOBOT_HEARTBEAT_BACKFILL_HOURS: 'lots' })).toThrow(/ARISTOBOT_HEARTBEAT_BACKFILL_HOURS/);
  });
});
