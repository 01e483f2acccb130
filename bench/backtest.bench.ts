/**
 * Backtest benchmark. Prints figures; asserts nothing.
 *
 *   npx tsx bench/backtest.bench.ts [--candles 10000000] [--load 1000000] [--compute-only | --load-only]
 *
 *  1. candles/s of a whole backtest on synthetic 1m candles: an EMA-cross strategy with fees and
 *     slippage run through the sandbox (the kernel's isolate, the decision rule, the simulated loop),
 *     then every metric (electron/backtest/metrics.ts). Target ≥ 14 M candles/s.
 *  2. the time to load 1 M candles from PostgreSQL (bundled) into the engine's float64 columns
 *     (electron/backtest/candles.ts: one binary COPY read off the raw socket). Target < 1 s.
 *
 * Each run's result is given back to the kernel once its metrics are made (Kernel.recycle), as the
 * service does: the next run of that size writes its equity curve into the same memory.
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
  const kernel = new Kernel({ memoryMb: 2048, runTimeoutMs: 600_000, callTimeoutMs: 60_000 });
  const compiled = compile(EMA_CROSS);
  const config = { initialBalance: 10_000, fees: { maker: 0.0002, taker: 0.0004 }, slippageBps: 1, fillAt: 'open' as const, allowShort: true, amountStep: 0.00001, minAmount: 0 };
  const params = { fast: 12, slow: 26, size: 1 };
  const reserve = arg('reserve', 0);
  if (reserve > 0) {
    const r0 = performance.now();
    kernel.reserve(reserve);
    console.log(`  reserve for ${fmt(reserve)} M candles (${(kernel.scratch.reservedBytes / 2 ** 20).toFixed(0)} MB) made in ${(performance.now() - r0).toFixed(0)} ms`);
  }
  const w = await kernel.backtest(compiled, params, synthetic(100_000), config); // warm-up
  kernel.recycle(w);
  const times: number[] = [];
  const cpus: number[] = [];
  let trades = 0;
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    const u0 = process.cpuUsage();
    const r = await kernel.backtest(compiled, params, columns, config);
    const m = computeMetrics(r, columns, config);
    kernel.recycle(r); // as the service does once the metrics and the display curve are made
    const u = process.cpuUsage(u0);
    cpus.push((u.user + u.system) / 1000);
    times.push(performance.now() - t0);
    trades = m.tradeCount;
  }
  const best = Math.min(...times);
  const bestCpu = Math.min(...cpus);
  const t0 = performance.now();
  const r = await kernel.backtest(compiled, params, columns, config);
  const simMs = performance.now() - t0;
  const t1 = performance.now();
  computeMetrics(r, columns, config);
  const metricsMs = performance.now() - t1;
  kernel.recycle(r);
  console.log(`compute: ${fmt(N)} M candles, EMA cross 12/26, fees + slippage, ${trades} trades`);
  console.log(`  backtest + full metrics: best ${best.toFixed(0)} ms of 3 → ${fmt(N / (best / 1000))} M candles/s (target ≥ 14)`);
  console.log(`  process CPU (every thread, the isolate's included): best ${bestCpu.toFixed(0)} ms → ${fmt(N / (bestCpu / 1000))} M candles per CPU-second`);
  // The kernel lends a run the memory of the previous run of the same size (ScratchPool): run 1
  // writes into fresh pages, run 2 into buffers the host made for it, run 3 into reused ones.
  console.log(`  each run (wall / CPU ms): ${times.map((t, k) => `${t.toFixed(0)} / ${cpus[k]!.toFixed(0)}`).join(', ')}`);
  console.log(`  of which the kernel ${simMs.toFixed(0)} ms, the metrics ${metricsMs.toFixed(0)} ms`);
  kernel.dispose();
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
    console.log(`load: ${fmt(n)} M candles from PostgreSQL into float64 columns: ${times.map((x) => x.toFixed(0)).join(' / ')} ms (target < 1000); this process's CPU ${cpus.map((x) => x.toFixed(0)).join(' / ')} ms`);
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
