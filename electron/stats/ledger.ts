import Decimal from 'decimal.js';

/**
 * The P&L ledger: every fill of a broker account (one mode: live or testnet) applied to BOOKS, FIFO
 * within each book, giving round-trip trades with exact realised P&L (quote currency).
 *
 * Books: `manual`; `strategy:<activation id>` (one per bot activation); `webhook:<sender>` (one per
 * webhook sender); `external` (orders found at the exchange, placed outside the app); and the
 * OPENING book of each asset: what the account held before the app first saw it, valued at the
 * price when first seen (`Opening`).
 *
 * A sell closes the lots of the book that sold, oldest first. When that book holds less than it
 * sells (coins held before the app, or bought by another source), the rest comes from the opening
 * book of the asset; beyond that (nothing known of those coins) the rest is counted at the sale's own
 * price — no profit, no loss — and reported as `unmatched`. A book's quantity is therefore never
 * negative. A webhook stop-loss / take-profit exit (`sharedWebhookExit`) sells the webhook position
 * of every sender on that market, so it closes the webhook books' lots oldest first, whichever sender
 * opened them (as the webhook book itself does).
 *
 * Fees: paid in the base currency they reduce the quantity received on a buy, and leave the account
 * with the coins on a sell (they are valued at the fill's price in the fees column); paid in the quote
 * currency they raise the lot's cost (buy) or lower the proceeds (sell); paid in a third currency
 * (e.g. BNB) they are out of the P&L and reported apart (`otherFees`).
 */

const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });
type DD = InstanceType<typeof D>;
const DP = 18;
const d = (x: Decimal.Value): DD => new D(typeof x === 'object' ? x.toFixed() : x);
const out = (x: DD): Decimal => new Decimal(x.toDecimalPlaces(DP).toFixed());

export type Source = 'manual' | 'strategy' | 'webhook' | 'external' | 'opening';

export interface LedgerFill {
  id: string;
  orderId: string | null;
  symbol: string;
  base: string;
  quote: string;
  side: 'buy' | 'sell';
  amount: Decimal;
  price: Decimal;
  fee: Decimal | null;
  feeCurrency: string | null;
  executedAt: Date;
  source: Exclude<Source, 'opening'>;
  /** The activation id (strategy) or the sender's name (webhook); null otherwise. */
  ref: string | null;
  /** A webhook stop-loss / take-profit exit: closes every webhook sender's lots on the market. */
  sharedWebhookExit?: boolean;
}

/** What the account held of an asset when the app first saw it, valued then (in `currency`). */
export interface Opening {
  asset: string;
  quantity: Decimal;
  /** Price of one unit in `currency` at `seenAt`. */
  price: Decimal;
  currency: string;
  seenAt: Date;
}

export interface Trade {
  /** The closing order (or fill when no order) and the book whose lots it closed. */
  key: string;
  closingOrderId: string | null;
  symbol: string;
  base: string;
  quote: string;
  source: Source;
  ref: string | null;
  book: string;
  openedAt: Date;
  closedAt: Date;
  /** Units closed (base currency). */
  amount: Decimal;
  /** Weighted average price of the lots closed, and of the closing fills (before fees). */
  entryPrice: Decimal;
  exitPrice: Decimal;
  /** Cost of the lots closed, fees in the quote or base currency included; proceeds net of fees. */
  cost: Decimal;
  proceeds: Decimal;
  /** Fees paid in the quote or base currency (valued at the fill price), entry and exit, in the quote currency. */
  fees: Decimal;
  pnl: Decimal;
  /** pnl / cost × 100; null when the cost is zero. */
  pnlPct: Decimal | null;
  /** Of `amount`: units taken from the opening book, and units nothing was known of. */
  fromOpening: Decimal;
  unmatched: Decimal;
}

export interface OpenLot {
  symbol: string;
  base: string;
  quote: string;
  book: string;
  source: Source;
  ref: string | null;
  quantity: Decimal;
  unitCost: Decimal;
  openedAt: Date;
}

export interface LedgerResult {
  trades: Trade[];
  lots: OpenLot[];
  /** Fees paid in a third currency, summed per currency. */
  otherFees: { currency: string; amount: Decimal }[];
}

interface Lot {
  symbol: string;
  base: string;
  quote: string;
  qty: DD;
  unitCost: DD;
  price: DD;
  feePerUnit: DD;
  openedAt: Date;
  book: string;
  source: Source;
  ref: string | null;
}

export function bookKey(source: Source, ref: string | null): string {
  return source === 'strategy' || source === 'webhook' ? `${source}:${ref ?? ''}` : source;
}

interface TradeAcc {
  t: Omit<Trade, 'amount' | 'entryPrice' | 'exitPrice' | 'cost' | 'proceeds' | 'fees' | 'pnl' | 'pnlPct' | 'fromOpening' | 'unmatched'>;
  amount: DD;
  gross: DD;
  exitGross: DD;
  exitUnits: DD;
  cost: DD;
  proceeds: DD;
  fees: DD;
  fromOpening: DD;
  unmatched: DD;
}

