import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { AGGREGATED_TIMEFRAMES, floorToTimeframe, TIMEFRAMES, timeframeMs } from '../../shared/timeframes';
import { createTestDb, type TestDb } from '../../test/support/db';
import { expectedCandles, expectedSignalTimes, normalise } from '../../test/sim/stream/expected';
import { DEFAULT_SYMBOLS, PriceSeries } from '../../test/sim/series';
import { StreamSimulator } from '../../test/sim/stream/server';
import { memoryLogger, waitFor } from '../../test/sim/stream/wait';
import { silentLogger, type Logger } from '../log';
import type { HeartbeatSignal } from '../../shared/contract/heartbeat';
import { translate, type Params } from '../../shared/i18n';
import { HeartbeatService, type HeartbeatConfig } from './service';

const MIN = 60_000;
// 23:52:30 UTC: the run crosses midnight (a 4h, 2h and 1h boundary)
const T0 = Date.UTC(2024, 2, 10, 23, 52, 30);
const SYMBOL = 'BTC/USDT';

interface Ctx {
  t: TestDb;
  sim: StreamSimulator;
  hb: HeartbeatService;
  signals: HeartbeatSignal[];
  events: { name: string; data: unknown }[];
  /** first minute whose close is signalled (the current minute at start) */
  startCursor: number;
  /** start of the backfill window */
  windowStart: number;
}

const contexts: Ctx[] = [];

async function setup(config: Partial<HeartbeatConfig> = {}, opts: { startTime?: number; log?: Logger; series?: PriceSeries; spreadMs?: number } = {}): Promise<Ctx> {
  const t = await createTestDb();
  const startTime = opts.startTime ?? T0;
  const sim = await StreamSimulator.start({ startTime, series: opts.series, spreadMs: opts.spreadMs });
  const signals: HeartbeatSignal[] = [];
  const events: { name: string; data: unknown }[] = [];
  const hb = new HeartbeatService({
    db: t.db,
    log: opts.log ?? silentLogger(),
    emit: (name, data) => events.push({ name, data }),
    markets: async () => sim.markets(),
    clock: { now: () => sim.now() },
    config: {
      wsUrl: sim.wsUrl,
      restUrl: sim.restUrl,
      backfillHours: 1,
      silenceMs: 400,
      gapGraceMs: 100,
      restSettleMs: 0,
      reconnectBackoff: { initialMs: 20, maxMs: 200 },
      retryBackoff: { initialMs: 50, maxMs: 400, factor: 2, jitter: 0 },
      restTimeoutMs: 2000,
      ...config,
    },
  });
  hb.onSignal((s) => signals.push(s));
  const startCursor = floorToTimeframe(startTime, '1m');
  const ctx: Ctx = { t, sim, hb, signals, events, startCursor, windowStart: floorToTimeframe(startCursor - 3600_000, '4h') };
  contexts.push(ctx);
  await hb.start();
  return ctx;
}

afterEach(async () => {
  for (const c of contexts.splice(0)) {
    await c.hb.stop();
    await c.sim.close();
    await c.t.close();
  }
});

const ready = (c: Ctx) => waitFor(() => c.hb.status().connected && !c.hb.status().backfilling && c.sim.openConnections().length === 1, 'heartbeat connected and synced');

/** Advance the simulator minute by minute, letting the service keep up. */
async function run(c: Ctx, minutes: number): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    c.sim.advance(MIN);
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * After recovery: stored 1m candles are exactly the simulator's series over the whole window (no
 * gap, no duplicate: the primary key forbids duplicates, the count proves it), the longer candles
 * equal the recomputation, and every candle closed since the start was signalled exactly once per
 * timeframe, in order, with the stored values.
 */
