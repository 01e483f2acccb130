import Decimal from 'decimal.js';

/**
 * The webhook book: a position computed from the fills of the webhook's OWN orders only (FIFO lots),
 * so its sells never reach coins bought by hand. Long only (spot): a sell consumes the oldest lots
 * first; a sell beyond what the book holds is ignored past zero (the order service refused it, or a
 * fill arrived out of order — it never makes the book negative).
 *
 * Fees paid in the base currency reduce the quantity received (buy) — the coins really held;
 * fees paid in the quote currency raise the lot's cost (buy) or lower the proceeds (sell).
 */

export interface BookFill {
  side: 'buy' | 'sell';
  amount: Decimal;
  price: Decimal;
  fee: Decimal | null;
  feeCurrency: string | null;
}

export interface Book {
  quantity: Decimal;
  /** Cost-weighted average of the open lots (quote per base), null when flat. */
  averageEntry: Decimal | null;
  realisedPnl: Decimal;
  lots: { quantity: Decimal; unitCost: Decimal }[];
}

const D = Decimal.clone({ precision: 60 });
const DP = 18;
const out = (x: Decimal.Value): Decimal => new Decimal(new D(x).toDecimalPlaces(DP).toFixed());

export function bookFromFills(fills: readonly BookFill[], market: { base: string; quote: string }): Book {
  const lots: { quantity: Decimal; unitCost: Decimal }[] = [];
  let realised = new D(0);
  for (const f of fills) {
    const amount = new D(f.amount.toFixed());
    const price = new D(f.price.toFixed());
    const fee = f.fee ? new D(f.fee.toFixed()) : new D(0);
    if (f.side === 'buy') {
      const units = f.feeCurrency === market.base ? amount.minus(fee) : amount;
      if (units.lte(0)) continue;
      const spent = amount.times(price).plus(f.feeCurrency === market.quote ? fee : 0);
      lots.push({ quantity: units, unitCost: spent.div(units) });
    } else {
      // Proceeds of the units sold; a fee in the base currency leaves the account too, for nothing.
      const proceeds = amount.times(price).minus(f.feeCurrency === market.quote ? fee : 0);
      let left = amount.plus(f.feeCurrency === market.base ? fee : 0);
      let basis = new D(0);
      while (left.gt(0) && lots.length) {
        const lot = lots[0]!;
        const take = D.min(left, lot.quantity);
        basis = basis.plus(take.times(lot.unitCost));
        lot.quantity = lot.quantity.minus(take);
        left = left.minus(take);
        if (lot.quantity.lte(0)) lots.shift();
      }
      const covered = amount.plus(f.feeCurrency === market.base ? fee : 0).minus(left);
      // Only the part of the sale the book held counts (the rest is not the webhook's).
      const share = amount.gt(0) ? D.min(covered, amount).div(amount) : new D(0);
      realised = realised.plus(proceeds.times(share)).minus(basis);
    }
  }
  const quantity = lots.reduce((s, l) => s.plus(l.quantity), new D(0));
  const cost = lots.reduce((s, l) => s.plus(l.quantity.times(l.unitCost)), new D(0));
  return {
    quantity: out(quantity),
    averageEntry: quantity.gt(0) ? out(cost.div(quantity)) : null,
    realisedPnl: out(realised),
    lots: lots.map((l) => ({ quantity: out(l.quantity), unitCost: out(l.unitCost) })),
  };
}

/** quantity × (price − average entry); null without a price or when flat. */
export function unrealised(b: { quantity: Decimal; averageEntry: Decimal | null }, price: Decimal | null): Decimal | null {
  if (!price || !b.averageEntry || b.quantity.isZero()) return null;
  return out(new D(b.quantity.toFixed()).times(new D(price.toFixed()).minus(b.averageEntry.toFixed())));
}
