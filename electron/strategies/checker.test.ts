import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppError } from '../../shared/errors';
import { translate } from '../../shared/i18n';
import { StrategyChecker } from './checker';
import { checkStrategy, MAX_CODE_LENGTH } from './validate';

/**
 * The strategy check off the event loop: the same validator (validate.ts) in a worker thread,
 * warm and reused, queued, a stuck or crashed worker replaced with a clear error.
 */
const DIR = join(import.meta.dirname, '../../resources/strategies');
const templates = readdirSync(DIR).filter((f) => f.endsWith('.ts')).sort().map((f) => readFileSync(join(DIR, f), 'utf8'));
const rsi = readFileSync(join(DIR, 'rsi-mean-reversion.ts'), 'utf8');

/** Good and bad strategies: each rule of the validator and the compiler's own errors. */
const CORPUS: string[] = [
  ...templates,
  rsi.replace('this.rsi[this.i]', 'this.rsx[this.i]'),
  rsi.replace('default: 14', "default: 'x'"),
  rsi.replace('default: 14', 'default: 14, min: 20'),
  `import fs from 'fs';\n${rsi}`,
  rsi.replace('init() {', "init() { const m = import('fs'); require('os'); void m;"),
  rsi.replace('export default class', 'class'),
  rsi.replace('extends Strategy', ''),
  rsi.replace('shouldShort()', 'shouldShrt()'),
  rsi.replace('static warmup', 'static warmup = -3; static warmupX'),
  `${rsi}\n}}} (`,
  'const x: number = "a";',
  '',
];

const checker = new StrategyChecker();
afterAll(() => checker.stop());

describe('the strategy check in a worker thread', () => {
  it('gives exactly the diagnostics, params and warm-up of the validator run in process', { timeout: 180_000 }, async () => {
    for (const code of CORPUS) expect(await checker.check(code)).toEqual(checkStrategy(code));
    // too long: answered at once, the same refusal
    const long = `// ${'x'.repeat(MAX_CODE_LENGTH)}\n${rsi}`;
    expect(await checker.check(long)).toEqual(checkStrategy(long));
    expect(checker.workersStarted).toBe(1); // one warm worker, reused
  });

  it('keeps the event loop turning while a big strategy is checked', { timeout: 120_000 }, async () => {
    // ~190 k characters: the template and 300 more methods
    const big = rsi.replace(/}\s*$/, `${Array.from({ length: 300 }, (_, k) => `  helper${k}(a: number, b: number): number { const c = ta.sma(this.close, ${k + 2}); return (c[this.i] ?? 0) * a + b + this.high[this.i] - this.low[this.i]; }\n`).join('')}}\n`);
    expect(big.length).toBeLessThan(MAX_CODE_LENGTH);
    let ticks = 0;
    let counting = true;
    const tick = () => {
      ticks++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const r = await checker.check(big);
    counting = false;
    expect(r.diagnostics).toEqual([]);
    expect(ticks).toBeGreaterThan(0);
    // the validator run in process (as before) blocks the loop for the whole check: not one tick
    ticks = 0;
    counting = true;
    setImmediate(tick);
    expect(checkStrategy(big).ok).toBe(true);
    expect(ticks).toBe(0);
    counting = false;
  });

  it('queues checks and answers each with its own result, in order', { timeout: 120_000 }, async () => {
    const codes = [rsi, 'const x: number = "a";', templates[0]!, `import fs from 'fs';\n${rsi}`];
    const results = await Promise.all(codes.map((c) => checker.check(c)));
    expect(results.map((r) => r.ok)).toEqual([true, false, true, false]);
    for (const [k, c] of codes.entries()) expect(results[k]).toEqual(checkStrategy(c));
  });
});

describe('a stuck or crashed worker', () => {
  const hostile = new StrategyChecker({ entry: new URL('./fixtures/hostile-check-worker.ts', import.meta.url), timeoutMs: 2000 });
  afterAll(() => hostile.stop());

  it('a stuck check times out with strategy_timeout, its worker is replaced, the queue goes on', { timeout: 180_000 }, async () => {
    const stuck = hostile.check(`${rsi}\n// @hang`);
    const next = hostile.check(rsi); // queued behind the stuck one
    const e = (await stuck.then(() => null, (x: unknown) => x)) as AppError;
    expect(e).toMatchObject({ code: 'strategy_timeout', message: expect.stringMatching(/took longer than 2 s and was stopped.*restarted/) });
    // what timed out is a key too: the whole error reads in French
    expect(translate('fr', e.key, e.params)).toMatch(/^La vérification de la stratégie a duré plus de 2 s et a été arrêtée .*redémarré/);
    expect((await next).ok).toBe(true);
    expect(hostile.workersStarted).toBe(2);
  });

  it('a worker that throws or exits fails the check in flight with unavailable, the next check gets a new worker', { timeout: 180_000 }, async () => {
    const before = hostile.workersStarted;
    await expect(hostile.check(`${rsi}\n// @throw`)).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/stopped unexpectedly \(the compiler broke \(0\)\).*check again/) });
    const exited = (await hostile.check(`${rsi}\n// @exit`).then(() => null, (x: unknown) => x)) as AppError;
    expect(exited).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/exited with code 7/) });
    expect(translate('fr', exited.key, exited.params)).toBe('La vérification de la stratégie s\'est arrêtée de façon inattendue (son processus de travail s\'est terminé avec le code 7). Le vérificateur a été redémarré : vérifiez de nouveau.');
    const r = await hostile.check('const x: number = "a";');
    expect(r).toEqual(checkStrategy('const x: number = "a";'));
    expect(hostile.workersStarted).toBe(before + 2);
  });

  it('a worker out of memory fails with unavailable and the limit named', { timeout: 120_000 }, async () => {
    const tiny = new StrategyChecker({ maxHeapMb: 4 });
    try {
      await expect(tiny.check(rsi)).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/ran out of memory \(over 4 MB\)/) });
    } finally {
      await tiny.stop();
    }
  });

  it('stop() fails what is pending and refuses later checks', { timeout: 60_000 }, async () => {
    const c = new StrategyChecker();
    const pending = expect(c.check(rsi)).rejects.toMatchObject({ code: 'unavailable' });
    await c.stop();
    await pending;
    await expect(c.check(rsi)).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/stopped/) });
  });
});
