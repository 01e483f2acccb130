import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStrategy } from '../electron/strategies/validate';
import { transpileStrategy } from '../electron/strategies/transpile';

/**
 * How long the editor waits for a Check: the first check (reads and parses TypeScript's ES2022
 * library) and then repeated checks of an edited strategy (the library stays parsed and bound).
 * Prints figures; asserts nothing.  npx tsx bench/strategy-check.bench.ts
 */
const dir = join(import.meta.dirname, '../resources/strategies');
const code = readFileSync(join(dir, 'rsi-mean-reversion.ts'), 'utf8');

let t = performance.now();
const first = checkStrategy(code);
const cold = performance.now() - t;
if (!first.ok) throw new Error(JSON.stringify(first.diagnostics));

const times: number[] = [];
for (let k = 0; k < 40; k++) {
  // Every check is of different text, as while typing (a changed default, sometimes an error).
  const edited = k % 4 === 3 ? code.replace('this.rsi[this.i]', `this.rsx${k}[this.i]`) : code.replace('default: 14', `default: ${10 + k}`);
  t = performance.now();
  const r = checkStrategy(edited);
  times.push(performance.now() - t);
  if (r.ok !== (k % 4 !== 3)) throw new Error(`unexpected result at ${k}`);
}
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);

t = performance.now();
for (let k = 0; k < 100; k++) transpileStrategy(code);
const transpile = (performance.now() - t) / 100;

console.log(`strategy check: first ${cold.toFixed(0)} ms (library parse); then median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms over ${times.length} edited checks`);
console.log(`transpile (once per save): ${transpile.toFixed(2)} ms`);
