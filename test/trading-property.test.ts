import Decimal from 'decimal.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../shared/errors';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import type { OrderService } from '../electron/trading/orders';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, type TestDb } from './support/db';

/**
 * Properties of the order service against the simulator: an order under the market's minimum cost
 * never reaches the exchange (whatever its side, type, amount and price), and is journaled as
 * rejected with the reason; an order's amount as sent is the request truncated to the step.
 */

let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;
let orders: OrderService;

beforeAll(async () => {
  const creds = generateCredentials();
  sim = await startExchangeSim({ accounts: [{ ...creds, balances: { USDT: '1000000', BTC: '100', ETH: '1000' } }] });
  sim.series.setPrice('BTC/USDT', '60000');
  sim.series.setPrice('ETH/USDT', '3000');
  tdb = await createTestDb();
  tr = await directTrading(tdb.db, sim.url, creds);
  orders = tr.service();
}, 60_000);
afterAll(async () => {
  await orders?.stop();
  await tdb?.close();
  await sim?.close();
});

const posts = () => sim.requestLog.filter((r) => r.method === 'POST' && r.path.startsWith('/api/v3/order')).length;

/** A multiple of `step` from `min` steps to `max` steps, built from integers (never floats). */
const onStep = (step: string, min: bigint, max: bigint) => fc.bigInt({ min, max }).map((n) => new Decimal(n.toString()).times(step));

describe('the order service', () => {
  it('never sends an order whose cost is under the minimum, and journals it as rejected', async () => {
    // BTC/USDT: step 0.00001, tick 0.01, minimum cost 5 USDT. ETH/USDT: step 0.0001, tick 0.01, min cost 5.
    const market = fc.constantFrom({ symbol: 'BTC/USDT', step: '0.00001', last: '60000' }, { symbol: 'ETH/USDT', step: '0.0001', last: '3000' });
    const order = market.chain((m) =>
      fc.record({
        m: fc.constant(m),
        side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
        type: fc.constantFrom<'market' | 'limit'>('market', 'limit'),
        amount: onStep(m.step, 1n, 100_000n),
        price: onStep('0.01', 1n, 100_000_000n),
      }),
    ).filter(({ m, type, amount, price }) => amount.times(type === 'limit' ? price : m.last).lt(5));

    await fc.assert(
      fc.asyncProperty(order, async ({ m, side, type, amount, price }) => {
        const before = posts();
        const error = await orders
          .place(tr.profileId, { brokerId: tr.brokerId, symbol: m.symbol, side, type, amount: amount.toFixed(), price: type === 'limit' ? price.toFixed() : undefined, source: 'strategy' })
          .then(() => null, (e: unknown) => e);
        expect(posts()).toBe(before);
        expect(isAppError(error) && error.code).toBe('invalid_order');
        const problems = (isAppError(error) ? (error.details as { problems: { code: string }[] }).problems : []).map((p) => p.code);
        expect(problems).toContain('cost_below_min');
        const row = (error as { details: { order: { status: string; source: string; errorCode: string } } }).details.order;
        expect(row).toMatchObject({ status: 'rejected', source: 'strategy', errorCode: 'invalid_order' });
      }),
      { numRuns: 60 },
    );
    expect(sim.orders(tr.credentials.apiKey)).toEqual([]);
  });

  it('sends the amount truncated to the step: ≤ the request, within one step, on the step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 10_000n, max: 99_999_999n }), fc.integer({ min: 5, max: 9 }), async (mantissa, scale) => {
        // 0.0001… BTC with up to 9 decimals, bought with a limit price far below the market (stays open)
        const requested = new Decimal(mantissa.toString()).div(new Decimal(10).pow(scale));
        const v = await orders.validate(tr.profileId, { brokerId: tr.brokerId, symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount: requested.toFixed(), price: '1000' }, { quick: true });
        const sent = v.amount!;
        expect(sent.lte(requested)).toBe(true);
        expect(requested.minus(sent).lt('0.00001')).toBe(true);
        expect(sent.div('0.00001').isInteger()).toBe(true);
        if (v.ok) expect(sent.times(1000).gte(5)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