/** The order fills are applied in: time, then id (a full rebuild and the incremental path agree). */
export function fillOrder(a: Pick<LedgerFill, 'executedAt' | 'id'>, b: Pick<LedgerFill, 'executedAt' | 'id'>): number {
  return a.executedAt.getTime() - b.executedAt.getTime() || a.id.localeCompare(b.id);
}

/** Applies every fill (sorted by time here) to the books of one account (broker and mode). */
export function computeLedger(fills: readonly LedgerFill[], openings: readonly Opening[] = []): LedgerResult {
  const state = new LedgerState(openings);
  for (const f of [...fills].sort(fillOrder)) state.apply(f);
  return state.result();
}

/**
 * The ledger's working state (the FIFO lots of every book, the round-trip trades being summed) kept
 * between fills, so that a new fill — later than every fill applied so far, the normal case — is
 * applied alone, exactly as a rebuild from the first fill would apply it (same code, same precision:
 * the state is never rounded). `apply` refuses a fill older than the last one applied: the caller
 * then rebuilds. `touched` collects the keys of the trades each apply created or changed.
 */
export class LedgerState {
  private readonly lots = new Map<string, Lot[]>();
  private readonly opening = new Map<string, Lot[]>();
  private readonly openingCurrency: Map<string, string>;
  private readonly trades = new Map<string, TradeAcc>();
  private readonly other = new Map<string, DD>();
  /** The last fill applied (fills are applied in `fillOrder`), and how many were. */
  last: Pick<LedgerFill, 'executedAt' | 'id'> | null = null;
  applied = 0;
  readonly touched = new Set<string>();

  constructor(openings: readonly Opening[] = []) {
    for (const o of openings) {
      if (!o.quantity.gt(0)) continue;
      const list = this.opening.get(o.asset) ?? [];
      list.push({ symbol: '', base: o.asset, quote: o.currency, qty: d(o.quantity), unitCost: d(o.price), price: d(o.price), feePerUnit: new D(0), openedAt: o.seenAt, book: 'opening', source: 'opening', ref: null });
      this.opening.set(o.asset, list);
    }
    this.openingCurrency = new Map(openings.map((o) => [o.asset, o.currency]));
  }

  /** True when `f` comes after every fill applied so far. */
  follows(f: Pick<LedgerFill, 'executedAt' | 'id'>): boolean {
    return !this.last || fillOrder(this.last, f) < 0;
  }

