/**
 * The last words the core passed in English inside keyed sentences (i18nlast): the name of the number
 * CCXT could not take exactly and the exchange base URL are keys nested in their errors, so the whole
 * error reads in French. (The Telegram notes, the keychain's operation, the checker's timeouts and the
 * tray are tested beside their services: notifications-i18n, keychain, checker, tray-model.)
 */
import ccxt from 'ccxt';
import Decimal from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { pointExchangeAt } from '../electron/exchanges/urls';
import { toCcxtNumber } from '../electron/trading/ccxt-io';
import { AppError } from '../shared/errors';
import { translate } from '../shared/i18n';

const thrown = (f: () => unknown): AppError => {
  try {
    f();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

describe('the words inside the core errors, by key', () => {
  it('a number CCXT cannot take exactly names the field in the reader\'s language', () => {
    const e = thrown(() => toCcxtNumber(new Decimal('0.12345678901234567'), 'triggerPrice'));
    expect(e.message).toBe('The trigger price 0.12345678901234567 has more significant digits than can be sent exactly (at most 15).');
    expect(translate('fr', e.key, e.params)).toBe("La valeur 0.12345678901234567 (prix de déclenchement) a plus de chiffres significatifs qu'il n'est possible d'envoyer exactement (15 au plus).");
    expect(toCcxtNumber(new Decimal('0.015'), 'amount')).toBe(0.015);
  });

  it('a bad exchange base URL is named in French, the URL itself quoted as it came', () => {
    const e = thrown(() => pointExchangeAt(new ccxt.binance(), 'ftp://127.0.0.1:7700'));
    expect(e.code).toBe('invalid_input');
    expect(e.message).toMatch(/^The exchange base URL must be an http\(s\) URL/);
    expect(translate('fr', e.key, e.params)).toBe("L'URL de base de la plateforme doit être une URL http(s) comme http://127.0.0.1:7700 (reçu « ftp://127.0.0.1:7700 »).");
  });
});
