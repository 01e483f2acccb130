import type Decimal from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PriceSeries } from '../series';
import { Engine, type Account, type Order } from './engine';
import { BinanceError } from './errors';
import type { NewOrderRequest, Side, TimeInForce } from './filters';
import { buildMarket, D, fmt } from './markets';

/** The matching engine on its own: locking, fills, commissions, time-in-force, bookkeeping invariants. */

const series = new PriceSeries(42);
const market = buildMarket({ symbol: 'BTC/USDT' }, series);

function setup(balances: Record<string, string>, maxFillPerTick?: string, price: Decimal.Value = 60000) {
  const state = { price: new D(price) as Decimal, clock: 1_700_000_000_000 };
  const engine = new Engine({ priceOf: () => state.price, now: () => state.clock, ...(maxFillPerTick ? { maxFillPerTick } : {}) });
  const account = engine.addAccount({ apiKey: 'k', secret: 's', balances });
  return { state, engine, account };
}

function limit(side: Side, qty: string, price: string, timeInForce: TimeInForce = 'GTC', newClientOrderId?: string): NewOrderRequest {
  const req: NewOrderRequest = { market, side, type: 'LIMIT', timeInForce, quantity: new D(qty), price: new D(price), respType: 'FULL' };
  if (newClientOrderId) req.newClientOrderId = newClientOrderId;
  return req;
}

const bal = (e: Engine, a: Account, asset: string) => `${fmt(e.free(a, asset))}/${fmt(e.locked(a, asset))}`;

describe('matching engine', () => {
  it('a resting SELL locks the base, fills at its limit (maker) and pays the fee in the quote', () => {
    const { state, engine, account } = setup({ BTC: '1' });
    const o = engine.place(account, limit('SELL', '0.5', '61000'));
    expect(o.status).toBe('NEW');
    expect(bal(engine, account, 'BTC')).toBe('0.50000000/0.50000000');
    expect(engine.match()).toBe(0);
    state.price = new D('61500');
    expect(engine.match()).toBe(1);
    expect(o.status).toBe('FILLED');
    expect(o.fills[0]?.isMaker).toBe(true);
    expect(fmt(o.fills[0]?.price ?? new D(0))).toBe('61000.00000000');
    expect(bal(engine, account, 'BTC')).toBe('0.50000000/0.00000000');
    expect(bal(engine, account, 'USDT')).toBe('30469.50000000/0.00000000'); // 30500 − 0.1%
  });

  it('IOC trades what it can now and expires the rest, releasing its lock', () => {
    const { engine, account } = setup({ USDT: '10000' }, '0.004');
    const o = engine.place(account, limit('BUY', '0.01', '61000', 'IOC'));
    expect(o.status).toBe('EXPIRED');
    expect(fmt(o.executedQty)).toBe('0.00400000');
    expect(bal(engine, account, 'USDT')).toBe('9760.00000000/0.00000000');
  });

  it('FOK fills completely or not at all; IOC/FOK that do not cross expire untouched', () => {
    const capped = setup({ USDT: '10000' }, '0.004');
    const fok = capped.engine.place(capped.account, limit('BUY', '0.01', '61000', 'FOK'));
    expect(fok.status).toBe('EXPIRED');
    expect(fok.executedQty.isZero()).toBe(true);
    expect(bal(capped.engine, capped.account, 'USDT')).toBe('10000.00000000/0.00000000');

    const free = setup({ USDT: '10000' });
    expect(free.engine.place(free.account, limit('BUY', '0.01', '61000', 'FOK')).status).toBe('FILLED');
    expect(free.engine.place(free.account, limit('BUY', '0.01', '59000', 'IOC')).status).toBe('EXPIRED');
    expect(free.engine.place(free.account, limit('BUY', '0.01', '59000', 'FOK')).status).toBe('EXPIRED');
    expect(bal(free.engine, free.account, 'USDT')).toBe('9400.00000000/0.00000000');
  });

  it('a client order id is unique among open orders only', () => {
    const { state, engine, account } = setup({ USDT: '10000' });
    engine.place(account, limit('BUY', '0.01', '59000', 'GTC', 'same'));
    expect(() => engine.place(account, limit('BUY', '0.01', '59000', 'GTC', 'same'))).toThrow(/Duplicate order sent/);
    state.price = new D(58000);
    engine.match();
    const again = engine.place(account, limit('BUY', '0.01', '57000', 'GTC', 'same'));
    expect(again.status).toBe('NEW');
    // by client id the newest wins; orderId and client id must agree when both are given
    expect(engine.find(account, market, { origClientOrderId: 'same' })).toBe(again);
    expect(engine.find(account, market, { orderId: again.orderId, origClientOrderId: 'other' })).toBeUndefined();
  });

  // BTC/USDT: 2-decimal prices × 5-decimal quantities; ETH/BTC: 5 × 4 decimals (products past 8
  // decimals, so quote amounts and locks are rounded).
  it.each<{ symbol: string; price: string; tick: string; balances: Record<string, string> }>([
    { symbol: 'BTC/USDT', price: '60000', tick: '10', balances: { USDT: '2000', BTC: '0.05' } },
    { symbol: 'ETH/BTC', price: '0.05123', tick: '0.00007', balances: { BTC: '0.05', ETH: '1' } },
  ])('keeps its books straight under any sequence of orders, cancels, price moves and ticks ($symbol)', (cfg) => {
    const m = buildMarket({ symbol: cfg.symbol }, series);
    type Op =
      | { kind: 'limit'; side: Side; steps: number; offset: number; tif: TimeInForce }
      | { kind: 'market'; side: Side; steps: number }
      | { kind: 'cancel'; index: number }
      | { kind: 'price'; offset: number }
      | { kind: 'cap'; steps: number }
      | { kind: 'tick' };
    const side = fc.constantFrom<Side>('BUY', 'SELL');
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('limit' as const), side, steps: fc.integer({ min: 1, max: 3000 }), offset: fc.integer({ min: -30, max: 30 }), tif: fc.constantFrom<TimeInForce>('GTC', 'GTC', 'IOC', 'FOK') }),
      fc.record({ kind: fc.constant('market' as const), side, steps: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ kind: fc.constant('cancel' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('price' as const), offset: fc.integer({ min: -30, max: 30 }) }),
      fc.record({ kind: fc.constant('cap' as const), steps: fc.integer({ min: 0, max: 1000 }) }),
      fc.constant({ kind: 'tick' as const }),
    );
    const around = (offset: number) => new D(cfg.price).plus(new D(cfg.tick).times(offset));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { state, engine, account } = setup(cfg.balances, undefined, cfg.price);
        const step = m.stepSize;
        for (const o of ops) {
          try {
            if (o.kind === 'limit') {
              engine.place(account, { market: m, side: o.side, type: 'LIMIT', timeInForce: o.tif, quantity: step.times(o.steps), price: around(o.offset), respType: 'FULL' });
            } else if (o.kind === 'market') {
              engine.place(account, { market: m, side: o.side, type: 'MARKET', quantity: step.times(o.steps), respType: 'FULL' });
            } else if (o.kind === 'cancel') {
              const open = engine.openOrders(account, m);
              const target = open[o.index % Math.max(1, open.length)];
              if (target) engine.cancel(account, m, { orderId: target.orderId });
            } else if (o.kind === 'price') {
              state.price = around(o.offset);
            } else if (o.kind === 'cap') {
              engine.setMaxFillPerTick(o.steps === 0 ? null : step.times(o.steps));
            } else {
              engine.match();
            }
          } catch (e) {
            if (!(e instanceof BinanceError) || e.code !== -2010) throw e;
          }
          state.clock += 1000;
          checkBooks(engine, account, m.base, m.quote, cfg.balances);
        }
      }),
      { numRuns: 150 },
    );
  });
});

