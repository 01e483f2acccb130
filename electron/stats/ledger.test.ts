import Decimal from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeLedger, LedgerState, type LedgerFill, type LedgerResult } from './ledger';

const t = (n: number) => new Date(Date.UTC(2026, 0, 1, n));
let seq = 0;
const fill = (o: Partial<LedgerFill> & Pick<LedgerFill, 'side' | 'amount' | 'price' | 'source'>, at: number): LedgerFill => ({
  id: `f${String(++seq).padStart(6, '0')}`,
  orderId: null,
  symbol: 'BTC/USDT',
  base: 'BTC',
  quote: 'USDT',
  fee: null,
  feeCurrency: null,
  ref: null,
  executedAt: t(at),
  ...o,
});
const $ = (x: string) => new Decimal(x);

describe('the P&L ledger (books, FIFO within a book)', () => {
  it('a scripted sequence across books matches the hand-computed ledger to the last decimal', () => {
    const fills: LedgerFill[] = [
      // manual buy, two partial fills: fee in the quote, then in the base currency
      fill({ orderId: 'M1', side: 'buy', amount: $('0.3'), price: $('30000'), fee: $('9'), feeCurrency: 'USDT', source: 'manual' }, 1),
      fill({ orderId: 'M1', side: 'buy', amount: $('0.2'), price: $('30100'), fee: $('0.0002'), feeCurrency: 'BTC', source: 'manual' }, 1),
      fill({ orderId: 'W1', side: 'buy', amount: $('1.001'), price: $('30000'), fee: $('0.001'), feeCurrency: 'BTC', source: 'webhook', ref: 'tv-alpha' }, 2),
      fill({ orderId: 'A1', side: 'buy', amount: $('0.1'), price: $('30000'), fee: $('3'), feeCurrency: 'USDT', source: 'strategy', ref: 'act-1' }, 3),
      // manual sells 0.8 (two partial fills) but bought 0.4998: the rest comes from the opening holding
      fill({ orderId: 'M2', side: 'sell', amount: $('0.5'), price: $('31000'), fee: $('15.5'), feeCurrency: 'USDT', source: 'manual' }, 4),
      fill({ orderId: 'M2', side: 'sell', amount: $('0.3'), price: $('31000'), fee: $('9.3'), feeCurrency: 'USDT', source: 'manual' }, 4),
      fill({ orderId: 'W2', side: 'sell', amount: $('0.5'), price: $('29000'), fee: $('14.5'), feeCurrency: 'USDT', source: 'webhook', ref: 'tv-alpha' }, 5),
      // a base-currency fee on a sell: 0.1 BTC leaves the book for 0.0999 × 32000
      fill({ orderId: 'A2', side: 'sell', amount: $('0.0999'), price: $('32000'), fee: $('0.0001'), feeCurrency: 'BTC', source: 'strategy', ref: 'act-1' }, 6),
      fill({ orderId: 'W3', side: 'buy', amount: $('0.2'), price: $('30000'), source: 'webhook', ref: 'tv-beta' }, 7),
      // a webhook stop-loss closes both senders' lots, oldest first; the BNB fee is out of the P&L
      fill({ orderId: 'X1', side: 'sell', amount: $('0.7'), price: $('31000'), fee: $('0.7'), feeCurrency: 'BNB', source: 'webhook', sharedWebhookExit: true }, 8),
      // manual sells what is left of the opening holding, and 0.1002 nothing is known of
      fill({ orderId: 'M3', side: 'sell', amount: $('0.3'), price: $('30000'), source: 'manual' }, 9),
    ];
    const r = computeLedger(fills, [{ asset: 'BTC', quantity: $('0.5'), price: $('20000'), currency: 'USDT', seenAt: t(0) }]);
    const rows = r.trades.map((x) => ({
      order: x.closingOrderId, book: x.book, amount: x.amount.toFixed(), cost: x.cost.toFixed(), proceeds: x.proceeds.toFixed(), fees: x.fees.toFixed(), pnl: x.pnl.toFixed(),
      fromOpening: x.fromOpening.toFixed(), unmatched: x.unmatched.toFixed(), entry: x.entryPrice.toFixed(), exit: x.exitPrice.toFixed(),
    }));
    expect(rows).toEqual([
      // 9009 + 6020 + 0.3002 × 20000 = 21033 against 24800 − 24.8; entry (0.3×30000 + 0.1998×30100 + 0.3002×20000) / 0.8
      { order: 'M2', book: 'manual', amount: '0.8', cost: '21033', proceeds: '24775.2', fees: '39.82', pnl: '3742.2', fromOpening: '0.3002', unmatched: '0', entry: '26272.475', exit: '31000' },
      // half of the 1.000 BTC bought for 30030: 15015 against 14500 − 14.5; fees 15 + 14.5
      { order: 'W2', book: 'webhook:tv-alpha', amount: '0.5', cost: '15015', proceeds: '14485.5', fees: '29.5', pnl: '-529.5', fromOpening: '0', unmatched: '0', entry: '30000', exit: '29000' },
      { order: 'A2', book: 'strategy:act-1', amount: '0.1', cost: '3003', proceeds: '3196.8', fees: '6.2', pnl: '193.8', fromOpening: '0', unmatched: '0', entry: '30000', exit: '32000' },
      { order: 'X1', book: 'webhook:tv-alpha', amount: '0.5', cost: '15015', proceeds: '15500', fees: '15', pnl: '485', fromOpening: '0', unmatched: '0', entry: '30000', exit: '31000' },
      { order: 'X1', book: 'webhook:tv-beta', amount: '0.2', cost: '6000', proceeds: '6200', fees: '0', pnl: '200', fromOpening: '0', unmatched: '0', entry: '30000', exit: '31000' },
      // 0.1998 × (30000 − 20000) from the opening holding; 0.1002 at its own price: 0
      { order: 'M3', book: 'manual', amount: '0.3', cost: '7002', proceeds: '9000', fees: '0', pnl: '1998', fromOpening: '0.1998', unmatched: '0.1002', entry: '23340', exit: '30000' },
    ]);
    expect(r.otherFees.map((x) => [x.currency, x.amount.toFixed()])).toEqual([['BNB', '0.7']]);
    expect(r.lots).toEqual([]);
    const per = new Map<string, Decimal>();
    for (const x of r.trades) per.set(x.book, (per.get(x.book) ?? new Decimal(0)).plus(x.pnl));
    expect(Object.fromEntries([...per].map(([k, v]) => [k, v.toFixed()]))).toEqual({ manual: '5740.2', 'webhook:tv-alpha': '-44.5', 'strategy:act-1': '193.8', 'webhook:tv-beta': '200' });
  });

  it('books never hold a negative quantity; units in = units closed + units still open', () => {
    const books = [['manual', null], ['webhook', 'a'], ['webhook', 'b'], ['strategy', 'x']] as const;
    const fillArb = fc.record({
      side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
      amount: fc.integer({ min: 1, max: 100_000 }).map((n) => new Decimal(n).div(1000)),
      price: fc.integer({ min: 1, max: 1_000_000 }).map((n) => new Decimal(n).div(100)),
      book: fc.integer({ min: 0, max: books.length - 1 }),
      fee: fc.constantFrom<null | 'BTC' | 'USDT' | 'BNB'>(null, 'BTC', 'USDT', 'BNB'),
    });
    fc.assert(
      fc.property(fc.array(fillArb, { maxLength: 40 }), fc.integer({ min: 0, max: 5000 }), (arb, openingMilli) => {
        const fills = arb.map((a, i) => {
          const [source, ref] = books[a.book]!;
          const fee = a.fee === null ? null : a.fee === 'BTC' ? a.amount.div(1000) : new Decimal('0.5');
          return fill({ side: a.side, amount: a.amount, price: a.price, fee, feeCurrency: a.fee, source, ref, orderId: `o${i}` }, i + 1);
        });
        const openingQty = new Decimal(openingMilli).div(1000);
        const r = computeLedger(fills, [{ asset: 'BTC', quantity: openingQty, price: new Decimal(100), currency: 'USDT', seenAt: t(0) }]);
        for (const l of r.lots) expect(l.quantity.gt(0)).toBe(true);
        const unitsIn = fills.filter((f) => f.side === 'buy').reduce((s, f) => s.plus(f.feeCurrency === 'BTC' ? f.amount.minus(f.fee!) : f.amount), openingQty);
        const closed = r.trades.reduce((s, x) => s.plus(x.amount).minus(x.unmatched), new Decimal(0));
        const open = r.lots.reduce((s, l) => s.plus(l.quantity), new Decimal(0));
        expect(unitsIn.minus(closed).minus(open).abs().lte('1e-15')).toBe(true);
        // P&L is proceeds − cost, trade by trade (decimal.js's default 20 significant digits here)
        for (const x of r.trades) expect(x.pnl.minus(x.proceeds.minus(x.cost)).abs().lte('1e-10')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('applying each new fill to the saved state gives exactly what a rebuild from the first fill gives (random sequences)', () => {
    // two markets of one base (the opening BTC is valued in USDT: BTC/EUR sells never draw from it),
    // every book, partial fills (several fills of one order, some at the same instant), fees in the
    // quote, the base and a third currency, webhook stop-loss exits shared by the senders
    const books = [['manual', null], ['webhook', 'a'], ['webhook', 'b'], ['strategy', 'x'], ['external', null]] as const;
    const fillArb = fc.record({
      side: fc.constantFrom<'buy' | 'sell'>('buy', 'buy', 'sell'),
      symbol: fc.constantFrom('BTC/USDT', 'BTC/USDT', 'BTC/EUR'),
      amount: fc.integer({ min: 1, max: 100_000 }).map((n) => new Decimal(n).div(7000)),
      price: fc.integer({ min: 1, max: 1_000_000 }).map((n) => new Decimal(n).div(300)),
      book: fc.integer({ min: 0, max: books.length - 1 }),
      fee: fc.constantFrom<null | 'base' | 'quote' | 'BNB'>(null, 'base', 'quote', 'BNB'),
      sameOrder: fc.boolean(),
      sameTime: fc.boolean(),
      shared: fc.boolean(),
    });
    const plain = (r: LedgerResult) => JSON.parse(JSON.stringify({ ...r, trades: [...r.trades].sort((a, b) => a.key.localeCompare(b.key)) })) as unknown;
    fc.assert(
      fc.property(fc.array(fillArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 40 }), (arb, openingMilli, cut) => {
        let at = 1;
        let order = 0;
        const fills = arb.map((a, i) => {
          const [source, ref] = books[a.book]!;
          if (!(a.sameOrder && i > 0)) order++;
          if (!(a.sameTime && i > 0)) at++;
          const [base, quote] = a.symbol.split('/') as [string, string];
          const feeCurrency = a.fee === null ? null : a.fee === 'base' ? base : a.fee === 'quote' ? quote : 'BNB';
          const fee = a.fee === null ? null : a.fee === 'base' ? a.amount.div(1000) : a.amount.times(a.price).div(997);
          const shared = source === 'webhook' && a.side === 'sell' && a.shared;
          return fill({ side: a.side, symbol: a.symbol, base, quote, amount: a.amount, price: a.price, fee, feeCurrency, source, ref: shared ? null : ref, orderId: `o${order}`, sharedWebhookExit: shared }, at);
        });
        const openings = [{ asset: 'BTC', quantity: new Decimal(openingMilli).div(1000), price: new Decimal(100), currency: 'USDT', seenAt: t(0) }];
        const k = Math.min(cut, fills.length);
        // the saved state: a rebuild of the first k fills; then each later fill applied alone
        const state = new LedgerState(openings);
        for (const f of fills.slice(0, k)) state.apply(f);
        expect(plain(state.result())).toEqual(plain(computeLedger(fills.slice(0, k), openings)));
        for (let i = k; i < fills.length; i++) {
          state.touched.clear();
          const before = new Map(state.result().trades.map((x) => [x.key, JSON.stringify(x)]));
          state.apply(fills[i]!);
          const whole = computeLedger(fills.slice(0, i + 1), openings);
          expect(plain(state.result())).toEqual(plain(whole));
          // what the fill changed is exactly the trades it names as touched
          for (const x of whole.trades) if (before.get(x.key) !== JSON.stringify(x)) expect(state.touched.has(x.key)).toBe(true);
        }
        // a fill older than the last one applied is refused (the caller rebuilds)
        expect(() => state.apply({ ...fills[0]!, id: 'f000', executedAt: t(0) })).toThrow(/older/);
      }),
      { numRuns: 150 },
    );
  });
});
