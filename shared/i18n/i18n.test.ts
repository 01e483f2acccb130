import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors';
import { catalogues, format, frenchNumber, keysOf, lookup, NUMBER_PARAMS, pickLocale, translate } from './index';

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

describe('numbers inside sentences', () => {
  const NNBSP = '\u202f';
  it('are written the French way in French, on the string (no digit lost), and left plain in English', () => {
    expect(format('fr', 'Achat de {amount} {symbol} à {price}', { amount: '0.015', symbol: 'BTC/USDT', price: '60000' })).toBe(`Achat de 0,015 BTC/USDT à 60${NNBSP}000`);
    expect(format('en', 'Buy {amount} {symbol} at {price}', { amount: '0.015', symbol: 'BTC/USDT', price: '60000' })).toBe('Buy 0.015 BTC/USDT at 60000');
    // a money string with more digits than a float holds, and trailing zeros: kept exactly
    expect(format('fr', '{amount}', { amount: '12345678901234567890.123456789012345678900' })).toBe(`12${NNBSP}345${NNBSP}678${NNBSP}901${NNBSP}234${NNBSP}567${NNBSP}890,123456789012345678900`);
    expect(format('fr', '{amount}', { amount: '-1.500' })).toBe('-1,500');
    expect(format('fr', '{count} bougies', { count: 1500 })).toBe(`1${NNBSP}500 bougies`);
    expect(format('fr', '{ret} %', { ret: 12.5 })).toBe('12,5 %');
  });

  it('leave every parameter that is not a quantity as it came, even when it looks like a number', () => {
    const p = { version: '1.2', ip: '127.0.0.1', id: '1234567', clientOrderId: '20240101.5', reason: '0.5', value: '1700000000000', code: '2010', symbol: 'BTC/USDT', at: '2024-01-01T00:00:00.000Z', timeframe: '1h', line: '1234', port: '8080' };
    const template = Object.keys(p).map((k) => `{${k}}`).join(' ');
    expect(format('fr', template, p)).toBe(Object.values(p).join(' '));
    // a quantity's name with a value that is not a plain decimal (a timeframe, a date, an exponent, already formatted)
    expect(format('fr', '{min} {max} {amount} {price}', { min: '1m', max: '2024-01-01', amount: '1e-7', price: `1${NNBSP}234,5` })).toBe(`1m 2024-01-01 1e-7 1${NNBSP}234,5`);
    for (const k of ['version', 'id', 'ip', 'port', 'pid', 'code', 'status', 'line', 'column', 'value', 'reason', 'error', 'clientOrderId', 'exchangeOrderId']) expect(NUMBER_PARAMS.has(k), k).toBe(false);
  });

  it('inside a nested message too (an error\'s cause worded in the same language)', () => {
    const problem = { key: 'coreTrading.problem.amountBelowMin', params: { amount: '0.0001', min: '0.001', unit: '' } };
    expect(translate('fr', 'errors.trading.problems', { problems: problem })).toContain('0,0001');
    expect(translate('fr', 'errors.trading.problems', { problems: problem })).toContain('0,001');
    expect(translate('en', 'errors.trading.problems', { problems: problem })).toBe('Amount 0.0001 is below the minimum 0.001');
  });

  it('match Intl fr-FR digit for digit (for strings without trailing zeros), and keep every digit', () => {
    const intl = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 20 });
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), fc.option(fc.stringMatching(/^\d{0,19}[1-9]$/), { nil: undefined }), (i, frac) => {
        const s = `${i}${frac === undefined ? '' : `.${frac}`}`;
        const fr = frenchNumber(s);
        expect(fr.replaceAll(NNBSP, '').replace(',', '.')).toBe(s);
        if (s !== '-0' && !s.startsWith('-0.')) expect(fr).toBe(intl.format(s as `${number}`));
      }),
    );
  });
});
