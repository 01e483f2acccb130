import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { STRATEGY_COMPILER_OPTIONS } from '../../shared/strategy-options';
import { STRATEGY_API_DTS } from '../../shared/strategy-api';
import { transpileStrategy } from './transpile';
import { translate } from '../../shared/i18n';
import { checkStrategy, DEFAULT_WARMUP, MAX_CODE_LENGTH } from './validate';

const TEMPLATES = join(import.meta.dirname, '../../resources/strategies');

/** The issue's own example, written as a strategy author would (no `override`, columns indexed as numbers). */
const SMA_CROSS = `import { Strategy, ta } from 'aristobot';

export default class SmaCross extends Strategy {
  static params = { fast: { default: 10, min: 2, max: 100, step: 1, label: 'Fast SMA' }, slow: { default: 30, min: 5, max: 300 } };
  static warmup = 50;
  fastMa!: Float64Array;
  slowMa!: Float64Array;
  init() {
    this.fastMa = ta.sma(this.close, this.params.fast);
    this.slowMa = ta.sma(this.close, this.params.slow);
  }
  shouldLong() { return this.crossover(this.fastMa, this.slowMa); }
  shouldShort() { return this.crossunder(this.fastMa, this.slowMa); }
  shouldExit() { const c: number = this.close[this.i]; return c > this.high[this.i - 1] * 2; }
  calculatePositionSize() { return 0.5; }
  calculateStopLoss() { return 0.02; }
  calculateTakeProfit() { return null; }
}
`;

const lineOf = (code: string, needle: string) => code.split('\n').findIndex((l) => l.includes(needle)) + 1;
const columnOf = (code: string, needle: string) => code.split('\n')[lineOf(code, needle) - 1]!.indexOf(needle) + 1;

