/**
 * Backtest benchmark. Prints figures; asserts nothing.
 *
 *   npx tsx bench/backtest.bench.ts [--candles 10000000] [--load 1000000] [--reserve N] [--compute-only | --load-only]
 *
 *  1. candles/s of a whole backtest on synthetic 1m candles: an EMA-cross strategy with fees and
 *     slippage run through the sandbox (the kernel's isolate, the decision rule, the simulated loop),
 *     then every metric (electron/backtest/metrics.ts). Target ≥ 14 M candles/s.
 *  2. the time to load 1 M candles from PostgreSQL (bundled) into the engine's float64 columns
 *     (electron/backtest/candles.ts: one binary COPY read off the raw socket). Target < 1 s.
 *
 * Each run's result is given back to the kernel once its metrics are made (Kernel.recycle), as the
 * service does: the next run writes its equity curve into the same memory. Each session starts a
 * kernel as BacktestService.start does (Kernel.reserve, one tiny run): with the app's default
 * reserve (1 M candles: a 10 M run's first run is on fresh memory) and with one sized to the run
 * (--reserve N: that one only). The first run of a session is what a user's backtest usually is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBundledPostgres } from '../electron/db/bundled';
import { Database } from '../electron/db/database';
import { seedBenchCandles } from './seed-candles';
import { Kernel, shareColumns } from '../electron/kernel';
import { EMA_CROSS, compile, synthetic } from '../electron/kernel/fixtures/strategies';
import { silentLogger } from '../electron/log';
import { BacktestCandles } from '../electron/backtest/candles';
import { computeMetrics } from '../electron/backtest/metrics';
import { RESERVE_CANDLES } from '../electron/backtest/service';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('candles', 10_000_000);
const LOAD = arg('load', 1_000_000);
const fmt = (x: number) => (x / 1e6).toFixed(2);

async function compute(): Promise<void> {
  // on a SharedArrayBuffer, as BacktestCandles.load gives them (no copy into the isolate)
  const columns = shareColumns(synthetic(N));
  const compiled = compile(EMA_CROSS);
  const config = { initialBalance: 10_000, fees: { maker: 0.0002, taker: 0.0004 }, slippageBps: 1, fillAt: 'open' as const, allowShort: true, amountStep: 0.00001, minAmount: 0 };
  const params = { fast: 12, slow: 26, size: 1 };
  console.log(`compute: ${fmt(N)} M candles, EMA cross 12/26, fees + slippage, every metric; each session is a new kernel started as the app starts it`);
  // one session per reserve: the app's default (BacktestService's RESERVE_CANDLES), then one sized to the run
  const given = arg('reserve', -1);
  for (const reserve of given >= 0 ? [given] : [RESERVE_CANDLES, N]) {
    const kernel = new Kernel({ memoryMb: 2048, runTimeoutMs: 600_000, callTimeoutMs: 60_000 });
    // what BacktestService.prewarm does at the app's start: the reserve, then one tiny run with its metrics
    const s0 = performance.now();
    kernel.reserve(reserve);
    const tiny = shareColumns(synthetic(2000));
    const w = await kernel.backtest(compiled, params, tiny, config);
    computeMetrics(w, tiny, config);
    kernel.recycle(w);
    const startMs = performance.now() - s0;
    const times: number[] = [];
    const cpus: number[] = [];
    const kernelMs: number[] = [];
    let trades = 0;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      const u0 = process.cpuUsage();
      const r = await kernel.backtest(compiled, params, columns, config);
      kernelMs.push(performance.now() - t0);
      const m = computeMetrics(r, columns, config);
      kernel.recycle(r); // as the service does once the metrics and the display curve are made
      const u = process.cpuUsage(u0);
      cpus.push((u.user + u.system) / 1000);
      times.push(performance.now() - t0);
      trades = m.tradeCount;
    }
    const best = Math.min(...times);
    console.log(`  reserve ${fmt(reserve)} M candles (${(kernel.scratch.reservedBytes / 2 ** 20).toFixed(0)} MB, made with the tiny run in ${startMs.toFixed(0)} ms at start), ${trades} trades:`);
    console.log(`    first run of the session ${times[0]!.toFixed(0)} ms → ${fmt(N / (times[0]! / 1000))} M candles/s (target ≥ 14); CPU ${cpus[0]!.toFixed(0)} ms → ${fmt(N / (cpus[0]! / 1000))} M per CPU-second`);
    console.log(`    best of 3 ${best.toFixed(0)} ms → ${fmt(N / (best / 1000))} M candles/s; each run (wall / CPU ms, of which the kernel's wall): ${times.map((t, k) => `${t.toFixed(0)} / ${cpus[k]!.toFixed(0)} (${kernelMs[k]!.toFixed(0)})`).join(', ')}`);
    kernel.dispose();
  }
}

async function load(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'aristobot-bench-bt-'));
  const log = silentLogger();
  const pg = await startBundledPostgres({ dataDir: dir, log });
  let db: Database | undefined;
  try {
    db = await Database.open({ ownerUrl: pg.ownerUrl, migrationsDir: resolve(import.meta.dirname, '../migrations'), log, poolMax: 4 });
    const start = Date.UTC(2020, 0, 1);
    await seedBenchCandles(db, start, LOAD);
    const candles = new BacktestCandles(db);
    // as BacktestService.prewarm at the app's start: the column reserve and the parser's warm-up
    candles.reserve(RESERVE_CANDLES);
    await candles.prewarm();
    const times: number[] = [];
    const cpus: number[] = [];
    let n = 0;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      const u0 = process.cpuUsage();
      const c = await candles.load('bench', 'BTC/USDT', '1m', start, start + LOAD * 60_000);
      const u = process.cpuUsage(u0);
      times.push(performance.now() - t0);
      cpus.push((u.user + u.system) / 1000);
      n = c.close.length;
      candles.recycle(c); // as the service does after a run: the next load of that size reuses the memory
    }
    console.log(`load: ${fmt(n)} M candles from PostgreSQL into float64 columns (two COPYs at once, after the app's start warm-up), first of the session and the next two: ${times.map((x) => x.toFixed(0)).join(' / ')} ms (target < 1000); this process's CPU ${cpus.map((x) => x.toFixed(0)).join(' / ')} ms`);
  } finally {
    await db?.close();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`backtest bench, Node ${process.version}, load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (!process.argv.includes('--load-only')) await compute();
  if (!process.argv.includes('--compute-only')) await load();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
