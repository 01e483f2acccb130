import Decimal from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyFill, FLAT, positionFromFills, unrealisedPnl, type PositionFill } from './positions';

const M = { base: 'BTC', quote: 'USDT' };
const dec = (mantissa: bigint, scale: number) => new Decimal(mantissa.toString()).div(new Decimal(10).pow(scale));
const amountArb = fc.bigInt({ min: 1n, max: 10_000_000n }).map((n) => dec(n, 5)); // 0.00001 … 100
const priceArb = fc.bigInt({ min: 1n, max: 10_000_000n }).map((n) => dec(n, 2)); // 0.01 … 100000
const fillArb: fc.Arbitrary<PositionFill> = fc.record({
  side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
  amount: amountArb,
  price: priceArb,
  fee: fc.constant(null),
  feeCurrency: fc.constant(null),
});

const close = (a: Decimal, b: Decimal, eps = '1e-9') => expect(a.minus(b).abs().lte(eps)).toBe(true);

describe('positions from fills', () => {
  it('buying twice averages the entry; selling part realises against it', () => {
    let p = applyFill(FLAT, { side: 'buy', amount: new Decimal('1'), price: new Decimal('100'), fee: null, feeCurrency: null }, M);
    p = applyFill(p, { side: 'buy', amount: new Decimal('3'), price: new Decimal('200'), fee: null, feeCurrency: null }, M);
    expect(p.quantity.toFixed()).toBe('4');
    expect(p.averageEntry!.toFixed()).toBe('175');
    p = applyFill(p, { side: 'sell', amount: new Decimal('2'), price: new Decimal('250'), fee: null, feeCurrency: null }, M);
    expect(p).toEqual({ quantity: new Decimal('2'), averageEntry: new Decimal('175'), realisedPnl: new Decimal('150') });
    expect(unrealisedPnl(p, new Decimal('180'))!.toFixed()).toBe('10');
  });

  it('fees: in the base currency they change the quantity, in the quote currency the cost or proceeds', () => {
    const buy = applyFill(FLAT, { side: 'buy', amount: new Decimal('1'), price: new Decimal('100'), fee: new Decimal('0.001'), feeCurrency: 'BTC' }, M);
    expect(buy.quantity.toFixed()).toBe('0.999');
    expect(buy.averageEntry!.times(buy.quantity).toDecimalPlaces(10).toFixed()).toBe('100');
    const sell = applyFill(buy, { side: 'sell', amount: new Decimal('0.999'), price: new Decimal('110'), fee: new Decimal('0.1'), feeCurrency: 'USDT' }, M);
    expect(sell.quantity.toFixed()).toBe('0');
    expect(sell.averageEntry).toBeNull();
    expect(sell.realisedPnl.toDecimalPlaces(10).toFixed()).toBe('9.79'); // 109.89 − 0.1 − 100
    const bnb = applyFill(FLAT, { side: 'buy', amount: new Decimal('1'), price: new Decimal('100'), fee: new Decimal('0.01'), feeCurrency: 'BNB' }, M);
    expect(bnb).toEqual({ quantity: new Decimal('1'), averageEntry: new Decimal('100'), realisedPnl: new Decimal('0') });
  });

  it('selling more than held never goes negative: the extra coins were held before (no cost known, no P&L)', () => {
    let p = applyFill(FLAT, { side: 'buy', amount: new Decimal('1'), price: new Decimal('100'), fee: null, feeCurrency: null }, M);
    p = applyFill(p, { side: 'sell', amount: new Decimal('3'), price: new Decimal('120'), fee: null, feeCurrency: null }, M);
    expect(p).toEqual({ quantity: new Decimal('0'), averageEntry: null, realisedPnl: new Decimal('20') });
    // a coin held before the app, sold first: flat, nothing realised
    const pre = applyFill(FLAT, { side: 'sell', amount: new Decimal('0.5'), price: new Decimal('120'), fee: null, feeCurrency: null }, M);
    expect(pre).toEqual({ quantity: new Decimal('0'), averageEntry: null, realisedPnl: new Decimal('0') });
    p = applyFill(pre, { side: 'buy', amount: new Decimal('2'), price: new Decimal('90'), fee: null, feeCurrency: null }, M);
    expect(p).toEqual({ quantity: new Decimal('2'), averageEntry: new Decimal('90'), realisedPnl: new Decimal('0') });
  });

  it('quantity is the running sum of the fills floored at zero; a flat book realised exactly proceeds − cost of what it bought', () => {
    fc.assert(
      fc.property(fc.array(fillArb, { minLength: 1, maxLength: 30 }), (fills) => {
        const p = positionFromFills(fills, M);
        let held = new Decimal(0);
        // the fills as the position counts them: a sale beyond what is held sells only what is held
        const counted: PositionFill[] = [];
        for (const f of fills) {
          const amount = f.side === 'buy' ? f.amount : Decimal.min(f.amount, held);
          held = f.side === 'buy' ? held.plus(f.amount) : held.minus(amount);
          if (amount.gt(0)) counted.push({ ...f, amount });
        }
        expect(p.quantity.gte(0)).toBe(true);
        expect(p.quantity.eq(held)).toBe(true);
        const last = fills.at(-1)!.price;
        const all: PositionFill[] = held.isZero() ? counted : [...counted, { side: 'sell', amount: held, price: last, fee: null, feeCurrency: null }];
        const flat = positionFromFills(all, M);
        expect(flat.quantity.isZero()).toBe(true);
        expect(flat.averageEntry).toBeNull();
        const cash = all.reduce((s, f) => (f.side === 'sell' ? s.plus(f.amount.times(f.price)) : s.minus(f.amount.times(f.price))), new Decimal(0));
        close(flat.realisedPnl, cash, '1e-6');
        close(positionFromFills(counted, M).realisedPnl, p.realisedPnl, '1e-9');
        if (!held.isZero()) close(p.realisedPnl.plus(unrealisedPnl(p, last)!), cash, '1e-6');
      }),
      { numRuns: 300 },
    );
  });
});
