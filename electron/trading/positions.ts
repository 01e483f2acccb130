import Decimal from 'decimal.js';

/**
 * A position from its fills, in order: quantity (base currency, net of fees paid in it), average
 * entry and realised P&L (quote currency). Spot: the quantity never goes below zero. A sale of more
 * than the fills bought sells coins the account held before the app saw it (or got elsewhere): that
 * part has no known cost, so it is counted at the sale's own price (no profit, no loss) and leaves
 * the position flat (the statistics value such coins from the opening book, see electron/stats).
 *
 * Fees: paid in the base currency they change the quantity received or given; paid in the quote
 * currency they raise the entry cost (buy) or lower the proceeds (sell); paid in a third currency
 * (e.g. BNB) they are left out of the P&L.
 */

/** Room for divisions (average prices); stored values are rounded to `DP` decimals. */
const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });
const DP = 18;

export interface PositionFill {
  side: 'buy' | 'sell';
  amount: Decimal;
  price: Decimal;
  fee: Decimal | null;
  feeCurrency: string | null;
}

export interface PositionState {
  quantity: Decimal;
  /** Null when flat. */
  averageEntry: Decimal | null;
  realisedPnl: Decimal;
}

export const FLAT: PositionState = { quantity: new Decimal(0), averageEntry: null, realisedPnl: new Decimal(0) };

const d = (x: Decimal): Decimal => new D(x.toFixed());
const out = (x: Decimal): Decimal => new Decimal(x.toDecimalPlaces(DP).toFixed());

/** One fill applied to a position. */
export function applyFill(state: PositionState, f: PositionFill, market: { base: string; quote: string }): PositionState {
  let qty = d(state.quantity);
  let avg = state.averageEntry ? d(state.averageEntry) : new D(0);
  let realised = d(state.realisedPnl);
  const amount = d(f.amount);
  const price = d(f.price);
  const fee = f.fee ? d(f.fee) : new D(0);
  const feeInBase = f.feeCurrency === market.base;
  const feeInQuote = f.feeCurrency === market.quote;

  if (f.side === 'buy') {
    // `units` arrive for `spent` quote.
    const units = feeInBase ? amount.minus(fee) : amount;
    const spent = amount.times(price).plus(feeInQuote ? fee : 0);
    if (units.lte(0)) return state;
    const unitCost = spent.div(units);
    let left = units;
    if (qty.lt(0)) {
      const closing = D.min(left, qty.neg());
      realised = realised.plus(closing.times(avg.minus(unitCost)));
      qty = qty.plus(closing);
      left = left.minus(closing);
      if (qty.isZero()) avg = new D(0);
    }
    if (left.gt(0)) {
      avg = qty.times(avg).plus(left.times(unitCost)).div(qty.plus(left));
      qty = qty.plus(left);
    }
  } else {
    // `units` leave for `proceeds` quote.
    const units = feeInBase ? amount.plus(fee) : amount;
    const proceeds = amount.times(price).minus(feeInQuote ? fee : 0);
    if (units.lte(0)) return state;
    const unitProceeds = proceeds.div(units);
    let left = units;
    if (qty.gt(0)) {
      const closing = D.min(left, qty);
      realised = realised.plus(closing.times(unitProceeds.minus(avg)));
      qty = qty.minus(closing);
      left = left.minus(closing);
      if (qty.isZero()) avg = new D(0);
    }
    // `left` > 0: coins not bought through the fills (held before): no cost known, nothing realised.
  }
  return { quantity: out(qty), averageEntry: qty.isZero() ? null : out(avg), realisedPnl: out(realised) };
}

export function positionFromFills(fills: readonly PositionFill[], market: { base: string; quote: string }): PositionState {
  return fills.reduce((s, f) => applyFill(s, f, market), FLAT);
}

/** quantity × (price − average entry), or null when there is nothing to value. */
export function unrealisedPnl(state: PositionState, price: Decimal | null): Decimal | null {
  if (!price || !state.averageEntry || state.quantity.isZero()) return state.quantity.isZero() ? new Decimal(0) : null;
  return out(d(state.quantity).times(d(price).minus(d(state.averageEntry))));
}
