/**
 * Heartbeat benchmark: N symbols' Binance kline messages through parse → aggregate → store →
 * signal, against a real (bundled) PostgreSQL and the stream simulator over a real WebSocket.
 * Prints figures; asserts nothing.
 *
 *   npx tsx bench/heartbeat.bench.ts [--symbols 500] [--minutes 12]
 *
 * Phases:
 *  1. hot path only (no I/O): JSON.parse + validation + Decimal + aggregation, messages/s;
 *  2. end to end, paced like Binance: each minute's closing messages spread over one second;
 *     latency from receipt of the closing message to its signals (target: p99 < 5 ms at 500);
 *  3. end to end, burst: every symbol's closing message at the same instant (worst case).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Decimal from 'decimal.js';
import { startBundledPostgres } from '../electron/db/bundled';
import { Database } from '../electron/db/database';
import { CandleAggregator, type MinuteCandle } from '../electron/heartbeat/aggregate';
import { parseKline } from '../electron/heartbeat/binance-ws';
import type { HeartbeatSignal } from '../shared/contract/heartbeat';
import { HeartbeatService } from '../electron/heartbeat/service';
import { silentLogger } from '../electron/log';
import { PriceSeries, type SeriesSymbol } from '../test/sim/series';
import { StreamSimulator } from '../test/sim/stream/server';

const MIN = 60_000;
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('symbols', 500);
const MINUTES = arg('minutes', 12);
const hrNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const f = (x: number) => x.toFixed(2);

function makeSeries(n: number): PriceSeries {
  const symbols: Record<string, SeriesSymbol> = {};
  for (let i = 0; i < n; i++) symbols[`S${i}/USDT`] = { base: 10 + i, priceDecimals: 4, volumeDecimals: 2 };
  return new PriceSeries(42, symbols);
}

function hotPath(series: PriceSeries, start: number): void {
  const symbols = Object.keys(series.symbols);
  const messages: string[] = [];
  for (let m = 0; m < MINUTES; m++) {
    for (const s of symbols) {
      const c = series.candle(s, start + m * MIN);
      const id = s.replace('/', '');
      for (const x of [false, false, true]) {
        messages.push(JSON.stringify({ stream: `${id.toLowerCase()}@kline_1m`, data: { e: 'kline', E: c.openTime + MIN, s: id, k: { t: c.openTime, T: c.openTime + MIN - 1, s: id, i: '1m', f: 1, L: 2, o: c.open, c: c.close, h: c.high, l: c.low, v: c.volume, n: 2, x, q: '0', V: '0', Q: '0', B: '0' } } }));
      }
    }
  }
  const agg = new CandleAggregator();
  for (const s of symbols) agg.start(s.replace('/', ''), start);
  let built = 0;
  const t0 = performance.now();
  for (const text of messages) {
    const msg = JSON.parse(text) as { stream: string; data: Record<string, unknown> };
    const k = parseKline(msg.stream, msg.data, 0);
    if (!k || !k.closed) continue;
    const c: MinuteCandle = { openTime: k.openTime, open: new Decimal(k.open), high: new Decimal(k.high), low: new Decimal(k.low), close: new Decimal(k.close), volume: new Decimal(k.volume) };
    built += agg.add(k.symbol, c).candles.length;
  }
  const ms = performance.now() - t0;
  console.log(`hot path (parse → aggregate, no I/O): ${messages.length} messages in ${f(ms)} ms = ${Math.round(messages.length / (ms / 1000))} msg/s; ${built} candles built`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'aristobot-bench-hb-'));
  const log = silentLogger();
  const pg = await startBundledPostgres({ dataDir: dir, log });
  const series = makeSeries(N);
  // start on a 4h boundary: no history to backfill; the run crosses 3m … 15m boundaries
  const start = Date.UTC(2024, 4, 6, 8, 0);
  let db: Database | undefined;
  let sim: StreamSimulator | undefined;
  let hb: HeartbeatService | undefined;
  try {
    console.log(`heartbeat bench: ${N} symbols, ${MINUTES} minutes per phase, Node ${process.version}`);
    hotPath(series, start);

    db = await Database.open({ ownerUrl: pg.ownerUrl, migrationsDir: resolve(import.meta.dirname, '../migrations'), log, poolMax: 4 });
    await db.query('DELETE FROM heartbeat_symbols');
    await db.query("INSERT INTO heartbeat_symbols (exchange, symbol) SELECT 'binance', unnest($1::text[])", [Object.keys(series.symbols)]);
    sim = await StreamSimulator.start({ series, startTime: start + 30_000, spreadMs: 1000, updatesPerMinute: 2 });
    const s = sim;
    hb = new HeartbeatService({
      db,
      log,
      emit: () => undefined,
      markets: async () => s.markets(),
      clock: { now: () => s.now() },
      config: { wsUrl: s.wsUrl, restUrl: s.restUrl, backfillHours: 0, gapGraceMs: 3000 },
    });
    const lat1m: number[] = [];
    const latAll: number[] = [];
    let count1m = 0;
    hb.onSignal((sig: HeartbeatSignal) => {
      if (sig.receivedAt === null) return;
      const d = hrNow() - sig.receivedAt;
      latAll.push(d);
      if (sig.timeframe === '1m') {
        lat1m.push(d);
        count1m++;
      }
    });
    const tStart = performance.now();
    await hb.start();
    for (;;) {
      const st = hb.status();
      if (st.connected && !st.backfilling && st.subscribed === N) break;
      await sleep(20);
    }
    console.log(`start: ${N} streams subscribed in ${f(performance.now() - tStart)} ms over ${hb.status().connections} connection(s)`);

    const phase = async (name: string, paced: boolean) => {
      lat1m.length = 0;
      latAll.length = 0;
      count1m = 0;
      const t0 = performance.now();
      for (let m = 0; m < MINUTES; m++) {
        const boundary = Math.floor(s.now() / MIN) * MIN + MIN;
        s.advance(boundary - s.now()); // in-progress updates, then the minute closes
        if (paced) {
          for (let step = 0; step < 100; step++) {
            s.advance(10); // closing messages of ~N/100 symbols every 10 ms
            await sleep(10);
          }
        } else {
          s.advance(1000); // every closing message at once
        }
        const want = (m + 1) * N;
        const until = Date.now() + 30_000;
        while (count1m < want && Date.now() < until) await sleep(2);
        if (process.env.DBG) console.log("minute", m, count1m, latAll.length, JSON.stringify(hb!.status()));
        s.advance(28_000); // mid-minute
      }
      const wall = performance.now() - t0;
      const msgs = MINUTES * N * 3;
      console.log(
        `${name}: ${msgs} messages, ${count1m} 1m signals, ${latAll.length} signals in all; ` +
          `receipt → 1m signal p50 ${f(pct(lat1m, 50))} ms, p99 ${f(pct(lat1m, 99))} ms, max ${f(pct(lat1m, 100))} ms; ` +
          `all timeframes p99 ${f(pct(latAll, 99))} ms` +
          (paced ? '' : `; throughput ${Math.round(msgs / (wall / 1000))} msg/s (wall ${f(wall)} ms, incl. simulator)`),
      );
    };
    await phase('paced (closings spread over 1 s)', true);
    await phase('burst (all closings at once)', false);
    const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM candles');
    console.log(`candles stored: ${rows[0]!.n}; status: ${JSON.stringify({ ...hb.status(), malformed: undefined })}`);
  } finally {
    await hb?.stop().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
