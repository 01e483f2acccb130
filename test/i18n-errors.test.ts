/**
 * The core answers errors with catalogue keys and parameters, never with an English sentence the
 * renderer cannot translate. A static scan (TypeScript's own parser) of every core source finds each
 * `new AppError(...)` and each `'errors.…'` key, and fails when a key is missing in either language or
 * when the parameters given do not match the key's placeholders; runtime checks follow a refusal from
 * the contract and from a service to its French wording.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Dispatcher, type Handlers } from '../electron/api/dispatch';
import { customKey } from '../electron/api/issues';
import { AppError, externalError } from '../shared/errors';
import { catalogues, keysOf, lookup, translate, type Params } from '../shared/i18n';
import { wordError, wordField } from '../shared/i18n/wording';

const ROOT = join(__dirname, '..');
const placeholders = (s: string) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'node_modules' ? [] : sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}
const CORE = [...sources(join(ROOT, 'electron')), ...sources(join(ROOT, 'shared'))].filter((f) => !f.includes(`${join('shared', 'i18n')}`));

interface Finding {
  where: string;
  problem: string;
}

/** The string-literal keys an expression can evaluate to (a literal, or either branch of a conditional). */
function literalKeys(e: ts.Expression): string[] | null {
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return [e.text];
  if (ts.isParenthesizedExpression(e)) return literalKeys(e.expression);
  if (ts.isConditionalExpression(e)) {
    const a = literalKeys(e.whenTrue);
    const b = literalKeys(e.whenFalse);
    return a && b ? [...a, ...b] : null;
  }
  return null;
}

/** Property names of an object literal, or null when it spreads something (not checkable statically). */
function objectNames(e: ts.Expression): string[] | null {
  if (!ts.isObjectLiteralExpression(e)) return null;
  const names: string[] = [];
  for (const p of e.properties) {
    if (ts.isSpreadAssignment(p)) return null;
    if (p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) names.push(p.name.text);
  }
  return names.sort();
}

