import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { StrategyChecker } from '../electron/strategies/checker';
import { checkStrategy } from '../electron/strategies/validate';
import { transpileStrategy } from '../electron/strategies/transpile';

/**
 * How long the editor waits for a Check, and what a Check costs the rest of the core: the checker's
 * worker thread (electron/strategies/checker.ts: first check = worker start, TypeScript loaded and its
 * library parsed; then repeated checks of an edited strategy) beside the validator run in process
 * (as it was before), and the core's event loop during checks: its longest stall (perf_hooks'
 * event-loop delay). Prints figures; asserts nothing.
 *   npx tsx bench/strategy-check.bench.ts
 */
const dir = join(import.meta.dirname, '../resources/strategies');
const code = readFileSync(join(dir, 'rsi-mean-reversion.ts'), 'utf8');
const edits = (k: number) => (k % 4 === 3 ? code.replace('this.rsi[this.i]', `this.rsx${k}[this.i]`) : code.replace('default: 14', `default: ${10 + k}`));
const N = 40;

/** Watches the event loop while `fn` runs (perf_hooks' delay histogram: no busy loop of its own): its longest stall. */
async function watched<T>(fn: () => Promise<T> | T): Promise<{ value: T; stall: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await new Promise((r) => setTimeout(r, 20)); // the histogram's timer is running before the check starts
  const value = await fn();
  await new Promise((r) => setTimeout(r, 10)); // let the histogram see the last turn
  h.disable();
  return { value, stall: h.max / 1e6 };
}

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(1);

async function series(label: string, check: (c: string) => Promise<{ ok: boolean }> | { ok: boolean }): Promise<void> {
  let t = performance.now();
  const first = await watched(() => check(code));
  const cold = performance.now() - t;
  if (!first.value.ok) throw new Error('the template does not check');
  const times: number[] = [];
  const stalls: number[] = [];
  for (let k = 0; k < N; k++) {
    t = performance.now();
    const r = await watched(() => check(edits(k)));
    times.push(performance.now() - t);
    stalls.push(r.stall);
    if (r.value.ok !== (k % 4 !== 3)) throw new Error(`unexpected result at ${k}`);
  }
  console.log(`${label}:`);
  console.log(`  first check ${cold.toFixed(0)} ms (event loop: longest stall ${first.stall.toFixed(0)} ms)`);
  console.log(`  then median ${q(times, 0.5)} ms, p90 ${q(times, 0.9)} ms, max ${q(times, 1)} ms over ${N} edited checks`);
  console.log(`  event loop during those checks: longest stall median ${q(stalls, 0.5)} ms, max ${q(stalls, 1)} ms`);
}

async function main(): Promise<void> {
  console.log(`strategy check bench, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const checker = new StrategyChecker();
  await series('in the checker worker (now)', (c) => checker.check(c));
  await checker.stop();
  await series('in process, on the event loop (before)', (c) => checkStrategy(c));
  const t = performance.now();
  for (let k = 0; k < 100; k++) transpileStrategy(code);
  console.log(`transpile (once per save): ${((performance.now() - t) / 100).toFixed(2)} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
