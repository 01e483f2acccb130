import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Kernel } from '../kernel';
import { BASE_CONFIG, loadCsv } from '../kernel/fixtures/strategies';
import { transpileStrategy } from './transpile';
import { checkStrategy } from './validate';

/**
 * Every template, as a user gets it (validated, transpiled once as a save does), trades on the real
 * series in ../shared/data/ohlcv/ through the kernel's backtest (the sandbox and the one decision
 * rule): GOOG daily and EURUSD hourly, long and short.
 */
const DIR = join(import.meta.dirname, '../../resources/strategies');
const templates = readdirSync(DIR).filter((f) => f.endsWith('.ts')).sort();
const series = { 'GOOG.csv': loadCsv('GOOG.csv'), 'EURUSD.csv': loadCsv('EURUSD.csv') };
const kernel = new Kernel();
afterAll(() => kernel.dispose());

describe('templates on real series', () => {
  it('are the four templates', () => expect(templates).toHaveLength(4));
  for (const file of templates) {
    for (const [name, columns] of Object.entries(series)) {
      it(`${file} passes validation and trades on ${name}`, async () => {
        const code = readFileSync(join(DIR, file), 'utf8');
        const check = checkStrategy(code);
        expect(check.diagnostics).toEqual([]);
        const compiled = { js: transpileStrategy(code) };
        // What the sandbox reads from the class is what the validator extracted.
        const info = await kernel.info(compiled);
        expect(info.warmup).toBe(check.warmup);
        expect(info.params).toEqual(check.params);
        const r = await kernel.backtest(compiled, undefined, columns, { ...BASE_CONFIG, allowShort: true });
        expect(r.trades.length).toBeGreaterThan(3);
        expect(r.firstDecisionIndex).toBeGreaterThanOrEqual(check.warmup - 1);
        expect(new Set(r.trades.map((t) => t.side))).toEqual(new Set(['long', 'short']));
        expect(Number.isFinite(r.finalEquity)).toBe(true);
        for (const t of r.trades) expect(t.exitIndex).toBeGreaterThanOrEqual(t.entryIndex);
      });
    }
  }
});