describe('strategy validation', () => {
  it('accepts the issue example as written and extracts params and warmup', () => {
    const r = checkStrategy(SMA_CROSS);
    expect(r.diagnostics).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.params).toEqual({ fast: { default: 10, min: 2, max: 100, step: 1, label: 'Fast SMA' }, slow: { default: 30, min: 5, max: 300 } });
    expect(r.warmup).toBe(50);
  });

  it('uses every declared API name (ta.* included) without complaint', () => {
    const code = `import { Strategy, ta, type Position, type ParamSpec } from 'aristobot';
export default class All extends Strategy {
  init() {
    const c = this.close, h = this.high, l = this.low, v = this.volume;
    const a: Float64Array[] = [ta.sma(c, 3), ta.ema(c, 3), ta.rsi(c, 14), ta.atr(h, l, c, 14), ta.vwap(h, l, c, v, 20), ta.macd(c).signal, ta.bbands(c, 20, 2).upper, ta.stoch(h, l, c).d];
    const p: Position | null = this.position; const s: ParamSpec = { default: 1 };
    void a; void p; void s; void this.open; void this.time; void this.balance;
  }
  shouldLong() { return this.position?.side === 'short' && this.position.entryPrice > 0; }
  shouldShort() { return false; }
}`;
    expect(checkStrategy(code).diagnostics).toEqual([]);
  });

  it('defaults: no params → {}, no warmup → 200', () => {
    const r = checkStrategy(`import { Strategy } from 'aristobot';\nexport default class X extends Strategy { shouldLong() { return true; } shouldShort() { return false; } }`);
    expect(r.ok).toBe(true);
    expect(r.params).toEqual({});
    expect(r.warmup).toBe(DEFAULT_WARMUP);
  });

  it('reports a type error with its 1-based line and column', () => {
    const code = SMA_CROSS.replace('this.crossover(', 'this.crossovr(');
    const r = checkStrategy(code);
    expect(r.ok).toBe(false);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ line: lineOf(code, 'crossovr'), column: columnOf(code, 'crossovr') });
    expect(r.diagnostics[0]!.message).toMatch(/crossovr.*Did you mean 'crossover'/);
  });

  it('reports a syntax error', () => {
    const code = SMA_CROSS.replace('shouldLong() {', 'shouldLong() {{');
    const r = checkStrategy(code);
    expect(r.ok).toBe(false);
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(r.diagnostics[0]!.line).toBeGreaterThanOrEqual(1);
  });

  it('is strict: implicit any and possibly-null use are errors', () => {
    const code = SMA_CROSS.replace('calculatePositionSize() { return 0.5; }', 'calculatePositionSize() { return this.position.amount > 0 ? 1 : 0.5; }\n  helper(x) { return x; }');
    const msgs = checkStrategy(code).diagnostics.map((d) => d.message).join('\n');
    expect(msgs).toMatch(/possibly 'null'/);
    expect(msgs).toMatch(/implicitly has an 'any' type/);
  });

  it('refuses require, import() and imports other than aristobot, each with its place', () => {
    const cases: [string, string, RegExp][] = [
      [`import fs from 'fs';\n${SMA_CROSS}`, `'fs'`, /Only 'aristobot' may be imported/],
      [`import * as os from 'node:os';\n${SMA_CROSS}`, `'node:os'`, /Only 'aristobot' may be imported/],
      [`export { x } from './other';\n${SMA_CROSS}`, `'./other'`, /Only 'aristobot' may be imported/],
      [SMA_CROSS.replace('return 0.5;', "const fs = require('fs'); return fs ? 0.5 : 1;"), `require('fs')`, /`require` is not allowed/],
      [SMA_CROSS.replace('return 0.5;', "void import('fs'); return 0.5;"), `import('fs')`, /`import\(\)` is not allowed/],
      [`import fs = require('fs');\n${SMA_CROSS}`, `import fs = require('fs');`, /is not allowed/],
      [SMA_CROSS.replace('return 0.5;', 'return import.meta ? 1 : 0.5;'), 'import.meta', /import\.meta/],
    ];
    for (const [code, needle, message] of cases) {
      const r = checkStrategy(code);
      expect(r.ok, needle).toBe(false);
      const d = r.diagnostics.find((x) => message.test(x.message));
      expect(d, `${needle}: ${JSON.stringify(r.diagnostics)}`).toBeDefined();
      expect(d).toMatchObject({ line: lineOf(code, needle), column: columnOf(code, needle) });
      // The compiler's own "Cannot find module" / "Cannot find name 'require'" is replaced by ours.
      expect(r.diagnostics.filter((x) => x.line === d!.line && x.column === d!.column)).toHaveLength(1);
    }
  });

  it('has no Node or DOM: process, window and document are unknown names', () => {
    for (const name of ['process.env.HOME', 'window.location', 'document.title', 'Buffer.from("x")']) {
      const r = checkStrategy(SMA_CROSS.replace('return 0.5;', `void ${name}; return 0.5;`));
      expect(r.ok, name).toBe(false);
      expect(r.diagnostics[0]!.message).toMatch(/Cannot find name/);
    }
    expect(checkStrategy(SMA_CROSS.replace('return 0.5;', 'void process; return 0.5;')).diagnostics[0]!.message).toMatch(/sandbox, without Node\.js/);
  });

  it('refuses a default export that is not a class extending Strategy', () => {
    const notExtending = SMA_CROSS.replace('extends Strategy ', '');
    const r1 = checkStrategy(notExtending);
    expect(r1.ok).toBe(false);
    expect(r1.diagnostics.find((d) => /must extend Strategy/.test(d.message))).toMatchObject({ line: lineOf(notExtending, 'class SmaCross') });

    const otherBase = `import { Strategy } from 'aristobot';\nclass Base { shouldLong() { return true; } shouldShort() { return false; } }\nexport default class X extends Base {}\nvoid Strategy;`;
    expect(checkStrategy(otherBase).diagnostics.map((d) => d.message)).toContainEqual(expect.stringMatching(/must extend Strategy/));

    const fn = `import { Strategy } from 'aristobot';\nvoid Strategy;\nexport default function run() { return 1; }`;
    expect(checkStrategy(fn).diagnostics.map((d) => d.message)).toContainEqual(expect.stringMatching(/must be a class extending Strategy/));

    const none = SMA_CROSS.replace('export default class', 'export class');
    expect(checkStrategy(none).diagnostics.map((d) => d.message)).toContainEqual(expect.stringMatching(/must default-export its class/));

    const abstract = SMA_CROSS.replace('export default class', 'export default abstract class');
    expect(checkStrategy(abstract).diagnostics.map((d) => d.message)).toContainEqual(expect.stringMatching(/must not be abstract/));
  });

  it('accepts a class extending an intermediate class that extends Strategy, and `export default` of a name', () => {
    const code = `import { Strategy } from 'aristobot';
abstract class Base extends Strategy { shouldShort() { return false; } }
class Mine extends Base { shouldLong() { return this.i > 3; } }
export default Mine;`;
    expect(checkStrategy(code).diagnostics).toEqual([]);
  });

  it('refuses missing required methods', () => {
    for (const m of ['shouldLong', 'shouldShort']) {
      const code = SMA_CROSS.replace(new RegExp(`  ${m}\\(\\) \\{[^\\n]*\\n`), '');
      const r = checkStrategy(code);
      expect(r.ok, m).toBe(false);
      expect(r.diagnostics.map((d) => d.message).join()).toMatch(new RegExp(`does not implement inherited abstract member '?${m}`));
    }
  });

  it('refuses wrong method types', () => {
    const r = checkStrategy(SMA_CROSS.replace('calculatePositionSize() { return 0.5; }', "calculatePositionSize() { return '0.5'; }"));
    expect(r.ok).toBe(false);
    expect(r.diagnostics[0]!.message).toMatch(/not assignable/);
  });

  it('refuses malformed params, each with its place', () => {
    const cases: [string, string, RegExp][] = [
      ["static params = makeParams();", 'makeParams()', /must be an object literal/],
      ["static params = { fast: 10 };", '10', /must be an object literal such as/],
      ["static params = { fast: { min: 1 } };", '{ min: 1 }', /needs a `default`/],
      ["static params = { fast: { default: 5, min: 10 } };", '{ default: 5, min: 10 }', /below min/],
      ["static params = { fast: { default: 5, max: 1 } };", '{ default: 5, max: 1 }', /above max/],
      ["static params = { fast: { default: 5, min: 9, max: 1 } };", '{ default: 5, min: 9, max: 1 }', /min \(9\) is above max/],
      ["static params = { fast: { default: 5, step: 0 } };", '{ default: 5, step: 0 }', /step must be above 0/],
      ["static params = { fast: { default: 2 * 3 } };", '2 * 3', /must be a number written out/],
      ["static params = { fast: { default: 1, label: `a${'${1}'}` } };", '`a', /must be a string written out/],
      ["static params = { ...base };", '...base', /no spreads/],
      ["static params = { 'my-param': { default: 1 } };", "'my-param'", /must be an identifier/],
    ];
    for (const [decl, needle, message] of cases) {
      const code = `import { Strategy } from 'aristobot';
const base = {}; function makeParams() { return { fast: { default: 1 } }; } void base;
export default class X extends Strategy {
  ${decl}
  shouldLong() { return true; }
  shouldShort() { return false; }
}`;
      const r = checkStrategy(code);
      expect(r.ok, decl).toBe(false);
      expect(r.params, decl).toEqual({});
      const d = r.diagnostics.find((x) => message.test(x.message));
      expect(d, `${decl}: ${JSON.stringify(r.diagnostics)}`).toMatchObject({ line: 4, column: code.split('\n')[3]!.indexOf(needle) + 1 });
    }
  });

  it('refuses a param field of the wrong type (the compiler, against ParamSpec)', () => {
    const code = SMA_CROSS.replace("label: 'Fast SMA'", 'label: 3');
    expect(checkStrategy(code).ok).toBe(false);
  });

  it('refuses a warmup that is not a whole number written out', () => {
    for (const w of ['-1', '1.5', 'Math.max(1, 2)', '"50"']) {
      const r = checkStrategy(SMA_CROSS.replace('static warmup = 50;', `static warmup = ${w};`));
      expect(r.ok, w).toBe(false);
    }
  });

  it('refuses code over the size limit', () => {
    const r = checkStrategy(SMA_CROSS + '\n//' + 'x'.repeat(MAX_CODE_LENGTH));
    expect(r.ok).toBe(false);
    expect(r.diagnostics[0]!.message).toMatch(/too long/);
  });

  it('never throws on garbage', () => {
    for (const code of ['', '}}}{{{', 'export default 3;', 'export default class {}', '\u0000\uffff', 'class extends {']) {
      const r = checkStrategy(code);
      expect(r.ok, JSON.stringify(code)).toBe(false);
      expect(r.diagnostics.length).toBeGreaterThan(0);
    }
  });

  it('keeps results independent between checks (cached library files, fresh programs)', () => {
    const bad = SMA_CROSS.replace('this.crossover(', 'this.crossovr(');
    expect(checkStrategy(bad).ok).toBe(false);
    expect(checkStrategy(SMA_CROSS).ok).toBe(true);
    expect(checkStrategy(bad).ok).toBe(false);
  });

  it('shares its compiler options with the editor: the numbers are TypeScript enum values', () => {
    expect(STRATEGY_COMPILER_OPTIONS.target).toBe(ts.ScriptTarget.ES2022);
    expect(STRATEGY_COMPILER_OPTIONS.module).toBe(ts.ModuleKind.ESNext);
    expect(STRATEGY_COMPILER_OPTIONS.moduleResolution).toBe(ts.ModuleResolutionKind.Bundler);
    expect(STRATEGY_COMPILER_OPTIONS.noImplicitOverride).toBe(false);
    expect(STRATEGY_COMPILER_OPTIONS.noUncheckedIndexedAccess).toBe(false);
  });

  it('the API declarations themselves type-check', () => {
    const host = ts.createCompilerHost({});
    const orig = host.getSourceFile;
    host.getSourceFile = (f, l) => (f === '/api.d.ts' ? ts.createSourceFile(f, STRATEGY_API_DTS, ts.ScriptTarget.ES2022) : orig(f, l));
    const p = ts.createProgram(['/api.d.ts'], { lib: ['lib.es2022.d.ts'], types: [], strict: true, noEmit: true }, host);
    expect(ts.getPreEmitDiagnostics(p).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  });
});

