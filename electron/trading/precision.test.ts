import Decimal from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors';
import { translate } from '../../shared/i18n';
import { wordError } from '../../shared/i18n/wording';
import { amountFromCost, assertOrderOk, checkOrder, isOnTick, multiplyExact, roundToTick, truncateToStep, type MarketRules } from './precision';

/** The test oracle: decimal.js with far more precision than any generated value needs. */
const Big = Decimal.clone({ precision: 400, rounding: Decimal.ROUND_HALF_UP });
const big = (x: Decimal): Decimal => new Big(x.toFixed());

const RUNS = { numRuns: 400 };

/** A decimal built from an integer mantissa and a power of ten (never through a float). */
function decimalArb(opts: { maxDigits?: number; minExp?: number; maxExp?: number; negative?: boolean } = {}): fc.Arbitrary<Decimal> {
  const max = 10n ** BigInt(opts.maxDigits ?? 30) - 1n;
  return fc
    .tuple(fc.bigInt({ min: opts.negative ? -max : 0n, max }), fc.integer({ min: opts.minExp ?? -24, max: opts.maxExp ?? 12 }))
    .map(([m, e]) => new Decimal(`${m}e${e}`));
}
const positiveArb = (opts: { maxDigits?: number; minExp?: number; maxExp?: number } = {}): fc.Arbitrary<Decimal> => decimalArb(opts).filter((d) => d.gt(0));

/** Steps and ticks as exchanges declare them, plus arbitrary ones. */
const stepArb: fc.Arbitrary<Decimal> = fc.oneof(
  fc.constantFrom('1e-8', '0.00000001', '0.00001', '0.001', '0.01', '0.05', '0.25', '0.5', '1', '10', '100', '5e-7', '1e-18').map((s) => new Decimal(s)),
  fc.tuple(fc.integer({ min: 1, max: 999 }), fc.integer({ min: -18, max: 3 })).map(([m, e]) => new Decimal(`${m}e${e}`)),
);

describe('truncateToStep', () => {
  it('is ≤ the request, less than one step below it, an exact multiple of the step, idempotent', () => {
    fc.assert(
      fc.property(decimalArb(), stepArb, (amount, step) => {
        const t = truncateToStep(amount, step);
        expect(t).toBeInstanceOf(Decimal);
        expect(t.lte(amount)).toBe(true);
        expect(big(amount).minus(big(t)).lt(big(step))).toBe(true);
        expect(t.gte(0)).toBe(true);
        expect(big(t).div(big(step)).isInteger()).toBe(true);
        expect(truncateToStep(t, step).eq(t)).toBe(true);
        // independent oracle
        expect(t.eq(big(amount).div(big(step)).trunc().times(big(step)))).toBe(true);
      }),
      RUNS,
    );
  });

  it('truncates toward zero for negative values (symmetry)', () => {
    fc.assert(
      fc.property(decimalArb({ negative: true }), stepArb, (amount, step) => {
        expect(truncateToStep(amount.neg(), step).eq(truncateToStep(amount, step).neg())).toBe(true);
      }),
      RUNS,
    );
  });

  it('keeps every digit of huge and tiny amounts (no float or 20-digit rounding)', () => {
    expect(truncateToStep(new Decimal('123456789012345678901234.123456789'), new Decimal('1e-8')).toFixed()).toBe('123456789012345678901234.12345678');
    expect(truncateToStep(new Decimal('0.3'), new Decimal('0.1')).toFixed()).toBe('0.3'); // 0.3/0.1 = 2.9999999999999996 in floats
    expect(truncateToStep(new Decimal('0.000000019'), new Decimal('1e-8')).toFixed()).toBe('0.00000001');
    expect(truncateToStep(new Decimal('0.00000000999'), new Decimal('1e-8')).toFixed()).toBe('0');
    expect(truncateToStep(new Decimal('1999.999'), new Decimal('10')).toFixed()).toBe('1990');
    expect(truncateToStep(new Decimal('5'), new Decimal('10')).toFixed()).toBe('0');
    expect(truncateToStep(new Decimal('1.23456789'), new Decimal('0.001')).toFixed()).toBe('1.234');
    expect(truncateToStep(new Decimal('7.5'), new Decimal('2.5')).toFixed()).toBe('7.5');
    expect(truncateToStep(new Decimal('1e30'), new Decimal('0.00001')).toFixed()).toBe('1000000000000000000000000000000');
  });

  it('refuses a zero, negative or non-finite step and a non-finite amount', () => {
    expect(() => truncateToStep(new Decimal(1), new Decimal(0))).toThrow(/step must be greater than zero/);
    expect(() => truncateToStep(new Decimal(1), new Decimal(-0.1))).toThrow(RangeError);
    expect(() => truncateToStep(new Decimal(1), new Decimal(NaN))).toThrow(RangeError);
    expect(() => truncateToStep(new Decimal(Infinity), new Decimal(1))).toThrow(RangeError);
  });
});

