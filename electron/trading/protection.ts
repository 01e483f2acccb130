import type { Exchange, Market } from 'ccxt';
import type Decimal from 'decimal.js';
import type { MessageKey, Params } from '../../shared/i18n';
import { worded } from '../exchanges/texts';

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
  | { native: false; reason: string; reasonKey: MessageKey; reasonParams: Params };

/** Not native, and why: English, and by key and parameters (`coreTrading.protection.*`). */
function watched(key: MessageKey, params: Record<string, unknown>): NativeSupport {
  const w = worded(key, params);
  return { native: false, reason: w.message, reasonKey: w.key, reasonParams: w.params };
}

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
  if (!m) return watched('coreTrading.protection.noMarket', { exchange: ex.id, symbol });
  const features = createOrderFeatures(ex, m);
  for (const leg of legs) {
    const has = leg === 'stop_loss' ? ex.has['createStopLossOrder'] : ex.has['createTakeProfitOrder'];
    const feature = features?.[leg === 'stop_loss' ? 'stopLossPrice' : 'takeProfitPrice'];
    if (!has || feature !== true) return watched('coreTrading.protection.ccxtCannot', { leg: { key: `coreTrading.protection.leg.${leg}` }, exchange: ex.id, kind: m.type ?? 'spot' });
  }
  const info = (m.info ?? {}) as { orderTypes?: unknown; ocoAllowed?: unknown };
  if (isBinanceFamily(ex)) {
    const types = Array.isArray(info.orderTypes) ? (info.orderTypes as string[]) : [];
    for (const leg of legs) {
      const type = leg === 'stop_loss' ? 'STOP_LOSS' : 'TAKE_PROFIT';
      if (!types.includes(type)) return watched('coreTrading.protection.typeNotAccepted', { exchange: ex.id, type, symbol });
    }
    if (legs.length === 2) {
      if (m.spot && info.ocoAllowed !== true) return watched('coreTrading.protection.noOco', { exchange: ex.id, symbol });
      return { native: true, how: m.spot ? 'oco' : 'separate' };
    }
    return { native: true, how: 'single' };
  }
  return { native: true, how: legs.length === 2 ? 'separate' : 'single' };
}

export interface LevelProblem {
  path: string;
  /** English; `key`/`params` (`coreTrading.level.*`) word the same in the renderer's language. */
  message: string;
  key: MessageKey;
  params: Params;
}

const level = (path: string, key: MessageKey, params: Record<string, unknown> = {}): LevelProblem => ({ path, ...worded(key, params) });

/**
 * A long position's levels against the reference price (the entry, or the last price): the
 * stop-loss below it, the take-profit above it, both positive numbers.
 */
export function checkLevels(levels: { stopLoss: Decimal | null; takeProfit: Decimal | null }, reference: Decimal | null): LevelProblem[] {
  const problems: LevelProblem[] = [];
  const { stopLoss: sl, takeProfit: tp } = levels;
  if (!sl && !tp) problems.push(level('stopLoss', 'coreTrading.level.required'));
  if (sl && !sl.gt(0)) problems.push(level('stopLoss', 'coreTrading.level.stopLossNotPositive', { price: sl.toFixed() }));
  if (tp && !tp.gt(0)) problems.push(level('takeProfit', 'coreTrading.level.takeProfitNotPositive', { price: tp.toFixed() }));
  if (problems.length) return problems;
  if (sl && tp && !sl.lt(tp)) problems.push(level('stopLoss', 'coreTrading.level.stopLossAboveTakeProfit', { stopLoss: sl.toFixed(), takeProfit: tp.toFixed() }));
  if (reference) {
    if (sl && !sl.lt(reference)) problems.push(level('stopLoss', 'coreTrading.level.stopLossNotBelowPrice', { stopLoss: sl.toFixed(), price: reference.toFixed() }));
    if (tp && !tp.gt(reference)) problems.push(level('takeProfit', 'coreTrading.level.takeProfitNotAbovePrice', { takeProfit: tp.toFixed(), price: reference.toFixed() }));
  }
  return problems;
}
