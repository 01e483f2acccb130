import Decimal from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, parseOrder, parseTrade, toCcxtNumber } from './ccxt-io';
import { newClientOrderId } from './orders';
import { statusFromExchange } from './journal';
import type { Order, Trade } from 'ccxt';

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

  it('a fill costs price × amount exactly, however many digits that takes', () => {
    // 15 + 15 significant digits: a product of 30 digits (Decimal's default precision would round it to 20).
    const t = parseTrade({ id: '1', symbol: 'ETH/USDT', side: 'buy', price: 12345.6789012345, amount: 0.123456789012345, timestamp: 1 } as unknown as Trade)!;
    expect(t.cost.toFixed()).toBe('1524.1578753238669120562399025');
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 999_999_999_999_999n }), fc.integer({ min: 0, max: 12 }), fc.bigInt({ min: 1n, max: 999_999_999_999_999n }), fc.integer({ min: 0, max: 15 }), (pm, ps, am, as) => {
        const price = Number(new Decimal(pm.toString()).div(new Decimal(10).pow(ps)).toFixed());
        const amount = Number(new Decimal(am.toString()).div(new Decimal(10).pow(as)).toFixed());
        const trade = parseTrade({ id: '2', symbol: 'ETH/USDT', side: 'sell', price, amount, timestamp: 1 } as unknown as Trade)!;
        expect(trade.cost.toFixed()).toBe(exact(String(price), String(amount)));
      }),
      { numRuns: 300 },
    );
  });

  it('an order keeps every fee currency, summed per currency', () => {
    const o = parseOrder({ status: 'closed', fees: [{ cost: 0.0005, currency: 'BNB' }, { cost: 0.3, currency: 'USDT' }, { cost: 0.0001, currency: 'BNB' }] } as unknown as Order);
    expect(o.fees.map((f) => [f.cost.toFixed(), f.currency])).toEqual([
      ['0.0006', 'BNB'],
      ['0.3', 'USDT'],
    ]);
    expect(parseOrder({ status: 'closed', fee: { cost: 0.1, currency: 'USDT' } } as unknown as Order).fees.map((f) => f.currency)).toEqual(['USDT']);
  });
});

/** The exact product of two decimal strings, by integer arithmetic (an independent check). */
function exact(a: string, b: string): string {
  const parse = (x: string) => {
    const d = new Decimal(x);
    const [int, frac = ''] = d.toFixed().split('.');
    return { digits: BigInt(int + frac), scale: frac.length };
  };
  const x = parse(a);
  const y = parse(b);
  const scale = x.scale + y.scale;
  const digits = (x.digits * y.digits).toString().padStart(scale + 1, '0');
  const out = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return new Decimal(out).toFixed();
}