describe('roundToTick / isOnTick', () => {
  it('lands on the tick, within half a tick, is idempotent and matches a half-up oracle', () => {
    fc.assert(
      fc.property(decimalArb({ negative: true }), stepArb, (price, tick) => {
        const r = roundToTick(price, tick);
        expect(isOnTick(r, tick)).toBe(true);
        expect(big(r).minus(big(price)).abs().lte(big(tick).div(2))).toBe(true);
        expect(roundToTick(r, tick).eq(r)).toBe(true);
        expect(r.eq(big(price).div(big(tick)).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).times(big(tick)))).toBe(true);
        expect(isOnTick(price, tick)).toBe(r.eq(price));
      }),
      RUNS,
    );
  });

  it('rounds an exact half away from zero (half-up)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), stepArb, (k, tick) => {
        const half = big(tick).times(new Big(k.toString()).plus('0.5'));
        const price = new Decimal(half.toFixed());
        expect(isOnTick(price, tick)).toBe(false);
        expect(roundToTick(price, tick).eq(big(tick).times(new Big((k + 1n).toString())))).toBe(true);
        expect(roundToTick(price.neg(), tick).eq(big(tick).times(new Big((k + 1n).toString())).neg())).toBe(true);
      }),
      RUNS,
    );
  });

  it('handles the classic float traps', () => {
    expect(roundToTick(new Decimal('1.005'), new Decimal('0.01')).toFixed()).toBe('1.01'); // 1.00 with floats
    expect(roundToTick(new Decimal('100.004999'), new Decimal('0.01')).toFixed()).toBe('100');
    expect(roundToTick(new Decimal('0.000000015'), new Decimal('1e-8')).toFixed()).toBe('0.00000002');
    expect(roundToTick(new Decimal('14.99'), new Decimal('10')).toFixed()).toBe('10');
    expect(roundToTick(new Decimal('15'), new Decimal('10')).toFixed()).toBe('20');
    expect(isOnTick(new Decimal('0.3'), new Decimal('0.1'))).toBe(true);
    expect(isOnTick(new Decimal('100.005'), new Decimal('0.01'))).toBe(false);
    expect(isOnTick(new Decimal('12345678901234567890.05'), new Decimal('0.05'))).toBe(true);
  });
});

describe('amountFromCost', () => {
  it('gives the largest amount on the step whose cost does not exceed the budget', () => {
    fc.assert(
      fc.property(positiveArb({ maxDigits: 18, minExp: -8, maxExp: 6 }), positiveArb({ maxDigits: 12, minExp: -10, maxExp: 4 }), stepArb, (cost, price, step) => {
        const amount = amountFromCost(cost, price, step);
        expect(amount.gte(0)).toBe(true);
        expect(big(amount).div(big(step)).isInteger()).toBe(true);
        expect(big(amount).times(big(price)).lte(big(cost))).toBe(true);
        expect(big(amount).plus(big(step)).times(big(price)).gt(big(cost))).toBe(true);
      }),
      RUNS,
    );
  });

  it('examples', () => {
    expect(amountFromCost(new Decimal(100), new Decimal('30000.01'), new Decimal('1e-8')).toFixed()).toBe('0.00333333');
    expect(amountFromCost(new Decimal(100), new Decimal('0.1'), new Decimal('1')).toFixed()).toBe('1000');
    expect(amountFromCost(new Decimal(0), new Decimal('3'), new Decimal('1')).toFixed()).toBe('0');
    expect(() => amountFromCost(new Decimal(10), new Decimal(0), new Decimal('1'))).toThrow(/price must be greater than zero/);
  });
});

