import type { Exchange, Market } from 'ccxt';
import type Decimal from 'decimal.js';

/**
 * Native stop-loss / take-profit: whether an exchange can hold them for a position, and whether the
 * levels make sense. A long position (spot) is protected by SELL orders: the stop-loss below the
 * price, the take-profit above it.
 *
 * What CCXT says decides (its manual: `exchange.has['createStopLossOrder']` /
 * `['createTakeProfitOrder']`, and `exchange.features[<market type>].createOrder.stopLossPrice` /
 * `.takeProfitPrice`), then what the exchange lists for the market: Binance's `orderTypes` for the
 * symbol (STOP_LOSS, TAKE_PROFIT) and `ocoAllowed` for the pair. On Binance spot both legs must be
 * one OCO order list: two separate sell orders would each lock the same coins, and the second would
 * be refused. Elsewhere the two legs are separate orders and the app cancels the other leg when one
 * fills (OCO emulated).
 */

export type ProtectLeg = 'stop_loss' | 'take_profit';

export type NativeSupport =
  | { native: true; how: 'oco' | 'separate' | 'single' }
  | { native: false; reason: string };

const LABEL: Record<ProtectLeg, string> = { stop_loss: 'stop-loss', take_profit: 'take-profit' };

/** CCXT's `features` entry for the market's kind (spot, or swap/future split by linear/inverse). */
function createOrderFeatures(ex: Exchange, m: NonNullable<Market>): Record<string, unknown> | null {
  const all = (ex as unknown as { features?: Record<string, unknown> }).features;
  const kind = all?.[String(m.type ?? 'spot')] as Record<string, unknown> | undefined;
  if (!kind) return null;
  const sub = kind['createOrder'] ? kind : (kind[m.inverse ? 'inverse' : 'linear'] as Record<string, unknown> | undefined);
  return (sub?.['createOrder'] as Record<string, unknown> | undefined) ?? null;
}

const isBinanceFamily = (ex: Exchange): boolean => ex.id === 'binance' || ex.id === 'binanceus';

export function nativeSupport(ex: Exchange, symbol: string, legs: readonly ProtectLeg[]): NativeSupport {
  const m = ex.markets?.[symbol];
  if (!m) return { native: false, reason: `${ex.id} has no market ${symbol}.` };
  const features = createOrderFeatures(ex, m);
  for (const leg of legs) {
    const has = leg === 'stop_loss' ? ex.has['createStopLossOrder'] : ex.has['createTakeProfitOrder'];
    const feature = features?.[leg === 'stop_loss' ? 'stopLossPrice' : 'takeProfitPrice'];
    if (!has || feature !== true) return { native: false, reason: `CCXT does not place ${LABEL[leg]} orders on ${ex.id} ${m.type ?? 'spot'} markets.` };
  }
  const info = (m.info ?? {}) as { orderTypes?: unknown; ocoAllowed?: unknown };
  if (isBinanceFamily(ex)) {
    const types = Array.isArray(info.orderTypes) ? (info.orderTypes as string[]) : [];
    for (const leg of legs) {
      const type = leg === 'stop_loss' ? 'STOP_LOSS' : 'TAKE_PROFIT';
      if (!types.includes(type)) return { native: false, reason: `${ex.id} does not accept ${type} orders on ${symbol}.` };
    }
    if (legs.length === 2) {
      if (m.spot && info.ocoAllowed !== true) return { native: false, reason: `${ex.id} does not allow OCO orders on ${symbol}, and two separate sell orders cannot both hold the same coins.` };
      return { native: true, how: m.spot ? 'oco' : 'separate' };
    }
    return { native: true, how: 'single' };
  }
  return { native: true, how: legs.length === 2 ? 'separate' : 'single' };
}

export interface LevelProblem {
  path: string;
  message: string;
}

/**
 * A long position's levels against the reference price (the entry, or the last price): the
 * stop-loss below it, the take-profit above it, both positive numbers.
 */
export function checkLevels(levels: { stopLoss: Decimal | null; takeProfit: Decimal | null }, reference: Decimal | null): LevelProblem[] {
  const problems: LevelProblem[] = [];
  const { stopLoss: sl, takeProfit: tp } = levels;
  if (!sl && !tp) problems.push({ path: 'stopLoss', message: 'give a stop-loss, a take-profit or both' });
  if (sl && !sl.gt(0)) problems.push({ path: 'stopLoss', message: `the stop-loss ${sl.toFixed()} is not a positive price` });
  if (tp && !tp.gt(0)) problems.push({ path: 'takeProfit', message: `the take-profit ${tp.toFixed()} is not a positive price` });
  if (problems.length) return problems;
  if (sl && tp && !sl.lt(tp)) problems.push({ path: 'stopLoss', message: `the stop-loss ${sl.toFixed()} must be below the take-profit ${tp.toFixed()}` });
  if (reference) {
    if (sl && !sl.lt(reference)) problems.push({ path: 'stopLoss', message: `the stop-loss ${sl.toFixed()} must be below the price ${reference.toFixed()} for a long position` });
    if (tp && !tp.gt(reference)) problems.push({ path: 'takeProfit', message: `the take-profit ${tp.toFixed()} must be above the price ${reference.toFixed()} for a long position` });
  }
  return problems;
}
