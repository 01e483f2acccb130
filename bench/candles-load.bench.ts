/**
 * Loading candles for a backtest: seconds per 1 M candles from PostgreSQL (bundled) into the
 * engine's float64 columns (electron/backtest/candles.ts: two binary COPYs of half the range each,
 * over two connections at once, parsed as they arrive). Runs alternate so all see the same machine:
 * a session's first load on a loader as made (fresh columns), its first load after what
 * BacktestService.start does (column reserve + parser warm-up), a later load, and the same later
 * load as one COPY over one connection (as before the split); with --pg the COPY read through pg's
 * own CopyData messages; then the way it was done before that (each column of a page aggregated by
 * PostgreSQL into one text value, parsed by Number(); skip with --no-text), and where the time goes:
 * the server's share (EXPLAIN ANALYZE of the same read), its plan, and this process's CPU.
 * Target < 1 s per 1 M. Prints figures; asserts nothing.
 *
 *   npx tsx bench/candles-load.bench.ts [--candles 1000000] [--runs 3] [--no-text] [--pg]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { BacktestCandles } from '../electron/backtest/candles';
import { CandleCopy } from '../electron/backtest/candle-copy';
import { startBundledPostgres } from '../electron/db/bundled';
import { Database } from '../electron/db/database';
import { seedBenchCandles } from './seed-candles';
import { silentLogger } from '../electron/log';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('candles', 1_000_000);
const RUNS = arg('runs', 3);
const perM = (ms: number) => ((ms / 1000) * (1_000_000 / N)).toFixed(2);
const ts = (p: string) => `('epoch'::timestamptz + (${p})::bigint * interval '1 millisecond')`;

/** The load as it was before (string_agg of each column's text per page of 250 000, parsed by Number()). */
async function before(db: Database, from: number, to: number): Promise<number> {
  let since = from;
  let n = 0;
  for (;;) {
    const { rows } = await db.query<{ n: number; t: string; o: string; h: string; l: string; c: string; v: string }>(
      `SELECT count(*)::int AS n, string_agg((date_part('epoch', open_time) * 1000)::bigint::text, ',') AS t,
              string_agg(open::text, ',') AS o, string_agg(high::text, ',') AS h, string_agg(low::text, ',') AS l,
              string_agg(close::text, ',') AS c, string_agg(volume::text, ',') AS v
         FROM (SELECT * FROM candles WHERE exchange = 'bench' AND symbol = 'BTC/USDT' AND timeframe = '1m'
                 AND open_time >= ${ts('$1')} AND open_time < ${ts('$2')} ORDER BY open_time LIMIT 250000) page`,
      [since, to],
    );
    const r = rows[0]!;
    if (!r.n) break;
    const cols = [r.t, r.o, r.h, r.l, r.c, r.v].map((s) => Float64Array.from(s.split(','), Number));
    n += r.n;
    since = cols[0]![r.n - 1]! + 1;
    if (r.n < 250_000) break;
  }
  return n;
}

/** The same COPY as BacktestCandles.load, read through pg's CopyData messages (rawSocket: false) into fresh columns: the load as it was before. */
async function viaPg(db: Database, from: number, to: number): Promise<number> {
  const client = await db.pool.connect();
  try {
    const copy = new CandleCopy(
      `COPY (SELECT open_time, open, high, low, close, volume FROM candles WHERE exchange = 'bench' AND symbol = 'BTC/USDT' AND timeframe = '1m'
              AND open_time >= ${ts(String(from))} AND open_time < ${ts(String(to))} ORDER BY open_time) TO STDOUT (FORMAT binary)`,
      N,
      { rawSocket: false },
    );
    void client.query(copy as unknown as pg.QueryConfig);
    return (await copy.done).close.length;
  } finally {
    client.release();
  }
}