describe('multiplyExact', () => {
  it('equals the high-precision product', () => {
    fc.assert(
      fc.property(decimalArb({ negative: true }), decimalArb({ negative: true }), (a, b) => {
        expect(multiplyExact(a, b).eq(big(a).times(big(b)))).toBe(true);
      }),
      RUNS,
    );
  });
});

const BTCUSDT: MarketRules = {
  base: 'BTC',
  quote: 'USDT',
  precision: { amount: '0.00001', price: '0.01' },
  limits: { amount: { min: '0.00001', max: '9000' }, price: { min: '0.01', max: '1000000' }, cost: { min: '5', max: '9000000' } },
};

describe('checkOrder', () => {
  it('orders under the minimum cost are always reported, and only those', () => {
    fc.assert(
      fc.property(
        positiveArb({ maxDigits: 12, minExp: -10, maxExp: 2 }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        stepArb,
        stepArb,
        positiveArb({ maxDigits: 6, minExp: -4, maxExp: 2 }),
        fc.constantFrom<'limit' | 'market'>('limit', 'market'),
        (amount, ticks, step, tick, costMin, type) => {
          const price = new Decimal(big(tick).times(new Big(ticks.toString())).toFixed()); // on the tick
          const market: MarketRules = { base: 'X', quote: 'Q', precision: { amount: step, price: tick }, limits: { cost: { min: costMin, max: null }, amount: null } };
          const res = checkOrder({ side: 'buy', type, amount, price, market });
          const expectedCost = big(amount).div(big(step)).trunc().times(big(step)).times(big(price));
          expect(res.cost?.eq(expectedCost)).toBe(true);
          const reported = res.problems.some((p) => p.code === 'cost_below_min');
          expect(reported).toBe(expectedCost.lt(big(costMin)));
          if (expectedCost.lt(big(costMin))) expect(() => assertOrderOk(res)).toThrow(AppError);
          // an on-tick price and no other limits: nothing else may be reported, except a zero amount
          const others = res.problems.filter((p) => p.code !== 'cost_below_min');
          expect(others.map((p) => p.code)).toEqual(res.amount.isZero() ? ['amount_below_step'] : []);
        },
      ),
      RUNS,
    );
  });

  it('reports amounts below the minimum and off-tick prices, always', () => {
    fc.assert(
      fc.property(positiveArb({ maxDigits: 10, minExp: -12, maxExp: 3 }), positiveArb({ maxDigits: 10, minExp: -12, maxExp: 3 }), stepArb, (amount, minAmount, tick) => {
        const price = new Decimal(big(tick).times(7).plus(big(tick).div(3)).toFixed(60).replace(/0+$/, ''));
        const market: MarketRules = { precision: { amount: null, price: tick }, limits: { amount: { min: minAmount } } };
        const res = checkOrder({ side: 'sell', type: 'limit', amount, price, market });
        expect(res.problems.some((p) => p.code === 'amount_below_min')).toBe(amount.lt(minAmount));
        expect(res.problems.some((p) => p.code === 'price_not_on_tick')).toBe(true);
        expect(res.price && isOnTick(res.price, tick)).toBe(true);
        expect(res.amount.eq(amount)).toBe(true); // no step: the amount is kept as is
      }),
      RUNS,
    );
  });

  it('says what is wrong in words a person can act on', () => {
    const tooSmall = checkOrder({ side: 'buy', type: 'limit', amount: new Decimal('0.000001'), price: new Decimal('30000'), market: BTCUSDT });
    expect(tooSmall.problems.find((p) => p.code === 'amount_below_min')).toEqual({ field: 'amount', code: 'amount_below_min', message: 'Amount 0.000001 is below the minimum 0.00001 BTC', key: 'coreTrading.problem.amountBelowMin', params: { amount: '0.000001', min: '0.00001', unit: ' BTC' } });

    const cheap = checkOrder({ side: 'buy', type: 'limit', amount: new Decimal('0.00032'), price: new Decimal('10000'), market: BTCUSDT });
    expect(cheap.problems).toEqual([{ field: 'cost', code: 'cost_below_min', message: 'Cost 3.20 USDT is below the minimum 5 USDT', key: 'coreTrading.problem.costBelowMin', params: { cost: '3.20', min: '5', unit: ' USDT' } }]);
    expect(cheap.cost?.toFixed()).toBe('3.2');

    const offTick = checkOrder({ side: 'sell', type: 'limit', amount: new Decimal('1'), price: new Decimal('100.005'), market: BTCUSDT });
    expect(offTick.problems).toEqual([{ field: 'price', code: 'price_not_on_tick', message: 'Price 100.005 is not a multiple of the tick 0.01 (nearest valid price: 100.01)', key: 'coreTrading.problem.priceNotOnTick', params: { price: '100.005', tick: '0.01', nearest: '100.01' } }]);
    expect(offTick.price?.toFixed()).toBe('100.01');

    const truncatedBelow = checkOrder({ side: 'buy', type: 'limit', amount: '0.000155', price: '100', market: { ...BTCUSDT, precision: { amount: '0.0001', price: '0.01' }, limits: { amount: { min: '0.00015' } } } });
    expect(truncatedBelow.problems.map((p) => p.message)).toEqual(['Amount 0.000155 (0.0001 after rounding down to the step 0.0001) is below the minimum 0.00015 BTC']);

    const big = checkOrder({ side: 'buy', type: 'limit', amount: '9000.5', price: '2000000', market: BTCUSDT });
    expect(big.problems.map((p) => p.code)).toEqual(['amount_above_max', 'price_above_max', 'cost_above_max']);
    expect(big.problems[0]!.message).toBe('Amount 9000.5 is above the maximum 9000 BTC');
    expect(big.problems[1]!.message).toBe('Price 2000000 USDT is above the maximum 1000000 USDT');
    expect(big.problems[2]!.message).toBe('Cost 18001000000.00 USDT is above the maximum 9000000 USDT');

    const tiny = checkOrder({ side: 'buy', type: 'limit', amount: '0.0000000001', price: '0.001', market: { ...BTCUSDT, precision: { amount: '0.00001', price: '0.0001' }, limits: { price: { min: '0.01' } } } });
    expect(tiny.problems.map((p) => p.message)).toEqual(['Amount 0.0000000001 is smaller than the step 0.00001 BTC', 'Price 0.001 USDT is below the minimum 0.01 USDT']);
  });

  it('truncates a valid amount to the step without calling it a problem', () => {
    const res = checkOrder({ side: 'buy', type: 'limit', amount: new Decimal('0.123456789'), price: new Decimal('30000.01'), market: BTCUSDT });
    expect(res.problems).toEqual([]);
    expect(res.amount.toFixed()).toBe('0.12345');
    expect(res.price?.toFixed()).toBe('30000.01');
    expect(res.cost?.toFixed()).toBe('3703.5012345');
    expect(() => assertOrderOk(res)).not.toThrow();
  });

  it('handles absent limits and precision (undefined, null, missing) gracefully', () => {
    const bare: MarketRules = { precision: {} };
    const a = checkOrder({ side: 'buy', type: 'limit', amount: '0.000000001', price: '123.456789', market: bare });
    expect(a.problems).toEqual([]);
    expect(a.amount.toFixed()).toBe('0.000000001');
    expect(a.cost?.toFixed()).toBe('0.000000123456789');
    const nulls: MarketRules = { precision: { amount: null, price: null }, limits: { amount: { min: null, max: undefined }, price: null, cost: { min: undefined, max: null } } };
    expect(checkOrder({ side: 'sell', type: 'limit', amount: '5', price: '1', market: nulls }).problems).toEqual([]);
    expect(checkOrder({ side: 'sell', type: 'limit', amount: '5', price: '1', market: { precision: { amount: 0, price: '' }, limits: null } }).problems).toEqual([]);
  });

  it('market orders: no price to check; the cost is estimated from a reference price when one is given', () => {
    const noRef = checkOrder({ side: 'buy', type: 'market', amount: '0.00032', market: BTCUSDT });
    expect(noRef).toMatchObject({ price: null, cost: null, problems: [] });
    const withRef = checkOrder({ side: 'buy', type: 'market', amount: '0.00032', price: '10000.005', market: BTCUSDT });
    expect(withRef.price).toBeNull();
    expect(withRef.problems).toEqual([{ field: 'cost', code: 'cost_below_min', message: 'Estimated cost 3.2000016 USDT is below the minimum 5 USDT', key: 'coreTrading.problem.estimatedCostBelowMin', params: { cost: '3.2000016', min: '5', unit: ' USDT' } }]);
  });

  it('reports missing and invalid inputs', () => {
    expect(checkOrder({ side: 'buy', type: 'limit', amount: '1', market: BTCUSDT }).problems.map((p) => p.code)).toEqual(['price_required']);
    expect(checkOrder({ side: 'buy', type: 'limit', amount: '1', price: '-3', market: BTCUSDT }).problems.map((p) => p.code)).toEqual(['price_invalid']);
    expect(checkOrder({ side: 'buy', type: 'limit', amount: '0', price: '3', market: BTCUSDT }).problems.map((p) => p.message)).toEqual(['Amount 0 is not a positive number']);
    expect(checkOrder({ side: 'buy', type: 'limit', amount: 'abc', price: '3', market: BTCUSDT }).problems.map((p) => p.code)).toEqual(['amount_invalid']);
    expect(checkOrder({ side: 'buy', type: 'limit', amount: new Decimal(NaN), price: '3', market: BTCUSDT }).problems.map((p) => p.code)).toEqual(['amount_invalid']);
    const err = (() => {
      try {
        assertOrderOk(checkOrder({ side: 'buy', type: 'limit', amount: '0.000001', price: '100.005', market: BTCUSDT }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'invalid_order', message: expect.stringMatching(/^Amount 0\.000001 is below the minimum 0\.00001 BTC; Price 100\.005 is not a multiple/) });
  });

  it('words every problem by key: the English message is the key\'s English, French by the same key and params', () => {
    const market = { ...BTCUSDT, limits: { ...BTCUSDT.limits, amount: { min: '0.000015', max: '9000' } } };
    const check = checkOrder({ side: 'buy', type: 'limit', amount: '0.000018', price: '100.005', market });
    expect(check.problems.length).toBeGreaterThan(1);
    for (const p of check.problems) expect(translate('en', p.key, p.params)).toBe(p.message);
    expect(check.problems.map((p) => translate('fr', p.key, p.params))).toEqual([
      'La quantité 0,000018 (0,00001 une fois arrondie au pas de 0,00001) est inférieure au minimum de 0,000015 BTC',
      'Le prix 100,005 n’est pas un multiple de l’échelon de prix 0,01 (prix valide le plus proche : 100,01)',
      'Le montant 0,00100005 USDT est inférieur au minimum de 5 USDT',
    ]);
    // The whole refusal: English for scripts, the same lines in French from its key and nested params.
    let err: AppError | undefined;
    try {
      assertOrderOk(check);
    } catch (e) {
      err = e as AppError;
    }
    expect(err?.message).toBe(check.problems.map((p) => p.message).join('; '));
    expect(wordError('fr', err!.toPayload())).toBe(check.problems.map((p) => translate('fr', p.key, p.params)).join(' ; '));
  });

  it('accepts CCXT numbers and Decimals of other decimal.js clones exactly', () => {
    const ccxt: MarketRules = { base: 'ETH', quote: 'BTC', precision: { amount: 0.0001, price: 0.000001 }, limits: { amount: { min: 0.0001, max: 100000 }, cost: { min: 0.0001, max: undefined }, price: { min: 0.000001, max: 1000 } } };
    const D = Decimal.clone({ precision: 60 });
    const res = checkOrder({ side: 'buy', type: 'limit', amount: new D('0.30009'), price: new D('0.052301'), market: ccxt });
    expect(res.problems).toEqual([]);
    expect(res.amount).toBeInstanceOf(Decimal);
    expect(res.amount.toFixed()).toBe('0.3');
    expect(res.cost?.toFixed()).toBe('0.0156903');
    expect(checkOrder({ side: 'buy', type: 'limit', amount: '100', price: '0.0000015', market: ccxt }).problems.map((p) => p.code)).toEqual(['price_not_on_tick']);
  });
});