  apply(f: LedgerFill): void {
    if (!this.follows(f)) throw new Error(`fill ${f.id} is older than the last one applied`);
    this.last = { executedAt: f.executedAt, id: f.id };
    this.applied++;
    const { lots, opening, openingCurrency, trades, other } = this;
    const amount = d(f.amount);
    const price = d(f.price);
    const fee = f.fee ? d(f.fee) : new D(0);
    const inBase = !!f.fee && f.feeCurrency === f.base;
    const inQuote = !!f.fee && f.feeCurrency === f.quote;
    if (f.fee && f.feeCurrency && !inBase && !inQuote && fee.gt(0)) other.set(f.feeCurrency, (other.get(f.feeCurrency) ?? new D(0)).plus(fee));
    const feeQuote = inQuote ? fee : inBase ? fee.times(price) : new D(0);
    const book = bookKey(f.source, f.ref);
    const k = `${f.symbol}|${book}`;

    if (f.side === 'buy') {
      const units = inBase ? amount.minus(fee) : amount;
      if (units.lte(0)) return;
      const spent = amount.times(price).plus(inQuote ? fee : 0);
      const list = lots.get(k) ?? [];
      list.push({ symbol: f.symbol, base: f.base, quote: f.quote, qty: units, unitCost: spent.div(units), price, feePerUnit: feeQuote.div(units), openedAt: f.executedAt, book, source: f.source, ref: f.ref });
      lots.set(k, list);
      return;
    }

    // a sell: `unitsOut` leave the account for `proceeds`
    const unitsOut = inBase ? amount.plus(fee) : amount;
    if (unitsOut.lte(0)) return;
    const proceeds = amount.times(price).minus(inQuote ? fee : 0);
    const unitProceeds = proceeds.div(unitsOut);
    const exitFeePerUnit = feeQuote.div(unitsOut);
    let left = unitsOut;

    const take = (lot: Lot, q: DD, owner: { book: string; source: Source; ref: string | null }, kind: 'own' | 'opening' | 'none') => {
      const tk = `${f.orderId ?? f.id}|${owner.book}`;
      let acc = trades.get(tk);
      if (!acc) {
        acc = {
          t: { key: tk, closingOrderId: f.orderId, symbol: f.symbol, base: f.base, quote: f.quote, source: owner.source, ref: owner.ref, book: owner.book, openedAt: lot.openedAt, closedAt: f.executedAt },
          amount: new D(0), gross: new D(0), exitGross: new D(0), exitUnits: new D(0), cost: new D(0), proceeds: new D(0), fees: new D(0), fromOpening: new D(0), unmatched: new D(0),
        };
        trades.set(tk, acc);
      }
      this.touched.add(tk);
      if (lot.openedAt < acc.t.openedAt) acc.t.openedAt = lot.openedAt;
      if (f.executedAt > acc.t.closedAt) acc.t.closedAt = f.executedAt;
      acc.amount = acc.amount.plus(q);
      acc.gross = acc.gross.plus(q.times(lot.price));
      acc.cost = acc.cost.plus(q.times(lot.unitCost));
      acc.proceeds = acc.proceeds.plus(q.times(unitProceeds));
      acc.fees = acc.fees.plus(q.times(lot.feePerUnit)).plus(q.times(exitFeePerUnit));
      acc.exitGross = acc.exitGross.plus(q.times(price));
      acc.exitUnits = acc.exitUnits.plus(q);
      if (kind === 'opening') acc.fromOpening = acc.fromOpening.plus(q);
      if (kind === 'none') acc.unmatched = acc.unmatched.plus(q);
      lot.qty = lot.qty.minus(q);
    };
    const drain = (list: Lot[] | undefined, owner: ((lot: Lot) => { book: string; source: Source; ref: string | null }), kind: 'own' | 'opening') => {
      while (list && list.length && left.gt(0)) {
        const lot = list[0]!;
        const q = D.min(left, lot.qty);
        take(lot, q, owner(lot), kind);
        left = left.minus(q);
        if (lot.qty.lte(0)) list.shift();
      }
    };
    const seller = { book, source: f.source as Source, ref: f.ref };
    if (f.sharedWebhookExit) {
      // every webhook book of the market, oldest lot first
      const keys = [...lots.keys()].filter((x) => x.startsWith(`${f.symbol}|webhook:`));
      for (;;) {
        if (!left.gt(0)) break;
        let oldest: Lot[] | undefined;
        for (const x of keys) {
          const l = lots.get(x)!;
          if (l.length && (!oldest || l[0]!.openedAt < oldest[0]!.openedAt)) oldest = l;
        }
        if (!oldest) break;
        const lot = oldest[0]!;
        const q = D.min(left, lot.qty);
        take(lot, q, { book: lot.book, source: lot.source, ref: lot.ref }, 'own');
        left = left.minus(q);
        if (lot.qty.lte(0)) oldest.shift();
      }
    } else drain(lots.get(k), () => seller, 'own');
    // coins the book did not buy: the opening holding (when valued in this market's quote currency)
    if (left.gt(0) && openingCurrency.get(f.base) === f.quote) drain(opening.get(f.base), () => seller, 'opening');
    if (left.gt(0)) {
      // nothing known of these coins: counted at the sale's price (no profit, no loss), reported
      const ghost: Lot = { symbol: f.symbol, base: f.base, quote: f.quote, qty: left, unitCost: unitProceeds, price, feePerUnit: new D(0), openedAt: f.executedAt, book, source: f.source, ref: f.ref };
      take(ghost, left, seller, 'none');
      left = new D(0);
    }
  }

  /** A trade as it stands (null when no fill made it). */
  trade(key: string): Trade | null {
    const a = this.trades.get(key);
    return a ? tradeOf(a) : null;
  }

  /** The open lots of every book, the opening holdings' last. */
  openLots(): OpenLot[] {
    const open: OpenLot[] = [];
    for (const list of [...this.lots.values(), ...this.opening.values()]) {
      for (const l of list) {
        if (!l.qty.gt(0)) continue;
        open.push({ symbol: l.symbol, base: l.base, quote: l.quote, book: l.book, source: l.source, ref: l.ref, quantity: out(l.qty), unitCost: out(l.unitCost), openedAt: l.openedAt });
      }
    }
    return open;
  }

  result(): LedgerResult {
    const tradeList = [...this.trades.values()].map(tradeOf);
    tradeList.sort((x, y) => x.closedAt.getTime() - y.closedAt.getTime() || x.key.localeCompare(y.key));
    return { trades: tradeList, lots: this.openLots(), otherFees: [...this.other.entries()].sort().map(([currency, amount]) => ({ currency, amount: out(amount) })) };
  }
}

function tradeOf(a: TradeAcc): Trade {
    const pnl = a.proceeds.minus(a.cost);
    return {
      ...a.t,
      amount: out(a.amount),
      entryPrice: out(a.amount.gt(0) ? a.gross.div(a.amount) : new D(0)),
      exitPrice: out(a.exitUnits.gt(0) ? a.exitGross.div(a.exitUnits) : new D(0)),
      cost: out(a.cost),
      proceeds: out(a.proceeds),
      fees: out(a.fees),
      pnl: out(pnl),
      pnlPct: a.cost.gt(0) ? out(pnl.div(a.cost).times(100)) : null,
      fromOpening: out(a.fromOpening),
      unmatched: out(a.unmatched),
    };
}
