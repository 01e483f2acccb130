/**
 * The live bot's kept decision (StrategySandbox.decideKept, electron/kernel/sandbox.ts): what one
 * decision costs the calling thread. A burst of candle closes decides for up to 20 activations one
 * after the other on the app's main thread (decideSync), so the last activation's order waits for
 * all of them. 20 sandboxes of a trivial "always long" strategy (warm-up 0, so init() and the rule
 * run at every decision), each on its own 500-candle window on a SharedArrayBuffer (as the engine
 * keeps it: electron/bot/engine.ts columnsOf), the same params object at every call.
 *
 * Per decision: wall time of `await decideKept(...)` and the isolate's CPU time (sb.cpuMs delta;
 * the rest of the wall time is host side: arguments, the call, the result's copy). Warm: back to
 * back after 30 warm-up decisions each; after an idle gap: one decision per sandbox every --gap ms
 * (caches and the CPU gone cold, as between two candle closes). p50/p90/p99 of each, and the whole
 * burst of 20. Also: the same on plain (unshared) columns, copied into a shared buffer at every
 * decision; and the SMA-cross fixture on shared columns (init() copies this.close and computes
 * two SMAs over the window: what a real strategy adds). Prints figures; asserts nothing. Run it a
 * few times: the machine is shared.
 *
 *   npx tsx bench/kernel-kept.bench.ts [--rounds 200] [--idle 15] [--gap 1000]
 */
import { loadavg } from 'node:os';
import { Kernel, shareColumns } from '../electron/kernel/index';
import { SMA_CROSS, compile, synthetic } from '../electron/kernel/fixtures/strategies';
import type { StrategySandbox } from '../electron/kernel/sandbox';
import type { Columns } from '../electron/kernel/types';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('rounds', 200);
const IDLE_ROUNDS = arg('idle', 15);
const GAP = arg('gap', 1000);
const SANDBOXES = 20;
const WARMUP = 30;

const ALWAYS_LONG = `import { Strategy } from 'aristobot';
export default class AlwaysLong extends Strategy {
  static warmup = 0;
  static params = { k: { default: 1 } };
  shouldLong(): boolean { return true; }
  shouldShort(): boolean { return false; }
}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const us = (ms: number): string => `${(ms * 1000).toFixed(0).padStart(5)} µs`;
const line = (label: string, xs: number[]): string => `${label.padEnd(22)} p50 ${us(pct(xs, 50))}  p90 ${us(pct(xs, 90))}  p99 ${us(pct(xs, 99))}  (n=${xs.length})`;

interface Sample {
  wall: number[];
  cpu: number[];
  burst: number[];
}

async function round(sbs: readonly StrategySandbox[], wins: Columns[], params: Record<string, number>, s: Sample): Promise<void> {
  const b0 = performance.now();
  for (let i = 0; i < sbs.length; i++) {
    const sb = sbs[i]!;
    const c0 = sb.cpuMs;
    const t0 = performance.now();
    await sb.decideKept(params, wins[i]!, { position: null, balance: 1000 }, { allowShort: false });
    s.wall.push(performance.now() - t0);
    s.cpu.push(sb.cpuMs - c0);
  }
  s.burst.push(performance.now() - b0);
}

async function main(): Promise<void> {
  console.log(`kept decisions: ${SANDBOXES} sandboxes, 500-candle windows, ${ROUNDS} warm rounds, ${IDLE_ROUNDS} rounds after ${GAP} ms idle`);
  console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (2 cores shared: run it a few times)`);
  const kernel = new Kernel();
  try {
    const load = async (src: string): Promise<StrategySandbox[]> => {
      const out: StrategySandbox[] = [];
      for (let i = 0; i < SANDBOXES; i++) out.push(await kernel.load(compile(src)));
      return out;
    };
    const trivial = await load(ALWAYS_LONG);
    const sma = await load(SMA_CROSS);
    for (const [label, sbs, params, shared] of [
      ['always long, shared columns', trivial, { k: 1 }, true],
      ['always long, plain columns', trivial, { k: 1 }, false],
      ['SMA cross (10/20), shared columns', sma, { fast: 10, slow: 20 }, true],
    ] as const) {
      const wins = sbs.map((_, i) => (shared ? shareColumns(synthetic(500, 42 + i)) : synthetic(500, 42 + i)));
      for (let w = 0; w < WARMUP; w++) await round(sbs, wins, params, { wall: [], cpu: [], burst: [] });
      const warm: Sample = { wall: [], cpu: [], burst: [] };
      for (let r = 0; r < ROUNDS; r++) await round(sbs, wins, params, warm);
      const idle: Sample = { wall: [], cpu: [], burst: [] };
      for (let r = 0; r < IDLE_ROUNDS; r++) {
        await sleep(GAP);
        await round(sbs, wins, params, idle);
      }
      console.log(`\n${label}`);
      console.log(line('warm: wall', warm.wall));
      console.log(line('warm: isolate CPU', warm.cpu));
      console.log(line('warm: burst of 20', warm.burst));
      console.log(line('idle: wall', idle.wall));
      console.log(line('idle: isolate CPU', idle.cpu));
      console.log(line('idle: burst of 20', idle.burst));
    }
  } finally {
    kernel.dispose();
  }
}

void main();