function checkBooks(engine: Engine, a: Account, base: string, quote: string, initial: Record<string, string>): void {
  const orders: Order[] = engine.ordersOf(a.apiKey);
  let lockedQuote = new D(0);
  let lockedBase = new D(0);
  for (const o of orders) {
    expect(o.executedQty.lte(o.origQty)).toBe(true);
    expect(o.status === 'FILLED').toBe(o.executedQty.eq(o.origQty) && !o.origQty.isZero());
    const open = o.status === 'NEW' || o.status === 'PARTIALLY_FILLED';
    if (!open) expect(o.lockedLeft.isZero()).toBe(true);
    else if (o.side === 'BUY') lockedQuote = lockedQuote.plus(o.lockedLeft);
    else lockedBase = lockedBase.plus(o.lockedLeft);
  }
  expect(engine.locked(a, quote).eq(lockedQuote)).toBe(true);
  expect(engine.locked(a, base).eq(lockedBase)).toBe(true);
  let quoteTotal = new D(initial[quote] ?? 0);
  let baseTotal = new D(initial[base] ?? 0);
  for (const t of engine.tradesOf(a.apiKey)) {
    if (t.isBuyer) {
      quoteTotal = quoteTotal.minus(t.quoteQty);
      baseTotal = baseTotal.plus(t.qty).minus(t.commission);
    } else {
      quoteTotal = quoteTotal.plus(t.quoteQty).minus(t.commission);
      baseTotal = baseTotal.minus(t.qty);
    }
  }
  expect(engine.free(a, quote).plus(engine.locked(a, quote)).eq(quoteTotal)).toBe(true);
  expect(engine.free(a, base).plus(engine.locked(a, base)).eq(baseTotal)).toBe(true);
  expect(engine.free(a, quote).isNegative() || engine.free(a, base).isNegative()).toBe(false);
}
