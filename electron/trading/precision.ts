import Decimal from 'decimal.js';
import { AppError } from '../../shared/errors';
import type { MessageKey, Params, Text } from '../../shared/i18n';
import { listText, worded } from '../exchanges/texts';

/**
 * Order precision and limits, as CCXT describes a market in TICK_SIZE precision mode: the amount
 * moves in steps (e.g. 0.00001 BTC), the price in ticks (e.g. 0.01 USDT), and the exchange sets
 * minimums/maximums for amount, price and cost (amount × price, in the quote currency).
 *
 * All arithmetic here is exact: values are scaled to integers (BigInt) instead of going through
 * decimal.js operations, which round to `Decimal.precision` (20 significant digits by default).
 * Results are plain `Decimal`s of the default constructor.
 */

/** A decimal as it arrives: a Decimal (of any decimal.js clone), a decimal string, or — from CCXT — a number. */
export type DecimalInput = Decimal | string | number;
/** Absent values (undefined / null) mean "no such rule". */
export type MaybeDecimal = DecimalInput | null | undefined;

export interface MinMax {
  min?: MaybeDecimal;
  max?: MaybeDecimal;
}

/** The part of a CCXT market these checks need (CCXT's own market object fits). */
export interface MarketRules {
  /** Base currency, e.g. 'BTC' (the amount's unit; used in messages only). */
  base?: string;
  /** Quote currency, e.g. 'USDT' (the price's and cost's unit; used in messages only). */
  quote?: string;
  precision: { amount?: MaybeDecimal; price?: MaybeDecimal };
  limits?: { amount?: MinMax | null; price?: MinMax | null; cost?: MinMax | null } | null;
}

export type OrderSide = 'buy' | 'sell';
export type OrderKind = 'market' | 'limit';

export interface OrderCheckInput {
  side: OrderSide;
  type: OrderKind;
  amount: DecimalInput;
  /** The limit price; for a market order an optional reference price (e.g. the last price) to estimate the cost. */
  price?: MaybeDecimal;
  market: MarketRules;
}

export type OrderField = 'amount' | 'price' | 'cost';
export type OrderProblemCode =
  | 'amount_invalid'
  | 'amount_below_step'
  | 'amount_below_min'
  | 'amount_above_max'
  | 'price_required'
  | 'price_invalid'
  | 'price_not_on_tick'
  | 'price_below_min'
  | 'price_above_max'
  | 'cost_below_min'
  | 'cost_above_max';

export interface OrderProblem {
  field: OrderField;
  code: OrderProblemCode;
  /** For a person, in English, e.g. "Cost 3.20 USDT is below the minimum 5 USDT" (the key's English wording). */
  message: string;
  /** The same sentence by catalogue key (`coreTrading.problem.*`) and parameters, worded by the renderer. */
  key: MessageKey;
  params: Params;
}

/** A problem of the order check, worded by key (its `message` is the English wording). */
export function orderProblem<F extends string, C extends string>(field: F, code: C, key: MessageKey, params: Record<string, unknown> = {}): { field: F; code: C } & ReturnType<typeof worded> {
  return { field, code, ...worded(key, params) };
}

export interface OrderCheck {
  /** The amount to send: the request truncated (toward zero) to the amount step. */
  amount: Decimal;
  /**
   * Limit orders: the price to send. When it is off the tick this is the nearest price on the tick
   * (half-up), offered as a suggestion alongside a `price_not_on_tick` problem. Market orders: null.
   */
  price: Decimal | null;
  /** amount × price (limit price, or the market order's reference price); null when there is no price. */
  cost: Decimal | null;
  /** Empty when the order may be sent. */
  problems: OrderProblem[];
}

// ---------------------------------------------------------------------------------------------
// Exact scaled-integer arithmetic

function toDecimal(x: DecimalInput): Decimal {
  return x instanceof Decimal ? x : new Decimal(x);
}

/** A finite Decimal, or null for absent / unparsable / non-finite input. */
function optional(x: MaybeDecimal): Decimal | null {
  if (x === undefined || x === null || x === '') return null;
  try {
    const d = toDecimal(x);
    return d.isFinite() ? d : null;
  } catch {
    return null;
  }
}

/** A step or tick: a positive finite decimal, else null (treated as "no rule"). */
function positive(x: MaybeDecimal): Decimal | null {
  const d = optional(x);
  return d && d.gt(0) ? d : null;
}

function requireFinite(x: Decimal, what: string): void {
  if (!x.isFinite()) throw new RangeError(`${what} must be a finite number, got ${x.toString()}`);
}

function requirePositive(x: Decimal, what: string): void {
  requireFinite(x, what);
  if (!x.gt(0)) throw new RangeError(`${what} must be greater than zero, got ${x.toFixed()}`);
}