function scan(): { findings: Finding[]; raises: number; keys: Set<string> } {
  const findings: Finding[] = [];
  const keys = new Set<string>();
  let raises = 0;
  for (const file of CORE) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const at = (n: ts.Node) => `${file.slice(ROOT.length + 1)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
    // `allowExtra`: one branch of a conditional key may use fewer of the parameters than the other
    const checkParams = (key: string, params: ts.Expression | undefined, n: ts.Node, allowExtra = false) => {
      const en = lookup('en', key);
      if (en === undefined) return;
      const want = placeholders(en);
      if (!params) {
        if (want.length) findings.push({ where: at(n), problem: `${key} needs {${want.join(', ')}} and gets no parameters` });
        return;
      }
      const got = objectNames(params);
      if (got === null) return; // built elsewhere (a spread, a variable): the runtime tests cover those paths
      const missing = want.filter((w) => !got.includes(w));
      // `count` picks the plural form of a `one|other` message even where the text does not show it
      const extra = got.filter((g) => !want.includes(g) && !(g === 'count' && en.includes('|')));
      if (missing.length || (extra.length && !allowExtra)) findings.push({ where: at(n), problem: `${key} has placeholders {${want.join(', ')}} but gets {${got.join(', ')}}` });
    };
    const visit = (n: ts.Node) => {
      if (ts.isStringLiteral(n) && /^errors\.[A-Za-z0-9_.]+$/.test(n.text)) {
        keys.add(n.text);
        const subtree = lookup('en', n.text) === undefined && keysOf(catalogues.en).some((k) => k.startsWith(`${n.text}.`));
        if (subtree) return;
        if (lookup('en', n.text) === undefined) findings.push({ where: at(n), problem: `${n.text} is not in the English catalogue` });
        if (lookup('fr', n.text) === undefined) findings.push({ where: at(n), problem: `${n.text} is not in the French catalogue` });
      }
      if (ts.isNewExpression(n) && n.expression.getText(sf) === 'AppError') {
        raises++;
        const [, key, params] = n.arguments ?? [];
        const lits = key ? literalKeys(key) : null;
        const passedOn = key && (/\.key$/.test(key.getText(sf)) || key.getText(sf) === 'key');
        if (!lits && !passedOn) findings.push({ where: at(n), problem: `AppError raised without a catalogue key: ${n.getText(sf).slice(0, 120)}` });
        for (const k of lits ?? []) {
          if (!k.startsWith('errors.')) findings.push({ where: at(n), problem: `AppError key ${k} is not an error key` });
          checkParams(k, params, n, lits!.length > 1);
        }
      } else if (ts.isCallExpression(n) || ts.isNewExpression(n)) {
        // helpers that take (…, key, params, …): invalid('errors.x', {…}), fail(ep, code, 'errors.x', {…})
        const args = [...(n.arguments ?? [])];
        args.forEach((a, i) => {
          const lits = literalKeys(a);
          if (!lits || !lits.every((k) => k.startsWith('errors.')) || lookup('en', lits[0]!) === undefined) return;
          const next = args[i + 1];
          if (next && !ts.isObjectLiteralExpression(next)) return;
          for (const k of lits) checkParams(k, next, n, lits.length > 1);
        });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return { findings, raises, keys };
}

describe('the core raises errors by catalogue key', () => {
  const { findings, raises, keys } = scan();

  it('every AppError has a key present in English and French, with the parameters its placeholders name', () => {
    expect(raises).toBeGreaterThan(150);
    expect(keys.size).toBeGreaterThan(200);
    expect(findings).toEqual([]);
  });

  it('the scan itself catches a missing key, a French gap and wrong parameters', () => {
    // a source as a developer might write it: each line is one mistake the scan must name
    const bad = [`new AppError('not_found', 'No such thing.');`, `new AppError('not_found', 'errors.nowhere.key');`, `new AppError('not_found', 'errors.profiles.noProfileNamed', { who: 'x' });`, `new AppError('not_found', 'errors.profiles.noProfileNamed');`].join('\n');
    const sf = ts.createSourceFile('x.ts', bad, ts.ScriptTarget.Latest, true);
    const problems: string[] = [];
    const visit = (n: ts.Node) => {
      if (ts.isNewExpression(n)) {
        const [, key, params] = n.arguments ?? [];
        const k = key && literalKeys(key)?.[0];
        if (!k || !k.startsWith('errors.')) problems.push('no key');
        else if (lookup('en', k) === undefined || lookup('fr', k) === undefined) problems.push('missing');
        else if ((params ? objectNames(params) : [])!.join() !== placeholders(lookup('en', k)!).join()) problems.push('params');
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
    expect(problems).toEqual(['no key', 'missing', 'params', 'params']);
  });

  it("every refinement message of the contract has its key (the field's wording in French)", () => {
    const messages: string[] = [];
    for (const file of sources(join(ROOT, 'shared', 'contract'))) {
      const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (n: ts.Node) => {
        if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && ['min', 'max', 'regex', 'refine', 'length'].includes(n.expression.name.text)) {
          for (const a of n.arguments) if (ts.isStringLiteral(a)) messages.push(a.text);
        }
        if (ts.isPropertyAssignment(n) && n.name.getText(sf) === 'message') {
          if (ts.isStringLiteral(n.initializer)) messages.push(n.initializer.text);
          else if (ts.isConditionalExpression(n.initializer)) for (const b of [n.initializer.whenTrue, n.initializer.whenFalse]) if (ts.isStringLiteral(b)) messages.push(b.text);
          else if (!ts.isIdentifier(n.initializer)) messages.push(`(not a literal) ${n.initializer.getText(sf)}`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(messages.length).toBeGreaterThan(30);
    expect(messages.filter((m) => !customKey(m))).toEqual([]);
  });
});

describe('an error reaches the person in their language', () => {
  it("AppError's message is the English catalogue's, and the same key words it in French", () => {
    const e = new AppError('not_found', 'errors.profiles.noProfileNamed', { name: 'alice' }, { field: 'name' });
    expect(e.message).toBe('No profile named "alice".');
    expect(e.toPayload()).toEqual({ code: 'not_found', message: 'No profile named "alice".', key: 'errors.profiles.noProfileNamed', params: { name: 'alice' }, details: { field: 'name' } });
    expect(wordError('fr', e.toPayload())).toBe('Aucun profil nommé « alice ».');
    expect(wordField('fr', e.toPayload(), 'name')).toBe('Aucun profil nommé « alice ».');
  });

  it('a cause inside a message is worded in the same language; outside words stay as they are', () => {
    const cause = new AppError('exchange_network', 'errors.exchanges.unreachable', { exchangeId: 'binance', reason: { key: 'errors.exchanges.net.refused' } });
    expect(cause.message).toBe('Could not reach binance: connection refused.');
    const e = new AppError('exchange_network', 'errors.trading.replacementNotPlaced', { reason: cause });
    expect(e.message).toBe('The order was cancelled, but its replacement could not be placed (nothing was sent): Could not reach binance: connection refused.');
    expect(wordError('fr', e.toPayload())).toBe("L'ordre a été annulé, mais son remplaçant n'a pas pu être passé (rien n'a été envoyé) : Impossible de joindre binance : connexion refusée.");
    expect(wordError('fr', externalError('exchange_error', new Error('Filter failure: LOT_SIZE')).toPayload())).toBe('Filter failure: LOT_SIZE');
  });

  it('plural forms follow the language', () => {
    const one = new AppError('invalid_input', 'errors.strategies.doesNotCompileAtMore', { line: 3, column: 7, reason: "';' expected", count: 1 });
    expect(one.message).toBe("The code does not compile: line 3, column 7: ';' expected (and 1 more problem)");
    expect(translate('fr', one.key, { ...one.params, count: 2 })).toBe("Le code ne compile pas : ligne 3, colonne 7 : ';' expected (et 2 autres problèmes)");
  });

  it('a contract refusal carries a key per issue, worded per field in French, and never the input itself', async () => {
    const log = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined } as never;
    const d = new Dispatcher({} as Handlers, log);
    const session = { connectionId: 'c', profile: null, subscriptions: new Set<string>() };
    const r = await d.call('profiles.create', { name: '', password: 'ab', extra: 'sk-secret-value-123' }, session);
    expect('error' in r).toBe(true);
    const err = (r as { error: { code: string; key: string; params: Params; message: string; details: { issues: { path: string; key: string; params: Params }[] } } }).error;
    expect(err.code).toBe('invalid_input');
    expect(err.key).toBe('errors.api.invalidInput');
    const byPath = Object.fromEntries([...err.details.issues].reverse().map((i) => [i.path, i])); // the first issue of each field
    expect(byPath.name?.key).toBe('errors.input.custom.nameRequired');
    expect(byPath.password?.key).toBe('errors.input.custom.passwordMustLeast4Characters');
    expect(wordField('fr', err, 'name')).toBe('le nom est obligatoire');
    expect(wordField('fr', err, 'password')).toBe('le mot de passe doit faire au moins 4 caractères');
    expect(wordField('en', err, 'password')).toBe('password must be at least 4 characters');
    expect(wordError('fr', err)).toMatch(/^Saisie invalide pour profiles\.create : /);
    // the unknown field is named, its value (which could be a secret typed in the wrong place) is not
    expect(JSON.stringify(err)).not.toContain('sk-secret-value-123');
    expect(JSON.stringify(err.details.issues.map((i) => i.params))).toContain('extra');
  });

  it('zod issues without a custom message get a generic key by their kind', async () => {
    const { zodIssue } = await import('../electron/api/issues');
    const r = z.object({ side: z.enum(['buy', 'sell']), n: z.number().min(2), s: z.string().max(3), id: z.string() }).safeParse({ side: 'hold', n: 1, s: 'abcd' });
    const issues = Object.fromEntries(r.error!.issues.map(zodIssue).map((i) => [i.path, i]));
    expect(issues.side).toMatchObject({ key: 'errors.input.oneOf', params: { options: 'buy, sell' } });
    expect(issues.n).toMatchObject({ key: 'errors.input.atLeast', params: { minimum: '2' } });
    expect(issues.s).toMatchObject({ key: 'errors.input.maxLength', params: { count: 3 } });
    expect(issues.id).toMatchObject({ key: 'errors.input.required' });
    expect(translate('fr', issues.side!.key, issues.side!.params)).toBe("doit être l'une des valeurs : buy, sell");
    expect(translate('fr', issues.s!.key, issues.s!.params)).toBe('au plus 3 caractères');
  });
});