async function verify(c: Ctx, symbol = SYMBOL, startCursor = c.startCursor): Promise<void> {
  const end = floorToTimeframe(c.sim.now(), '1m');
  await waitFor(() => c.signals.filter((s) => s.symbol === symbol && s.timeframe === '1m').at(-1)?.openTime === end - MIN, `the 1m signal of ${new Date(end - MIN).toISOString()}`, 8000);
  await waitFor(() => !c.hb.status().backfilling && !c.hb.status().incoherent, 'coherent');
  await c.hb.whenStored(); // signals go out before the write
  const stored1m = await c.hb.queryCandles({ exchange: 'binance', symbol, timeframe: '1m', from: c.windowStart, to: end, limit: 10_000 });
  const series1m = c.sim.series.candles(symbol, c.windowStart, end).map(normalise);
  expect(stored1m.length).toBe(series1m.length);
  expect(stored1m.map(normalise)).toEqual(series1m);
  const { rows } = await c.t.db.query<{ n: number }>("SELECT count(*) AS n FROM candles WHERE symbol = $1 AND timeframe = '1m'", [symbol]);
  expect(rows[0]!.n).toBe(series1m.length);
  for (const tf of AGGREGATED_TIMEFRAMES) {
    const stored = await c.hb.queryCandles({ exchange: 'binance', symbol, timeframe: tf, from: c.windowStart, to: end, limit: 10_000 });
    const expected = expectedCandles(c.sim.series, symbol, tf, c.windowStart, end);
    expect(stored.map(normalise), `stored ${tf}`).toEqual(expected);
  }
  for (const tf of TIMEFRAMES) {
    const sigs = c.signals.filter((s) => s.symbol === symbol && s.timeframe === tf);
    expect(sigs.map((s) => s.openTime), `signals ${tf}`).toEqual(expectedSignalTimes(tf, startCursor, end));
    const stored = new Map((await c.hb.queryCandles({ exchange: 'binance', symbol, timeframe: tf, from: startCursor - 240 * MIN, to: end, limit: 10_000 })).map((x) => [x.openTime, normalise(x)]));
    for (const s of sigs) {
      expect(normalise(s.candle)).toEqual(stored.get(s.openTime));
      expect(s.closeTime).toBe(s.openTime + timeframeMs(tf) - 1);
    }
  }
  expect(c.events.filter((e) => e.name === 'heartbeat.signal')).toHaveLength(c.signals.length);
}