/** x × 10^scale as a BigInt; exact because `scale` ≥ x.decimalPlaces(). */
function scaled(x: Decimal, scale: number): bigint {
  return BigInt(x.toFixed(scale).replace('.', ''));
}

/** n / 10^scale as a Decimal, exactly. */
function unscaled(n: bigint, scale: number): Decimal {
  if (scale === 0) return new Decimal(n.toString());
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const text = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return new Decimal(negative ? `-${text}` : text);
}

function commonScale(...xs: Decimal[]): number {
  return Math.max(0, ...xs.map((x) => x.decimalPlaces()));
}

/** a × b, exactly. */
export function multiplyExact(a: Decimal, b: Decimal): Decimal {
  requireFinite(a, 'A factor');
  requireFinite(b, 'A factor');
  const sa = a.decimalPlaces();
  const sb = b.decimalPlaces();
  return unscaled(scaled(a, sa) * scaled(b, sb), sa + sb);
}

// ---------------------------------------------------------------------------------------------
// Steps and ticks

/** The largest multiple of `step` not further from zero than `amount` (truncation toward zero). */
export function truncateToStep(amount: Decimal, step: Decimal): Decimal {
  requireFinite(amount, 'The amount');
  requirePositive(step, 'The amount step');
  const scale = commonScale(amount, step);
  const s = scaled(step, scale);
  return unscaled((scaled(amount, scale) / s) * s, scale); // BigInt division truncates toward zero
}

/** The multiple of `tick` nearest to `price`; a price exactly halfway goes away from zero (half-up). */
export function roundToTick(price: Decimal, tick: Decimal): Decimal {
  requireFinite(price, 'The price');
  requirePositive(tick, 'The price tick');
  const scale = commonScale(price, tick);
  const t = scaled(tick, scale);
  const p = scaled(price, scale);
  let q = p / t;
  const r = p % t; // same sign as p
  const twice = r < 0n ? -2n * r : 2n * r;
  if (twice >= t) q += p < 0n ? -1n : 1n;
  return unscaled(q * t, scale);
}

/** Whether `price` is an exact multiple of `tick`. */
export function isOnTick(price: Decimal, tick: Decimal): boolean {
  requireFinite(price, 'The price');
  requirePositive(tick, 'The price tick');
  const scale = commonScale(price, tick);
  return scaled(price, scale) % scaled(tick, scale) === 0n;
}

/**
 * The largest amount on the step whose cost at `price` does not exceed `cost` (e.g. "buy for 100
 * USDT"): floor(cost / (price × step)) × step, computed exactly.
 */
export function amountFromCost(cost: Decimal, price: Decimal, step: Decimal): Decimal {
  requireFinite(cost, 'The cost');
  requirePositive(price, 'The price');
  requirePositive(step, 'The amount step');
  if (cost.lte(0)) return new Decimal(0);
  const unitCost = multiplyExact(price, step);
  const scale = commonScale(cost, unitCost);
  const steps = scaled(cost, scale) / scaled(unitCost, scale);
  return multiplyExact(new Decimal(steps.toString()), step);
}

// ---------------------------------------------------------------------------------------------
// Order check

/** Plain notation (never 1e-7), at least `minDp` decimals, never rounded. */
function fmt(x: Decimal, minDp = 0): string {
  return x.toFixed(Math.max(minDp, x.decimalPlaces()));
}

function unit(currency: string | undefined): string {
  return currency ? ` ${currency}` : '';
}

/**
 * Checks an order against the market's precision and limits before it is sent. The amount is
 * truncated to the step (not a problem by itself); everything that would make the exchange refuse
 * the order is listed in `problems`, each with a message a person can act on. Absent rules
 * (undefined / null precision or limits) are skipped.
 *
 * A market order has no price: pass a reference price to have its cost checked against the limits.
 */