describe('templates', () => {
  const files = readdirSync(TEMPLATES).filter((f) => f.endsWith('.ts'));
  it('has the base template, EMA cross, RSI mean reversion and Bollinger breakout', () => {
    expect(files.sort()).toEqual(['base.ts', 'bollinger-breakout.ts', 'ema-cross.ts', 'rsi-mean-reversion.ts']);
  });
  for (const f of files) {
    it(`${f} compiles, passes validation, declares params and transpiles to CommonJS`, () => {
      const code = readFileSync(join(TEMPLATES, f), 'utf8');
      const r = checkStrategy(code);
      expect(r.diagnostics).toEqual([]);
      expect(Object.keys(r.params).length).toBeGreaterThan(0);
      expect(r.warmup).toBeLessThan(DEFAULT_WARMUP);
      const js = transpileStrategy(code);
      expect(js).toMatch(/require\("aristobot"\)/);
      expect(js).toMatch(/exports\.default = /);
    });
  }
});

describe('the rules speak French by key', () => {
  it("our own rules' diagnostics carry their key and parameters (English beside); code values stay as written in French", () => {
    const imp = checkStrategy(`import fs from 'fs';\n${SMA_CROSS}`).diagnostics.find((d) => d.key === 'coreLast.check.onlyAristobotNot')!;
    expect(imp.message).toBe("Only 'aristobot' may be imported (not 'fs'): strategies run in a sandbox without modules.");
    expect(translate('fr', imp.key!, imp.params)).toBe("Seul 'aristobot' peut être importé (pas 'fs') : les stratégies tournent dans un bac à sable sans modules.");
    const code = SMA_CROSS.replace("fast: { default: 10, min: 2, max: 100, step: 1, label: 'Fast SMA' }", 'fast: { default: 0.5, min: 2.5, max: 1.5 }');
    const bad = checkStrategy(code).diagnostics.find((d) => d.key === 'coreLast.check.minAboveMax');
    expect(bad, JSON.stringify(checkStrategy(code).diagnostics)).toBeDefined();
    expect(bad!.message).toBe('In the parameter "fast": min (2.5) is above max (1.5).');
    expect(translate('fr', bad!.key!, bad!.params)).toBe('Dans le paramètre « fast » : min (2.5) est supérieur à max (1.5).');
    // TypeScript's own messages pass as they are (no key)
    expect(checkStrategy(`const x: number = 'a';\n${SMA_CROSS}`).diagnostics.some((d) => d.key === undefined && /not assignable/.test(d.message))).toBe(true);
  });
});