describe('HeartbeatService (stream simulator + PostgreSQL)', () => {
  it('backfills the window at start, then signals every closed candle once per timeframe, across midnight', async () => {
    const c = await setup();
    await ready(c);
    expect(c.signals).toEqual([]); // history is stored silently
    await run(c, 12);
    await verify(c);
    const s1m = c.signals.filter((s) => s.timeframe === '1m');
    expect(s1m.every((s) => !s.backfilled && typeof s.receivedAt === 'number' && s.closeTime === s.openTime + MIN - 1)).toBe(true);
    expect(c.signals.some((s) => s.timeframe === '4h' && s.openTime === Date.UTC(2024, 2, 10, 20))).toBe(true);
    // one kline request per page of the window, none for live minutes
    expect(c.sim.restRequests.filter((r) => r.url.startsWith('/api/v3/klines'))).toHaveLength(1);
  });

  it('recovers from a connection dropped for 5 minutes: backfilled in order, exactly once', async () => {
    const c = await setup();
    await ready(c);
    await run(c, 3);
    c.sim.rejectConnections(true);
    c.sim.drop();
    await waitFor(() => !c.hb.status().connected, 'disconnected');
    // the status says why, in English and by key (the Heartbeat page words it in French)
    const down = c.hb.status();
    expect(down).toMatchObject({ lastError: 'stream disconnected (connection dropped)', lastErrorKey: 'coreHeartbeat.streamDisconnected', lastErrorParams: { reason: { key: 'coreHeartbeat.disconnect.dropped', params: {} } } });
    expect(translate('fr', down.lastErrorKey!, down.lastErrorParams as Params)).toBe('flux déconnecté (connexion perdue)');
    await run(c, 5);
    c.sim.rejectConnections(false);
    await ready(c);
    // the reconnection itself triggers the backfill: no new live minute is needed
    await waitFor(() => c.signals.some((s) => s.timeframe === '1m' && s.openTime === c.startCursor + 7 * MIN), 'the missed minutes signalled');
    await run(c, 3);
    await verify(c);
    const backfilled = c.signals.filter((s) => s.timeframe === '1m' && s.backfilled).map((s) => s.openTime);
    // the 5 minutes that closed while disconnected (and possibly the one closing as the connection was cut)
    expect(backfilled.length).toBeGreaterThanOrEqual(5);
    expect(backfilled.length).toBeLessThanOrEqual(6);
    expect(backfilled.at(-1)).toBe(c.startCursor + 7 * MIN);
    expect(c.hb.status().reconnects).toBeGreaterThan(0);
  });

  it('replaces a silent connection and fills what it missed', async () => {
    const c = await setup();
    await ready(c);
    await run(c, 2);
    c.sim.goSilent(true);
    await run(c, 2);
    await waitFor(() => c.sim.openConnections().length === 2 || !c.hb.status().connected || c.hb.status().reconnects > 0, 'silence detected');
    c.sim.goSilent(false);
    await ready(c);
    await run(c, 2);
    await verify(c);
  });

  it('survives a server restart (gone and back on the same port)', async () => {
    const c = await setup();
    await ready(c);
    await run(c, 2);
    await c.sim.restart(async () => {
      await waitFor(() => !c.hb.status().connected, 'disconnected');
      await run(c, 4);
    });
    await ready(c);
    await run(c, 2);
    await verify(c);
  });

  it('signals before the write; keeps a retained window of recent candles in memory, completed from the store', async () => {
    const c = await setup();
    await ready(c);
    const release = c.hb.retain(SYMBOL, '3m', 4);
    // at the signal, its candle (and the ones before it) are readable though not necessarily stored yet
    const atSignal: Promise<string>[] = [];
    c.hb.onSignal((s) => {
      if (s.timeframe === '3m') atSignal.push(c.hb.recentCandles(SYMBOL, '3m', 2, s.openTime).then((w) => (w.at(-1)!.openTime === s.openTime && w.length === 2 ? 'ok' : `bad ${JSON.stringify(w)}`)));
    });
    await run(c, 13);
    await verify(c);
    expect(atSignal.length).toBeGreaterThanOrEqual(4);
    expect(await Promise.all(atSignal)).toEqual(atSignal.map(() => 'ok'));
    const end = floorToTimeframe(c.sim.now(), '3m');
    const expected = expectedCandles(c.sim.series, SYMBOL, '3m', end - 40 * 3 * MIN, end);
    // the window held in memory (4), and a longer one completed from the store
    expect((await c.hb.recentCandles(SYMBOL, '3m', 4)).map(normalise)).toEqual(expected.slice(-4));
    expect((await c.hb.recentCandles(SYMBOL, '3m', 40)).map(normalise)).toEqual(expected);
    // up to a given open time
    expect((await c.hb.recentCandles(SYMBOL, '3m', 3, end - 2 * 3 * MIN)).map(normalise)).toEqual(expected.slice(-4, -1));
    release();
    expect((await c.hb.recentCandles(SYMBOL, '3m', 4)).map(normalise)).toEqual(expected.slice(-4));
  });

  it('a symbol a bot trades (a retained window) is handled first when the closings arrive together', async () => {
    const c = await setup({}, { spreadMs: 0 });
    await ready(c);
    for (const s of Object.keys(DEFAULT_SYMBOLS)) if (s !== SYMBOL) await c.hb.addSymbol(s);
    await waitFor(() => c.sim.openConnections().reduce((n, x) => n + x.streams.length, 0) === Object.keys(DEFAULT_SYMBOLS).length && !c.hb.status().backfilling, 'every symbol subscribed');
    const watched = Object.keys(DEFAULT_SYMBOLS);
    expect(watched.length).toBeGreaterThan(2);
    const hot = watched.at(-1)!; // the last the simulator sends
    const release = c.hb.retain(hot, '1m', 2);
    const at = new Map<HeartbeatSignal, number>();
    c.hb.onSignal((s) => at.set(s, performance.timeOrigin + performance.now()));
    await run(c, 4);
    const mine = c.signals.filter((s) => s.symbol === hot && s.timeframe === '1m' && s.receivedAt !== null && at.has(s));
    expect(mine.length).toBeGreaterThanOrEqual(3);
    for (const h of mine) {
      // no other symbol's signal went out between this closing message's arrival and its own signal
      const between = c.signals.filter((s) => s.symbol !== hot && at.has(s) && at.get(s)! > h.receivedAt! && at.get(s)! < at.get(h)!);
      expect(between.map((s) => `${s.symbol} ${s.timeframe}`)).toEqual([]);
    }
    release();
  });

  it('ignores duplicates and reorders out-of-order closing messages', async () => {
    const c = await setup({ gapGraceMs: 5000 });
    await ready(c);
    c.sim.setDuplicates(true);
    c.sim.setOutOfOrder(true);
    await run(c, 16);
    c.sim.setOutOfOrder(false);
    c.sim.setDuplicates(false);
    await run(c, 1);
    await verify(c);
    // the grace period covered every reordering: nothing was fetched after the start
    expect(c.sim.restRequests.filter((r) => r.url.startsWith('/api/v3/klines'))).toHaveLength(1);
  });

  it('fetches skipped minutes from REST before releasing the later ones', async () => {
    const c = await setup();
    await ready(c);
    await run(c, 2);
    c.sim.skipMinutes(3);
    await run(c, 5);
    await verify(c);
    const s1m = c.signals.filter((s) => s.timeframe === '1m');
    const skipped = s1m.filter((s) => s.backfilled).map((s) => s.openTime);
    expect(skipped).toEqual([c.startCursor + 2 * MIN, c.startCursor + 3 * MIN, c.startCursor + 4 * MIN]);
  });

  it('a minute that closed just before the start is stored but never signalled, nor the candles closing with it', async () => {
    // 1 s after midnight with restSettleMs 2 s: 23:59 is too fresh for the start's backfill, and
    // every timeframe (3m … 4h) closes with it. It is fetched later, after the start: stored, silent.
    const start = Date.UTC(2024, 2, 11, 0, 0, 1);
    const c = await setup({ restSettleMs: 2000 }, { startTime: start });
    await ready(c);
    const m = c.startCursor;
    expect(await c.hb.queryCandles({ exchange: 'binance', symbol: SYMBOL, timeframe: '1m', from: m - MIN, to: m })).toEqual([]);
    await run(c, 3);
    // stored: every candle of the window, 23:59 and the 20:00 4h candle included; signalled: only from 00:00 on
    await verify(c);
    expect(c.signals.every((s) => s.closeTime >= start)).toBe(true);
    expect(c.signals.filter((s) => s.timeframe === '1m').map((s) => [(s.openTime - m) / MIN, s.backfilled])).toEqual([[0, false], [1, false], [2, false]]);
    const stored4h = await c.hb.queryCandles({ exchange: 'binance', symbol: SYMBOL, timeframe: '4h', from: m - 240 * MIN, to: m });
    expect(stored4h.map((x) => x.openTime)).toEqual([m - 240 * MIN]);
    const klines = c.sim.restRequests.filter((r) => r.url.startsWith('/api/v3/klines'));
    expect(klines).toHaveLength(2); // the window at start, then 23:59 once it was proven closed
    expect(klines[1]!.url).toContain(`startTime=${m - MIN}&endTime=${m - 1}&`);
  });

  it('a crash between the signal and the write loses no candle: the next start backfills it', async () => {
    const c = await setup();
    await ready(c);
    await run(c, 1);
    await c.hb.whenStored();
    // the candles table locked from outside: the next write blocks (the signal does not wait for it)
    const owner = new pg.Client({ connectionString: c.t.ownerUrl });
    await owner.connect();
    try {
      await owner.query('BEGIN');
      await owner.query('LOCK TABLE candles IN ACCESS EXCLUSIVE MODE');
      const m = floorToTimeframe(c.sim.now(), '1m');
      c.sim.advance(MIN);
      await waitFor(() => c.signals.some((s) => s.timeframe === '1m' && s.openTime === m), 'the signal of the minute not written yet');
      // the crash: the process stops and its connection dies with the write in it
      const stopping = c.hb.stop('crash');
      await waitFor(async () => (await owner.query("SELECT 1 FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND wait_event_type = 'Lock'")).rowCount! > 0, 'the write waiting');
      await owner.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND wait_event_type = 'Lock'");
      await stopping;
      await owner.query('ROLLBACK');
      expect(await c.hb.queryCandles({ exchange: 'binance', symbol: SYMBOL, timeframe: '1m', from: m, to: m + MIN })).toEqual([]);
      // the next start's backfill fetches it from REST
      const again = new HeartbeatService({ db: c.t.db, log: silentLogger(), emit: () => undefined, markets: async () => c.sim.markets(), clock: { now: () => c.sim.now() }, config: { wsUrl: c.sim.wsUrl, restUrl: c.sim.restUrl, backfillHours: 1, restSettleMs: 0, gapGraceMs: 100 } });
      await again.start();
      try {
        await waitFor(() => again.status().connected && !again.status().backfilling, 'restarted and synced');
        await again.whenStored();
        const stored = await again.queryCandles({ exchange: 'binance', symbol: SYMBOL, timeframe: '1m', from: m, to: m + MIN });
        expect(stored.map(normalise)).toEqual(c.sim.series.candles(SYMBOL, m, m + MIN).map(normalise));
      } finally {
        await again.stop();
      }
    } finally {
      await owner.end().catch(() => undefined);
    }
  }, 60_000);

  describe('the minute that closes as the session starts (a lost signal at start-up)', () => {
    // Started exactly at midnight: 23:59 — and with it 3m … 4h — closes at the exchange as we start.
    // BTC/USDT's closing messages come 500 ms after the minute (ETH/USDT first, spread over 1 s).
    const midnight = Date.UTC(2024, 2, 11, 0, 0, 0);
    const series = () => new PriceSeries(42, { 'ETH/USDT': { base: 3000, priceDecimals: 2, volumeDecimals: 4 }, 'BTC/USDT': DEFAULT_SYMBOLS['BTC/USDT']! });
    const closingWithMidnight = (c: Ctx) => c.signals.filter((s) => s.closeTime === midnight - 1);

    it('the stream closes it after the start: signalled as live (it used to be taken for history)', async () => {
      const c = await setup({ restSettleMs: 2000 }, { startTime: midnight, series: series(), spreadMs: 1000 });
      await ready(c);
      expect(c.signals).toEqual([]);
      c.sim.advance(1000);
      await waitFor(() => closingWithMidnight(c).length === TIMEFRAMES.length, 'the candles closing at midnight signalled');
      expect(closingWithMidnight(c).map((s) => [s.timeframe, s.backfilled, typeof s.receivedAt])).toEqual(TIMEFRAMES.map((tf) => [tf, false, 'number']));
      await run(c, 3);
      await verify(c, SYMBOL, midnight - MIN); // stored, and every candle signalled once, in order, from 23:59 on
    });

    it('the start-up backfill stored it as history before the stream closed it: signalled once the stream does', async () => {
      // restSettleMs 0: the start's backfill fetches 23:59 from REST (closed by then) before its closing message arrives
      const c = await setup({ restSettleMs: 0 }, { startTime: midnight, series: series(), spreadMs: 1000 });
      await ready(c);
      await c.hb.whenStored();
      expect((await c.hb.queryCandles({ exchange: 'binance', symbol: SYMBOL, timeframe: '1m', from: midnight - MIN, to: midnight })).map((x) => x.openTime)).toEqual([midnight - MIN]);
      expect(c.signals).toEqual([]);
      c.sim.advance(1000); // the stream's closing message of 23:59: a duplicate for the aggregator
      await waitFor(() => closingWithMidnight(c).length === TIMEFRAMES.length, 'the candles closing at midnight signalled');
      expect(closingWithMidnight(c).map((s) => [s.timeframe, s.backfilled, typeof s.receivedAt])).toEqual(TIMEFRAMES.map((tf) => [tf, false, 'number']));
      await run(c, 3);
      await verify(c, SYMBOL, midnight - MIN);
    });

    it('the stream never delivers it (connected after it closed): history, stored and not signalled', async () => {
      const c = await setup({ restSettleMs: 0 }, { startTime: midnight + 5000, series: series(), spreadMs: 1000 });
      await ready(c);
      await run(c, 2);
      await verify(c);
      expect(closingWithMidnight(c)).toEqual([]);
    });
  });

  it('after a reconnect, fetches no more than the backfill window: the older part of the gap is skipped (logged once), signals resume', async () => {
    const mem = memoryLogger();
    const c = await setup({}, { log: mem.log });
    await ready(c);
    await run(c, 3);
    const cut = c.startCursor + 3 * MIN; // the first minute missed
    await waitFor(() => c.signals.some((s) => s.timeframe === '1m' && s.openTime === cut - MIN), 'the last live minute');
    c.sim.rejectConnections(true);
    c.sim.drop();
    await waitFor(() => !c.hb.status().connected, 'disconnected');
    c.sim.advance(3 * 24 * 3600_000); // asleep for three days
    const klines = () => c.sim.restRequests.filter((r) => r.url.startsWith('/api/v3/klines'));
    const before = klines().length;
    c.sim.rejectConnections(false);
    await ready(c);
    const back = floorToTimeframe(c.sim.now(), '1m');
    const bound = floorToTimeframe(back - 3600_000, '4h'); // the start's window (backfillHours 1, from a 4h boundary)
    await waitFor(() => c.signals.some((s) => s.timeframe === '1m' && s.openTime === back - MIN), 'the backfilled minutes signalled');
    // one request for the window, none for the three days before it
    expect(klines().slice(before).map((r) => r.url)).toEqual([expect.stringContaining(`startTime=${bound}&endTime=${back - 1}&limit=${(back - bound) / MIN}`)]);
    await run(c, 10); // crosses midnight: the 20:00 4h candle, entirely in the window, is built
    const end = floorToTimeframe(c.sim.now(), '1m');
    await waitFor(() => c.signals.some((s) => s.timeframe === '1m' && s.openTime === end - MIN), 'live signals resume');
    await waitFor(() => !c.hb.status().backfilling, 'synced');
    expect(c.hb.status()).toMatchObject({ incoherent: false, gaps: [] });
    expect(klines()).toHaveLength(before + 1);

    // stored: the first session's minutes and the window's, nothing in between
    await c.hb.whenStored();
    const stored1m = await c.hb.queryCandles({ exchange: 'binance', symbol: SYMBOL, timeframe: '1m', from: c.windowStart, to: end, limit: 10_000 });
    expect(stored1m.map(normalise)).toEqual([...c.sim.series.candles(SYMBOL, c.windowStart, cut), ...c.sim.series.candles(SYMBOL, bound, end)].map(normalise));
    for (const tf of AGGREGATED_TIMEFRAMES) {
      // the candles that contain skipped minutes are not built (e.g. 3m 23:54, 1h 23:00, 4h 20:00 of the first day)
      const stored = await c.hb.queryCandles({ exchange: 'binance', symbol: SYMBOL, timeframe: tf, from: c.windowStart, to: end, limit: 10_000 });
      expect(stored.map(normalise), `stored ${tf}`).toEqual([...expectedCandles(c.sim.series, SYMBOL, tf, c.windowStart, cut), ...expectedCandles(c.sim.series, SYMBOL, tf, bound, end)]);
    }
    for (const tf of TIMEFRAMES) {
      const sigs = c.signals.filter((s) => s.timeframe === tf);
      expect(sigs.map((s) => s.openTime), `signals ${tf}`).toEqual([...expectedSignalTimes(tf, c.startCursor, cut), ...expectedSignalTimes(tf, bound, end)]);
      const stored = new Map((await c.hb.queryCandles({ exchange: 'binance', symbol: SYMBOL, timeframe: tf, from: c.windowStart, to: end, limit: 10_000 })).map((x) => [x.openTime, normalise(x)]));
      for (const s of sigs) expect(normalise(s.candle)).toEqual(stored.get(s.openTime));
    }
    const backfilled = c.signals.filter((s) => s.timeframe === '1m' && s.backfilled).map((s) => s.openTime);
    expect(backfilled).toEqual(Array.from({ length: (back - bound) / MIN }, (_, i) => bound + i * MIN));
    expect(c.signals.filter((s) => s.timeframe === '4h').map((s) => [s.openTime, s.backfilled])).toEqual([[end - 5 * MIN - 240 * MIN, false]]);

    // one line for the whole skip, naming the unfinished candles of the first session it leaves unbuilt
    const skips = mem.lines.filter((l) => typeof l.msg === 'string' && /backfill window|candle not built/.test(l.msg));
    expect(skips).toHaveLength(1);
    const iso = (t: number) => new Date(t).toISOString();
    expect(skips[0]).toMatchObject({ level: 40, symbol: SYMBOL, from: iso(cut), to: iso(bound) });
    expect(skips[0]!.notBuilt).toEqual([`3m ${iso(cut - MIN)}`, `10m ${iso(cut - 5 * MIN)}`, `15m ${iso(cut - 10 * MIN)}`, `1h ${iso(cut - 55 * MIN)}`, `2h ${iso(cut - 115 * MIN)}`, `4h ${iso(cut - 235 * MIN)}`]);
  });

  it('backfillHours 0: a missed minute before the current 4h bucket is skipped, the live minutes buffered after it are not', async () => {
    const mem = memoryLogger();
    const c = await setup({ backfillHours: 0 }, { startTime: Date.UTC(2024, 2, 10, 23, 57, 30), log: mem.log });
    await ready(c);
    const lost = c.startCursor; // 23:57
    c.sim.skipMinutes(1);
    c.sim.advance(3 * MIN); // one synchronous jump: when the gap is looked at, it is 00:00:30 and the window starts at 00:00
    await waitFor(() => c.signals.some((s) => s.timeframe === '1m' && s.openTime === lost + 2 * MIN), 'the buffered minutes released');
    await waitFor(() => !c.hb.status().backfilling, 'synced');
    expect(c.signals.map((s) => [s.timeframe, (s.openTime - lost) / MIN, s.backfilled])).toEqual([['1m', 1, false], ['1m', 2, false]]);
    expect(await c.hb.queryCandles({ exchange: 'binance', symbol: SYMBOL, timeframe: '1m', from: lost, to: lost + 3 * MIN })).toHaveLength(2);
    expect(c.sim.restRequests.filter((r) => r.url.startsWith('/api/v3/klines'))).toHaveLength(1); // the start's
    const skip = mem.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('backfill window'));
    expect(skip).toMatchObject([{ from: new Date(lost).toISOString(), to: new Date(lost + MIN).toISOString() }]);
    c.sim.advance(MIN);
    await waitFor(() => c.signals.some((s) => s.timeframe === '1m' && s.openTime === lost + 3 * MIN), 'live signals go on');
  });

  it('a REST failure leaves the status incoherent with the missing range, then recovers with backoff', async () => {
    const c = await setup();
    await ready(c);
    await run(c, 2);
    c.sim.failRest({ status: 500 });
    c.sim.rejectConnections(true);
    c.sim.drop();
    await waitFor(() => !c.hb.status().connected, 'disconnected');
    const gapFrom = c.startCursor + 2 * MIN;
    await run(c, 3);
    c.sim.rejectConnections(false);
    await waitFor(() => c.hb.status().incoherent, 'incoherent');
    const st = c.hb.status();
    expect(st.gaps).toEqual([{ symbol: SYMBOL, from: gapFrom, to: gapFrom + 3 * MIN }]);
    expect(st.lastError).toMatch(/backfill of BTC\/USDT failed: Binance REST answered 500/);
    expect(st.lastErrorKey).toBe('coreHeartbeat.backfillFailed');
    expect(translate('en', st.lastErrorKey!, st.lastErrorParams as Params)).toBe(st.lastError);
    expect(translate('fr', st.lastErrorKey!, st.lastErrorParams as Params)).toMatch(/^le rattrapage de BTC\/USDT a échoué : L'API REST de Binance a répondu 500/);
    expect(c.events.some((e) => e.name === 'heartbeat.status' && (e.data as { incoherent: boolean }).incoherent)).toBe(true);
    // live minutes keep arriving but wait behind the gap
    const before = c.signals.length;
    await run(c, 2);
    await waitFor(() => c.sim.restRequests.filter((r) => r.status === 500).length >= 3, 'retries');
    expect(c.signals.length).toBe(before);
    c.sim.failRest(null);
    await verify(c);
    expect(c.hb.status().gaps).toEqual([]);
  });
});