export function checkOrder(input: OrderCheckInput): OrderCheck {
  const { market } = input;
  const base = unit(market.base);
  const quote = unit(market.quote);
  const step = positive(market.precision.amount);
  const tick = positive(market.precision.price);
  const limits = market.limits ?? {};
  const amountMin = optional(limits.amount?.min);
  const amountMax = optional(limits.amount?.max);
  const priceMin = optional(limits.price?.min);
  const priceMax = optional(limits.price?.max);
  const costMin = optional(limits.cost?.min);
  const costMax = optional(limits.cost?.max);
  const problems: OrderProblem[] = [];
  const costDp = tick ? tick.decimalPlaces() : 0;

  // --- amount
  const requested = optional(input.amount);
  const amountOk = requested !== null && requested.gt(0);
  let amount = new Decimal(0);
  if (!requested || !amountOk) {
    const shown = input.amount instanceof Decimal ? input.amount.toString() : String(input.amount);
    problems.push(orderProblem('amount', 'amount_invalid', 'coreTrading.problem.amountInvalid', { amount: shown }));
  } else {
    amount = step ? truncateToStep(requested, step) : requested;
    const rounded = !amount.eq(requested);
    const shown = { requested: fmt(requested), amount: fmt(rounded ? amount : requested), step: fmt(step ?? requested), unit: base };
    if (amountMin && requested.lt(amountMin)) {
      problems.push(orderProblem('amount', 'amount_below_min', 'coreTrading.problem.amountBelowMin', { amount: fmt(requested), min: fmt(amountMin), unit: base }));
    } else if (amountMin && amount.lt(amountMin)) {
      problems.push(orderProblem('amount', 'amount_below_min', rounded ? 'coreTrading.problem.amountRoundedBelowMin' : 'coreTrading.problem.amountBelowMin', { ...shown, min: fmt(amountMin) }));
    } else if (amount.isZero() && step) {
      problems.push(orderProblem('amount', 'amount_below_step', 'coreTrading.problem.amountBelowStep', { amount: fmt(requested), step: fmt(step), unit: base }));
    }
    if (amountMax && amount.gt(amountMax)) {
      problems.push(orderProblem('amount', 'amount_above_max', rounded ? 'coreTrading.problem.amountRoundedAboveMax' : 'coreTrading.problem.amountAboveMax', { ...shown, max: fmt(amountMax) }));
    }
  }

  // --- price
  let price: Decimal | null = null;
  let costPrice: Decimal | null = null;
  const priceGiven = !(input.price === undefined || input.price === null || input.price === '');
  const givenPrice = priceGiven ? optional(input.price) : null;
  if (input.type === 'limit') {
    if (!priceGiven) {
      problems.push(orderProblem('price', 'price_required', 'coreTrading.problem.priceRequired'));
    } else if (!givenPrice || !givenPrice.gt(0)) {
      problems.push(orderProblem('price', 'price_invalid', 'coreTrading.problem.priceInvalid', { price: String(input.price) }));
    } else {
      price = givenPrice;
      if (tick && !isOnTick(givenPrice, tick)) {
        price = roundToTick(givenPrice, tick);
        if (!price.gt(0)) price = tick;
        problems.push(orderProblem('price', 'price_not_on_tick', 'coreTrading.problem.priceNotOnTick', { price: fmt(givenPrice), tick: fmt(tick), nearest: fmt(price) }));
      }
      if (priceMin && givenPrice.lt(priceMin)) {
        problems.push(orderProblem('price', 'price_below_min', 'coreTrading.problem.priceBelowMin', { price: fmt(givenPrice), min: fmt(priceMin), unit: quote }));
      }
      if (priceMax && givenPrice.gt(priceMax)) {
        problems.push(orderProblem('price', 'price_above_max', 'coreTrading.problem.priceAboveMax', { price: fmt(givenPrice), max: fmt(priceMax), unit: quote }));
      }
      costPrice = givenPrice;
    }
  } else if (priceGiven) {
    if (!givenPrice || !givenPrice.gt(0)) {
      problems.push(orderProblem('price', 'price_invalid', 'coreTrading.problem.referencePriceInvalid', { price: String(input.price) }));
    } else {
      costPrice = givenPrice;
    }
  }

  // --- cost (with the price as given, so an off-tick price does not hide a cost problem)
  let cost: Decimal | null = null;
  if (costPrice && amountOk) {
    cost = multiplyExact(amount, costPrice);
    const estimated = input.type === 'market';
    if (costMin && cost.lt(costMin)) {
      problems.push(orderProblem('cost', 'cost_below_min', estimated ? 'coreTrading.problem.estimatedCostBelowMin' : 'coreTrading.problem.costBelowMin', { cost: fmt(cost, costDp), min: fmt(costMin), unit: quote }));
    }
    if (costMax && cost.gt(costMax)) {
      problems.push(orderProblem('cost', 'cost_above_max', estimated ? 'coreTrading.problem.estimatedCostAboveMax' : 'coreTrading.problem.costAboveMax', { cost: fmt(cost, costDp), max: fmt(costMax), unit: quote }));
    }
  }

  return { amount, price, cost, problems };
}

/** The problems as one sentence list, e.g. "Amount … is below …; Cost … is below …" (English). */
export function describeProblems(problems: readonly { message: string }[]): string {
  return problems.map((p) => p.message).join('; ');
}

/**
 * The problems as one message by key (`coreTrading.list` nesting each problem's key and params):
 * its English wording is `describeProblems(problems)`, and the renderer words it in its language.
 */
export function problemsText(problems: readonly { key: string; params?: Params; message: string }[]): Text | string {
  return listText(problems) ?? describeProblems(problems);
}

/** Throws AppError('invalid_order', <the messages>, { problems }) when the check found any. */
export function assertOrderOk(check: OrderCheck): void {
  if (check.problems.length > 0) throw new AppError('invalid_order', 'errors.trading.problems', { problems: problemsText(check.problems) }, { problems: check.problems });
}