async function main(): Promise<void> {
  console.log(`candles load bench, ${N} 1m candles, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'aristobot-bench-load-'));
  const log = silentLogger();
  const pg = await startBundledPostgres({ dataDir: dir, log });
  let db: Database | undefined;
  try {
    db = await Database.open({ ownerUrl: pg.ownerUrl, migrationsDir: resolve(import.meta.dirname, '../migrations'), log, poolMax: 4 });
    const start = Date.UTC(2020, 0, 1);
    const end = start + N * 60_000;
    await seedBenchCandles(db, start, N);
    const now: number[] = [];
    const cpu: number[] = [];
    const cold: number[] = [];
    const coldCpu: number[] = [];
    const warm: number[] = [];
    const warmCpu: number[] = [];
    const one: number[] = [];
    const oneCpu: number[] = [];
    const pgNow: number[] = [];
    const pgCpu: number[] = [];
    const single = new BacktestCandles(db, undefined, false);
    const timed = async (work: () => Promise<number>, wall: number[], cpus: number[]) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const n = await work();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / 1000);
      if (n !== N) throw new Error(`loaded ${n} of ${N}`);
    };
    const loadWith = (candles: BacktestCandles) => async () => {
      const c = await candles.load('bench', 'BTC/USDT', '1m', start, end);
      const n = c.close.length;
      candles.recycle(c); // as the service does after a run: the next load reuses the memory
      return n;
    };
    let startMs = 0;
    for (let k = 0; k < RUNS; k++) {
      // a session's first load, on a loader as made (no reserve, parser not run yet in it: fresh columns)
      await timed(loadWith(new BacktestCandles(db)), cold, coldCpu);
      // a session's first load after what BacktestService.start does: reserve for N candles, parser warm-up
      const app = new BacktestCandles(db);
      const s0 = performance.now();
      app.reserve(N);
      await app.prewarm();
      startMs = performance.now() - s0;
      await timed(loadWith(app), warm, warmCpu);
      // the loads after (memory given back by the previous one)
      await timed(loadWith(app), now, cpu);
      // the same load as one COPY over one connection (as before the split), its memory reused likewise
      await timed(loadWith(single), one, oneCpu);
      if (process.argv.includes('--pg')) await timed(() => viaPg(db!, start, end), pgNow, pgCpu);
    }
    const plan = await db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, TIMING OFF) SELECT open_time, open, high, low, close, volume FROM candles
        WHERE exchange = 'bench' AND symbol = 'BTC/USDT' AND timeframe = '1m' AND open_time >= ${ts(String(start))} AND open_time < ${ts(String(end))} ORDER BY open_time`,
    );
    const server = plan.rows.map((r) => r['QUERY PLAN']).find((l) => /Execution Time/.test(l)) ?? '';
    // the plan: the primary key walked in order (no sort node)
    const nodes = plan.rows.map((r) => r['QUERY PLAN']).filter((l) => /Scan|Sort/.test(l)).map((l) => l.trim().replace(/\s+\(.*$/, ''));
    const old: number[] = [];
    for (let k = 0; k < (process.argv.includes('--no-text') ? 0 : RUNS); k++) {
      const t0 = performance.now();
      if ((await before(db, start, end)) !== N) throw new Error('before: wrong count');
      old.push(performance.now() - t0);
    }
    const best = (xs: number[]) => Math.min(...xs);
    const list = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' / ');
    console.log(`first load of a session, after the app's start (reserve + parser warm-up, ${startMs.toFixed(0)} ms at start): ${list(warm)} ms → best ${perM(best(warm))} s per 1 M (target < 1 s); CPU ${list(warmCpu)} ms`);
    console.log(`first load of a session, no reserve (fresh columns): ${list(cold)} ms → best ${perM(best(cold))} s per 1 M; CPU ${list(coldCpu)} ms`);
    console.log(`now (two binary COPYs of half the range over two connections at once, read off the sockets → Float64Array), a later load: ${list(now)} ms → best ${perM(best(now))} s per 1 M candles (target < 1 s); CPU ${list(cpu)} ms`);
    console.log(`  the same as one COPY over one connection (as before), runs alternating: ${list(one)} ms → best ${perM(best(one))} s per 1 M; CPU ${list(oneCpu)} ms`);
    console.log(`  the server's read alone (one COPY's SELECT, EXPLAIN ANALYZE): ${server.replace(/^\s*Execution Time:\s*/, '')}; plan: ${nodes.join(' → ')}`);
    if (pgNow.length) console.log(`one COPY through pg's CopyData messages, fresh columns each time (--pg): ${list(pgNow)} ms → best ${perM(best(pgNow))} s per 1 M; CPU ${list(pgCpu)} ms`);
    if (old.length) console.log(`before (text aggregates → Number()): ${old.map((x) => x.toFixed(0)).join(' / ')} ms → best ${perM(best(old))} s per 1 M candles`);
    console.log(`load average after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    await db?.close();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
