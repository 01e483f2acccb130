import Decimal from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, parseOrder, toCcxtNumber } from './ccxt-io';
import { newClientOrderId } from './orders';
import { statusFromExchange } from './journal';
import type { Order } from 'ccxt';

describe('the CCXT edge', () => {
  it('numbers from CCXT become the decimals they print as', () => {
    expect(dec(0.1)!.toFixed()).toBe('0.1');
    expect(dec(1e-7)!.toFixed()).toBe('0.0000001');
    expect(dec(60000.01)!.toFixed()).toBe('60000.01');
    expect(dec(undefined)).toBeNull();
    expect(dec(Number.NaN)).toBeNull();
    expect(dec('abc')).toBeNull();
  });

  it('a decimal of up to 15 significant digits goes to CCXT and back unchanged; more is refused', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 999_999_999_999_999n }), fc.integer({ min: 0, max: 18 }), (m, scale) => {
        const d = new Decimal(m.toString()).div(new Decimal(10).pow(scale));
        expect(new Decimal(String(toCcxtNumber(d, 'amount'))).eq(d)).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(() => toCcxtNumber(new Decimal('1.23456789012345678'), 'amount')).toThrow(/more significant digits/);
  });

  it('client order ids fit every exchange’s rules and say their source', () => {
    for (const source of ['manual', 'strategy', 'webhook'] as const) {
      const id = newClientOrderId(source);
      expect(id).toMatch(/^a3[msw][0-9a-f]{24}$/);
      expect(id.length).toBeLessThanOrEqual(36);
    }
    expect(newClientOrderId('manual')).not.toBe(newClientOrderId('manual'));
  });

  it('maps CCXT statuses to the journal’s', () => {
    const o = (status: string, filled: number, amount = 1) => parseOrder({ status, filled, amount } as unknown as Order);
    expect(statusFromExchange(o('open', 0), null)).toBe('open');
    expect(statusFromExchange(o('open', 0.5), null)).toBe('partially_filled');
    expect(statusFromExchange(o('closed', 1), null)).toBe('filled');
    expect(statusFromExchange(o('canceled', 0.2), null)).toBe('cancelled');
    expect(statusFromExchange(o('expired', 0), null)).toBe('cancelled');
    expect(statusFromExchange(o('rejected', 0), null)).toBe('rejected');
  });
});
