/**
 * Strategy kernel benchmark: candles/s of a whole backtest run inside the sandbox (isolated-vm):
 * init() (indicators over the whole columns), the per-candle loop with the decision rule, the
 * simulated fills, equity marked at every close — over synthetic 1m candles. Prints figures;
 * asserts nothing. Target (issue 10/11): ≥ 14 M candles/s.
 *
 *   npx tsx bench/sandbox.bench.ts [--candles 10000000] [--runs 3]
 *
 * Wall time and CPU time (process.cpuUsage: every thread, the isolate's included) are both printed:
 * on a shared, loaded machine the CPU figure is the one that does not depend on the neighbours.
 * Also printed: plain Node running the same SMA-cross loop outside any sandbox (the reference),
 * a run on plain (unshared) columns, copied into the isolate's shared buffer for that run, and a
 * live decision (init on a 500-candle window + the rule).
 *
 * The columns are on a SharedArrayBuffer, as the candle loader (electron/backtest/candles.ts)
 * gives them: the kernel passes them to the isolate without a copy. All runs of a case go through
 * ONE loaded sandbox (before the fix of the context leak, the third 10 M run died with
 * strategy_memory).
 */
import { Kernel, shareColumns } from '../electron/kernel/index';
import { EMA_CROSS, SMA_CROSS, compile, synthetic } from '../electron/kernel/fixtures/strategies';
import type { SimConfig } from '../electron/kernel/types';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('candles', 10_000_000);
const RUNS = arg('runs', 3);

const fmt = (x: number): string => `${(x / 1e6).toFixed(1)} M`;

async function main(): Promise<void> {
  console.log(`synthetic 1m candles: ${N.toLocaleString('en')}`);
  const plain = synthetic(N);
  const cols = shareColumns(plain);
  const memoryMb = Math.ceil((N * 8 * 6 * 3) / 2 ** 20) + 256;
  console.log(`load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} (2 cores: CPU time is the steadier figure)`);
  const kernel = new Kernel({ memoryMb, runTimeoutMs: 600_000 });

  const noFees: SimConfig = { initialBalance: 10_000, fees: { maker: 0, taker: 0 }, slippageBps: 0, fillAt: 'open', allowShort: true, amountStep: 0, minAmount: 0 };
  const withFees: SimConfig = { ...noFees, fees: { maker: 0.0002, taker: 0.0004 }, slippageBps: 1, amountStep: 0.00001 };
  const cases = [
    { name: 'SMA cross 10/20, no fees', src: SMA_CROSS, cfg: noFees },
    { name: 'EMA cross 10/20, fees + slippage', src: EMA_CROSS, cfg: withFees },
  ];
  for (const c of cases) {
    const sb = await kernel.load(compile(c.src), { memoryMb });
    const times: number[] = [];
    const cpus: number[] = [];
    let trades = 0;
    let finalEquity = 0;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const u0 = process.cpuUsage();
      const res = await sb.backtest({ fast: 10, slow: 20 }, cols, c.cfg);
      const u = process.cpuUsage(u0);
      cpus.push((u.user + u.system) / 1000);
      times.push(performance.now() - t0);
      trades = res.trades.length;
      finalEquity = res.finalEquity;
    }
    let plainLine = '';
    if (c.cfg === withFees) {
      const t0 = performance.now();
      const u0 = process.cpuUsage();
      await sb.backtest({ fast: 10, slow: 20 }, plain, c.cfg);
      const u = process.cpuUsage(u0);
      const cpu = (u.user + u.system) / 1000;
      const ms = performance.now() - t0;
      plainLine = `  plain columns (copied in for the run): wall ${ms.toFixed(0)} ms = ${fmt((N / ms) * 1000)} candles/s; CPU ${cpu.toFixed(0)} ms = ${fmt((N / cpu) * 1000)} candles per CPU-second`;
    }
    sb.dispose();
    const best = Math.min(...times);
    const bestCpu = Math.min(...cpus);
    console.log(`${c.name} (${trades} trades, final equity ${finalEquity.toFixed(2)}):`);
    console.log(`  wall, whole run:            ${best.toFixed(0)} ms = ${fmt((N / best) * 1000)} candles/s`);
    console.log(`  process CPU, whole run:     ${bestCpu.toFixed(0)} ms = ${fmt((N / bestCpu) * 1000)} candles per CPU-second`);
    console.log(`  runs in one sandbox:        ${RUNS} (wall ${times.map((x) => x.toFixed(0)).join(' / ')} ms)`);
    if (plainLine) console.log(plainLine);
  }

  // Reference: the same SMA-cross loop in plain Node (no sandbox, no simulation details).
  {
    const t0 = performance.now();
    const u0 = process.cpuUsage();
    const close = cols.close;
    const sma = (p: number): Float64Array => {
      const out = new Float64Array(N).fill(NaN);
      let s = 0;
      for (let i = 0; i < N; i++) {
        s += close[i]!;
        if (i >= p) s -= close[i - p]!;
        if (i >= p - 1) out[i] = s / p;
      }
      return out;
    };
    const a = sma(10);
    const b = sma(20);
    let pos = 0;
    let flips = 0;
    for (let i = 20; i < N; i++) {
      if (a[i - 1]! < b[i - 1]! && a[i]! > b[i]! && pos !== 1) {
        pos = 1;
        flips++;
      } else if (a[i - 1]! > b[i - 1]! && a[i]! < b[i]! && pos !== -1) {
        pos = -1;
        flips++;
      }
    }
    const ms = performance.now() - t0;
    const u = process.cpuUsage(u0);
    const cpu = (u.user + u.system) / 1000;
    console.log(`plain Node reference (SMA cross, no sandbox): wall ${ms.toFixed(0)} ms = ${fmt((N / ms) * 1000)} candles/s; CPU ${cpu.toFixed(0)} ms = ${fmt((N / cpu) * 1000)} candles per CPU-second (${flips} flips)`);
  }

  // Live decision: a fresh context, init() on a 500-candle window, the rule on the last candle.
  {
    const sb = await kernel.load(compile(SMA_CROSS));
    const w = synthetic(500, 7);
    const lat: number[] = [];
    for (let k = 0; k < 200; k++) {
      const t0 = performance.now();
      await sb.decide(undefined, w, { position: null, balance: 1000 }, { allowShort: false });
      lat.push(performance.now() - t0);
    }
    sb.dispose();
    lat.sort((x, y) => x - y);
    console.log(`decide() on a 500-candle window: p50 ${lat[100]!.toFixed(2)} ms, p99 ${lat[198]!.toFixed(2)} ms`);
  }
  kernel.dispose();
}

await main();
