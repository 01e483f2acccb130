import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors';
import { catalogues, format, keysOf, lookup, pickLocale, translate } from './index';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the catalogues', () => {
  const enKeys = keysOf(catalogues.en).sort();
  const frKeys = keysOf(catalogues.fr).sort();

  it('have the same keys in French and in English', () => {
    expect(enKeys.length).toBeGreaterThan(50);
    expect(frKeys.filter((k) => !enKeys.includes(k))).toEqual([]);
    expect(enKeys.filter((k) => !frKeys.includes(k))).toEqual([]);
  });

  it('use the same placeholders and plural forms on both sides, and no empty message', () => {
    const bad: string[] = [];
    for (const k of enKeys) {
      const e = lookup('en', k)!;
      const f = lookup('fr', k)!;
      if (!e.trim() || !f.trim()) bad.push(`${k}: empty`);
      if (placeholders(e).join() !== placeholders(f).join()) bad.push(`${k}: {${placeholders(e)}} vs {${placeholders(f)}}`);
      if (e.split('|').length !== f.split('|').length) bad.push(`${k}: plural forms differ`);
    }
    expect(bad).toEqual([]);
  });

  it('word every stable error code in both languages', () => {
    for (const code of ERROR_CODES) {
      expect(lookup('en', `errors.code.${code}`), code).toBeTruthy();
      expect(lookup('fr', `errors.code.${code}`), code).toBeTruthy();
    }
  });
});

describe('format', () => {
  it('fills placeholders and keeps unknown ones visible', () => {
    expect(format('en', 'Buy {amount} {symbol}', { amount: '0.5', symbol: 'BTC/USDT' })).toBe('Buy 0.5 BTC/USDT');
    expect(format('en', 'Hello {who}', {})).toBe('Hello {who}');
  });
  it('picks plural forms by the language rules', () => {
    expect(format('en', 'one trade|{count} trades', { count: 1 })).toBe('one trade');
    expect(format('en', 'one trade|{count} trades', { count: 0 })).toBe('0 trades');
    // French counts zero as singular
    expect(format('fr', '{count} trade|{count} trades', { count: 0 })).toBe('0 trade');
    expect(format('fr', '{count} trade|{count} trades', { count: 2 })).toBe('2 trades');
  });
  it('translates by key, and says the key when it is unknown', () => {
    expect(translate('fr', 'common.actions.save')).toBe('Enregistrer');
    expect(translate('en', 'common.actions.save')).toBe('Save');
    expect(translate('fr', 'no.such.key')).toBe('no.such.key');
  });
  it('picks French for any French tag, English otherwise', () => {
    expect(pickLocale('fr-CA')).toBe('fr');
    expect(pickLocale('de-DE')).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
  });
});
